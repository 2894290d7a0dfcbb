import DouyinOpenAPI
import Foundation

/// Rewrites one certificate API answer into the drifted shapes Douyin and third-party SDK samples
/// show, without changing what it means: the fault kind `drift` and the built-in profile `wild`.
///
/// Each answer draws, from its own seed (so a sandbox seed and a request order give the same
/// bytes), which of these it shows:
///
/// | drift | shape |
/// |---|---|
/// | numbers as strings | ids (`certificate_id`, `poi_id`), `status`, `used_status_type`, `verify_type`, `time_card` counters, serial numbers, amounts (fen), times — each as a decimal string, field by field at random |
/// | string error codes | `error_code` / `sub_error_code` of `data` and `extra` as strings (`"error_code":"0"`) |
/// | milliseconds | `start_time`, `expire_time`, `verify_time` (of `verify` and `verify_records`) and `extra.now` × 1000 |
/// | unknown fields | members certwatch does not know in the certificate, `data` and `extra` |
/// | error only in `data` | an error answer without `extra.error_code` / `description` / `sub_*` (the code only in `data`) |
/// | odd descriptive types | `sku.market_price` as a non-numeric string (`"面议"`), `book_info` as a string holding its JSON |
/// | trailing newline | the body ends with `\n` |
/// | ids as numbers (list APIs) | decimal-string ids of orders and verify records (`order_id`, `certificate_id`, `sku_id`, `poi_id`, `verify_id`, `order_item_id`, `cursor`) as JSON numbers, field by field at random |
/// | `records_v2` (verify records) | the records under `records_v2` instead of `records`, or under both |
///
/// The list APIs' answers (`data.orders`, `data.records`) drift the same way: numbers as strings
/// (their counters, amounts, times, `data.page`, `data.total`), milliseconds for their times
/// (`create_order_time`, `update_order_time`, `pay_time`, `item_update_time`, `refund_time`,
/// `verify_time`, `cancel_time`), unknown members in each item; `has_more` and `can_cancel` stay booleans.
///
/// Never drifted into an unreadable form: the fields state is derived from (`certificate_id`,
/// `status`, `verify` / `verify_records`, `time_card` counts, `expire_time`, `can_cancel`) stay
/// numbers or decimal strings of the same value (times possibly in milliseconds); `can_cancel`
/// stays a boolean. The body is re-encoded compactly with sorted keys.
///
/// Sources for the shapes (third-party, not Douyin's own reference): the Java SDK
/// fengwensheng100/douyin-java-sdk models amounts as `BigDecimal`, `sku_id` / `account_id` /
/// `verify_id` / `certificate_id` (in `verify`) as `String`, `extra.now` as a `long` and error codes
/// as `int` (`CertificateQueryResp.java`, `BaseResp.java`); certwatch's issue 19 quotes a body
/// with `"error_code":"0"` and `"now":"1764400000123"` (milliseconds, as a string). (A search of
/// SKIT.FlurlHttpClient.ByteDance found no GoodLife certificate model to cite.)
package struct WireDrift: Sendable, Hashable {
    /// The seed of this answer's draws.
    package var seed: UInt64

    package init(seed: UInt64) {
        self.seed = seed
    }

    /// The drifts one answer shows.
    package struct Choice: Sendable, Hashable {
        /// Integers (ids, status, counters, amounts, times) as decimal strings, field by field.
        package var numbersAsStrings = false
        /// `error_code` / `sub_error_code` as strings.
        package var stringErrorCodes = false
        /// `start_time`, `expire_time`, `verify_time`, `extra.now` in milliseconds.
        package var milliseconds = false
        /// Members certwatch does not know.
        package var unknownFields = false
        /// An error's code only in `data` (none in `extra`).
        package var errorOnlyInData = false
        /// `sku.market_price` non-numeric, `book_info` a string.
        package var oddDescriptiveTypes = false
        /// The body ends with a newline.
        package var trailingNewline = false
        /// List APIs: decimal-string ids as JSON numbers, field by field.
        package var idsAsNumbers = false
        /// Verify records: 0 under `records` (as documented), 1 under `records_v2` only, 2 under both.
        package var recordsShape = 0

        /// No drift at all.
        package init() {}

        init(
            numbersAsStrings: Bool, stringErrorCodes: Bool, milliseconds: Bool, unknownFields: Bool, errorOnlyInData: Bool,
            oddDescriptiveTypes: Bool, trailingNewline: Bool, idsAsNumbers: Bool,
            recordsShape: Int
        ) {
            self.numbersAsStrings = numbersAsStrings
            self.stringErrorCodes = stringErrorCodes
            self.milliseconds = milliseconds
            self.unknownFields = unknownFields
            self.errorOnlyInData = errorOnlyInData
            self.oddDescriptiveTypes = oddDescriptiveTypes
            self.trailingNewline = trailingNewline
            self.idsAsNumbers = idsAsNumbers
            self.recordsShape = recordsShape
        }
    }

    /// What this seed's answer shows (each drift with probability ½, odd types ¼).
    package var choice: Choice {
        var rng = SeededGenerator(seed: seed)
        return Choice(
            numbersAsStrings: rng.unit() < 0.5, stringErrorCodes: rng.unit() < 0.5, milliseconds: rng.unit() < 0.5,
            unknownFields: rng.unit() < 0.5, errorOnlyInData: rng.unit() < 0.5, oddDescriptiveTypes: rng.unit() < 0.25,
            trailingNewline: rng.unit() < 0.5, idsAsNumbers: rng.unit() < 0.5, recordsShape: Int(rng.next() % 3))
    }

    /// Integer fields of list-API items that may arrive as decimal strings.
    static let listNumericKeys: Set<String> = Set([
        "order_status", "order_type", "original_amount", "pay_amount", "payment_discount", "count", "item_status",
        "refund_amount", "verify_type", "status", "poi_id", "coupon_pay_amount", "list_market_amount",
        "merchant_ticket_amount", "brand_ticket_amount", "origin_list_market_amount", "payment_discount_amount",
        "platform_discount_amount", "market_price", "groupon_type", "sold_start_time",
    ]).union(listTimeKeys)
    /// Unix-second fields of list-API items (milliseconds under drift).
    static let listTimeKeys: Set<String> = [
        "create_order_time", "update_order_time", "pay_time", "item_update_time", "refund_time", "verify_time", "cancel_time",
    ]
    /// Id fields of list-API items that may arrive as JSON numbers.
    static let listIDKeys: Set<String> = [
        "order_id", "certificate_id", "sku_id", "poi_id", "verify_id", "order_item_id", "cursor",
    ]

    /// Integer fields of a certificate (any depth) that may arrive as decimal strings.
    static let numericKeys: Set<String> = [
        "certificate_id", "poi_id", "status", "used_status_type", "verify_type", "times_count", "times_used",
        "times_card_serial_num", "serial_numb", "pay_amount", "original_amount", "coupon_pay_amount", "list_market_amount",
        "merchant_ticket_amount", "brand_ticket_amount", "origin_list_market_amount", "payment_discount_amount",
        "platform_discount_amount", "market_price", "start_time", "expire_time", "verify_time",
    ]

    /// `body` drifted; a body that is not a JSON object is returned unchanged.
    package func apply(to body: Data) -> Data {
        guard case .object(var root)? = try? JSONValue(parsing: body) else { return body }
        let choice = self.choice
        var rng = SeededGenerator(seed: seed ^ 0x5EED_D81F)
        if case .object(var data)? = root["data"] {
            for key in ["certificates", "certificates_v2"] {
                if case .array(let list)? = data[key] {
                    data[key] = .array(list.map { certificate($0, choice, &rng) })
                }
            }
            if let one = data["certificate"] { data["certificate"] = certificate(one, choice, &rng) }
            listAnswer(&data, choice, &rng)
            errorCodes(&data, choice)
            if choice.unknownFields, data["has_more"] == nil { data["has_more"] = .bool(false) }
            root["data"] = .object(data)
        }
        if case .object(var extra)? = root["extra"] {
            let failed = [root["data"]?["error_code"], extra["error_code"]].contains { code in
                code.map { $0 != .int(0) && $0 != .uint(0) && $0 != .string("0") } ?? false
            }
            if choice.errorOnlyInData, failed, root["data"]?["error_code"] != nil {
                for key in ["error_code", "description", "sub_error_code", "sub_description"] { extra[key] = nil }
            }
            errorCodes(&extra, choice)
            if choice.milliseconds, let now = extra["now"] { extra["now"] = Self.milliseconds(now) }
            if choice.numbersAsStrings, let now = extra["now"] { extra["now"] = Self.string(now) }
            if choice.unknownFields { extra["server_region"] = .string("cn-north-1") }
            root["extra"] = .object(extra)
        }
        var bytes = JSONValue.object(root).encoded()
        if choice.trailingNewline { bytes.append(UInt8(ascii: "\n")) }
        return bytes
    }

    /// Drifts `data.orders`, `data.records`, `data.page` and `data.total` of a list-API answer.
    private func listAnswer(_ data: inout [String: JSONValue], _ choice: Choice, _ rng: inout SeededGenerator) {
        if case .array(let orders)? = data["orders"] {
            data["orders"] = .array(orders.map { listItem($0, choice, &rng) })
        }
        if case .array(let records)? = data["records"] {
            let drifted = JSONValue.array(records.map { listItem($0, choice, &rng) })
            switch choice.recordsShape {
            case 1:
                data["records"] = nil
                data["records_v2"] = drifted
            case 2:
                data["records"] = drifted
                data["records_v2"] = drifted
            default:
                data["records"] = drifted
            }
        }
        guard choice.numbersAsStrings else { return }
        if case .object(var page)? = data["page"] {
            for key in ["page_num", "page_size", "total"] { page[key] = page[key].map(Self.string) }
            data["page"] = .object(page)
        }
        data["total"] = data["total"].map(Self.string)
    }

    private func listItem(_ value: JSONValue, _ choice: Choice, _ rng: inout SeededGenerator) -> JSONValue {
        var result = value
        if choice.milliseconds { result = Self.scalingTimes(result, keys: Self.listTimeKeys) }
        if choice.unknownFields, case .object(var members) = result {
            members["biz_type"] = .int(1_010)
            result = .object(members)
        }
        if choice.idsAsNumbers { result = Self.numberingIDs(result, &rng) }
        if choice.numbersAsStrings { result = Self.stringifying(result, &rng, keys: Self.listNumericKeys) }
        return result
    }

    /// Every member under `keys` (any depth) × 1000.
    static func scalingTimes(_ value: JSONValue, keys: Set<String>) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, member) in members { result[key] = keys.contains(key) ? milliseconds(member) : scalingTimes(member, keys: keys) }
            return .object(result)
        case .array(let elements): return .array(elements.map { scalingTimes($0, keys: keys) })
        default: return value
        }
    }

    /// Turns, field by field at random, decimal-string ids under ``listIDKeys`` into JSON numbers.
    static func numberingIDs(_ value: JSONValue, _ rng: inout SeededGenerator) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for key in members.keys.sorted() {
                let member = members[key]!
                if listIDKeys.contains(key), case .string(let text) = member, let number = UInt64(text), String(number) == text {
                    result[key] = rng.unit() < 0.5 ? .uint(number) : member
                } else {
                    result[key] = numberingIDs(member, &rng)
                }
            }
            return .object(result)
        case .array(let elements): return .array(elements.map { numberingIDs($0, &rng) })
        default: return value
        }
    }

    private func errorCodes(_ object: inout [String: JSONValue], _ choice: Choice) {
        guard choice.stringErrorCodes else { return }
        for key in ["error_code", "sub_error_code"] {
            if let value = object[key] { object[key] = Self.string(value) }
        }
    }

    private func certificate(_ value: JSONValue, _ choice: Choice, _ rng: inout SeededGenerator) -> JSONValue {
        guard case .object(var members) = value else { return value }
        if choice.milliseconds {
            for key in ["start_time", "expire_time"] { members[key] = members[key].map(Self.milliseconds) }
            if case .object(var verify)? = members["verify"] {
                verify["verify_time"] = verify["verify_time"].map(Self.milliseconds)
                members["verify"] = .object(verify)
            }
            if case .array(let records)? = members["verify_records"] {
                members["verify_records"] = .array(
                    records.map { record in
                        guard case .object(var fields) = record else { return record }
                        fields["verify_time"] = fields["verify_time"].map(Self.milliseconds)
                        return .object(fields)
                    })
            }
        }
        if choice.oddDescriptiveTypes {
            if case .object(var sku)? = members["sku"], sku["market_price"] != nil {
                sku["market_price"] = .string("面议")
                members["sku"] = .object(sku)
            }
            if let book = members["book_info"] {
                members["book_info"] = .string(String(decoding: book.encoded(), as: UTF8.self))
            }
        }
        if choice.unknownFields {
            members["biz_type"] = .int(1_010)
            members["ext_info"] = .object(["source": .string("douyin"), "risk_level": .int(0)])
        }
        var result = JSONValue.object(members)
        if choice.numbersAsStrings { result = Self.stringifying(result, &rng) }
        return result
    }

    /// Turns, field by field at random, the integers under ``numericKeys`` into decimal strings.
    static func stringifying(_ value: JSONValue, _ rng: inout SeededGenerator, keys: Set<String> = numericKeys) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            // Sorted, so the draws do not depend on dictionary order.
            for key in members.keys.sorted() {
                let member = members[key]!
                switch member {
                case .int, .uint:
                    result[key] = keys.contains(key) && rng.unit() < 0.5 ? string(member) : member
                default:
                    result[key] = stringifying(member, &rng, keys: keys)
                }
            }
            return .object(result)
        case .array(let elements):
            return .array(elements.map { stringifying($0, &rng, keys: keys) })
        default:
            return value
        }
    }

    /// An integer (or a decimal string) × 1000, in the same JSON type.
    static func milliseconds(_ value: JSONValue) -> JSONValue {
        switch value {
        case .int(let seconds): return .int(seconds * 1_000)
        case .uint(let seconds): return .uint(seconds * 1_000)
        case .string(let text): return Int64(text).map { .string(String($0 * 1_000)) } ?? value
        default: return value
        }
    }

    /// An integer as a decimal string; anything else unchanged.
    static func string(_ value: JSONValue) -> JSONValue {
        switch value {
        case .int(let number): return .string(String(number))
        case .uint(let number): return .string(String(number))
        default: return value
        }
    }
}
