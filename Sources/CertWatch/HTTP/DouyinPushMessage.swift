import DouyinOpenAPI
import Foundation

/// One Douyin push (webhook) message as certwatch reads it: the event, the action, the message
/// time and every id it names — in any of the shapes Douyin and its SDKs show.
///
/// The envelope is `{event, client_key, from_user_id, to_user_id, content, log_id, msg_id?}`
/// (开放平台 Webhooks; `msg_id` appears in bodies quoted by SDK authors, alongside the `Msg-Id`
/// header). `content` is an object or a JSON string holding one. Shapes read:
///
/// - 券消息通知 `life_trade_certificate_notify`:
///   `{"action": "verify" | "verify_cancel" | "refund_success", "msg_time": 1679914989,
///   "certificate": {"certificate_id", "order_id", "account_id"}}` — as modelled by
///   fudiwei/DotNetCore.SKIT.FlurlHttpClient.ByteDance (`LifeTradeCertificateNotifyEvent`: content
///   a JSON string, `msg_time` read from number or string, `account_id` number or string) and in
///   captured bodies quoted by Go integrators (`certificate.order_id` as a string);
///   older integrations read `order_id` at the top of `content` (e.g. `{"order_id": …,
///   "action": "refund_success"}`), which is read too.
/// - 订单消息通知 `life_trade_order_notify`: `{"action": "pay_success", "msg_time",
///   "order": {"order_id", "account_id", …}}`.
/// - order messages listing certificates: `certificates` / `certificate_list` (objects with
///   `certificate_id`, `encrypted_code`, `order_id`) and `certificate_ids` (ids), at the top of
///   `content` or inside `content.order` / `content.certificate`.
///
/// Ids (`order_id`, `certificate_id`, `account_id`) are JSON numbers or decimal strings, read
/// exactly with ``JSONValue`` (never through `Double`) and kept as decimal strings.
/// `msg_time` (or `event_time`) is a number or a decimal string, Unix seconds or, when ≥ 10^12,
/// milliseconds; it is normalized to seconds.
package struct DouyinPushMessage: Sendable, Hashable {
    /// `event`, e.g. `life_trade_certificate_notify`.
    package var event: String
    /// `content.action`, e.g. `verify`.
    package var action: String?
    /// `content.msg_time` (or `event_time`), Unix seconds.
    package var msgTime: Int64?
    /// `account_id` (the merchant account), wherever it appears first.
    package var accountID: String?
    /// `msg_id` of the body, when present (the `Msg-Id` header is preferred).
    package var messageID: String?
    /// `log_id` of the body.
    package var logID: String?
    /// The ids named: orders, certificates, encrypted codes (deduplicated, in order of appearance).
    package var targets: HintTargets
    /// `content` as an object (`null` when absent).
    package var content: JSONValue
    /// Fields that could not be read and were skipped (`content.msg_time: expected an integer, …`):
    /// a push is only a hint, so an odd field never loses the ids that could be read.
    package var warnings: [String] = []

    /// Events certwatch takes as hints.
    package static let hintEvents: Set<String> = ["life_trade_certificate_notify", "life_trade_order_notify"]

    /// Where ids may sit below `content` (and below each other): single objects and lists.
    static let containers = ["certificate", "order", "certificates", "certificate_list", "certificate_infos"]

    /// Reads a raw body. Throws ``APIError``: 400 when the body (or a string `content`) is not JSON
    /// or not an object, 422 without an `event`. A field of the wrong type (e.g.
    /// `content.certificate.order_id: expected an integer or a decimal string, found number 1.0E18`)
    /// is skipped and listed in ``warnings``; the ids that could be read still make hints.
    package init(parsing body: Data) throws(APIError) {
        let message: JSONValue
        do {
            message = try JSONValue(parsing: body)
        } catch {
            throw .badRequest("the body must be JSON: \(error.message)")
        }
        try self.init(message)
    }

    /// Reads a parsed body; throws like ``init(parsing:)``.
    package init(_ message: JSONValue) throws(APIError) {
        guard case .object = message else { throw .badRequest("a push message must be a JSON object") }
        guard case .string(let event) = message["event"] ?? .null, !event.isEmpty else {
            throw .invalid("a push message needs an event (string)", field: "event")
        }
        self.event = event
        let content: JSONValue
        switch message["content"] {
        case .string(let text):
            do {
                content = try JSONValue(parsing: Data(text.utf8))
            } catch {
                throw .badRequest("content is a string but not JSON: \(error.message)", field: "content")
            }
        case .some(let value): content = value
        case .none: content = .null
        }
        self.content = content
        var collector = Collector()
        messageID = collector.lenient { () throws(APIError) in try Self.text(message["msg_id"], at: "msg_id") }
        logID = collector.lenient { () throws(APIError) in try Self.text(message["log_id"], at: "log_id") }
        action = collector.lenient { () throws(APIError) in try Self.text(content["action"], at: "content.action") }
        var time = collector.lenient { () throws(APIError) in try Self.integer(content["msg_time"], at: "content.msg_time") }
        if time == nil {
            time = collector.lenient { () throws(APIError) in try Self.integer(content["event_time"], at: "content.event_time") }
        }
        msgTime = time.map { DouyinTime.seconds($0).seconds }
        collector.read(content, at: "content", depth: 0)
        if collector.targets.isEmpty, case .object = message {
            // Some integrations put the ids beside `content` rather than in it.
            collector.read(message, at: "", depth: 2)
        }
        targets = collector.targets
        accountID = collector.accountID
        warnings = collector.warnings
    }

    /// The ids found while walking `content`.
    struct Collector {
        var targets = HintTargets()
        var accountID: String?
        var warnings: [String] = []

        /// The value `read` returns, or `nil` with its error kept as a warning.
        mutating func lenient<T>(_ read: () throws(APIError) -> T?) -> T? {
            do {
                return try read()
            } catch {
                warnings.append(error.message)
                return nil
            }
        }

        mutating func read(_ object: JSONValue, at path: String, depth: Int) {
            guard case .object = object else { return }
            let prefix = path.isEmpty ? "" : path + "."
            if let id = lenient({ () throws(APIError) in try DouyinPushMessage.id(object["order_id"], at: prefix + "order_id") }) {
                add(id, to: \.orderIDs)
            }
            if let id = lenient({ () throws(APIError) in
                try DouyinPushMessage.id(object["certificate_id"], at: prefix + "certificate_id")
            }) {
                add(id, to: \.certificateIDs)
            }
            if let code = lenient({ () throws(APIError) in
                try DouyinPushMessage.text(object["encrypted_code"], at: prefix + "encrypted_code")
            }) {
                add(code, to: \.encryptedCodes)
            }
            if accountID == nil {
                accountID = lenient { () throws(APIError) in try DouyinPushMessage.id(object["account_id"], at: prefix + "account_id") }
            }
            for (key, list) in [("certificate_ids", \HintTargets.certificateIDs), ("order_ids", \HintTargets.orderIDs)] {
                guard case .array(let ids) = object[key] ?? .null else { continue }
                for (index, value) in ids.enumerated() {
                    if let id = lenient({ () throws(APIError) in try DouyinPushMessage.id(value, at: "\(prefix)\(key)[\(index)]") }) {
                        add(id, to: list)
                    }
                }
            }
            guard depth < 2 else { return }
            for key in DouyinPushMessage.containers {
                switch object[key] {
                case .object?: read(object[key]!, at: prefix + key, depth: depth + 1)
                case .array(let items)?:
                    for (index, item) in items.enumerated() { read(item, at: "\(prefix)\(key)[\(index)]", depth: depth + 1) }
                default: break
                }
            }
        }

        mutating func add(_ value: String, to list: WritableKeyPath<HintTargets, [String]>) {
            if !targets[keyPath: list].contains(value) { targets[keyPath: list].append(value) }
        }
    }

    /// An id: a non-negative JSON integer or a decimal string, as a decimal string; `nil` when
    /// absent, null or empty. Throws 422 naming `path` for any other value.
    static func id(_ value: JSONValue?, at path: String) throws(APIError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .int(let number)? where number >= 0: return String(number)
        case .uint(let number)?: return String(number)
        case .string(let text)?:
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return nil }
            if trimmed.utf8.allSatisfy({ (0x30...0x39).contains($0) }) { return trimmed }
            throw .invalid("\(path): expected a decimal id, found string \(text.debugDescription)", field: path)
        case let other?:
            throw .invalid("\(path): expected an integer or a decimal string, found \(other.shortDescription)", field: path)
        }
    }

    /// An integer from a JSON integer or a decimal string; `nil` when absent or null.
    static func integer(_ value: JSONValue?, at path: String) throws(APIError) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .int(let number)?: return number
        case .uint(let number)? where number <= UInt64(Int64.max): return Int64(number)
        case .string(let text)?:
            if let number = Int64(text.trimmingCharacters(in: .whitespaces)) { return number }
            throw .invalid("\(path): expected an integer, found string \(text.debugDescription)", field: path)
        case let other?:
            throw .invalid("\(path): expected an integer or a decimal string, found \(other.shortDescription)", field: path)
        }
    }

    /// A non-empty string (numbers are accepted as their decimal text); `nil` when absent, null or empty.
    static func text(_ value: JSONValue?, at path: String) throws(APIError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        case .int(let number)?: return String(number)
        case .uint(let number)?: return String(number)
        case let other?: throw .invalid("\(path): expected a string, found \(other.shortDescription)", field: path)
        }
    }
}
