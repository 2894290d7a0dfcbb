import DouyinOpenAPI
import Foundation

/// The sandbox's answers to Douyin's two list APIs, from the same state the certificate query shows
/// (see `docs/douyin-list-apis.md`).
///
/// **订单查询** `GET /goodlife/v1/trade/order/query/`: `account_id` (required: 2100005 without it),
/// `order_id`, `create_order_start_time` / `create_order_end_time`, `update_order_start_time` /
/// `update_order_end_time` (Unix seconds, inclusive), `page_num` (default 1, ≥ 1), `page_size`
/// (default 10 as Douyin's, 1…100); a value out of range or not an integer is 2100005 naming the
/// field in `sub_description`. Orders oldest first (by creation), `data.page {page_num, page_size,
/// total}`. An account without orders answers an empty page — nothing needs registering.
///
/// **验券历史查询** `GET /goodlife/v1/fulfilment/certificate/verify_record/query/`: `account_id`,
/// `cursor` (`0`, then the last record's `cursor`) and `size` (1…20) required (2100005 naming the
/// field otherwise), `poi_ids` (comma-separated), `start_time` (default: 00:00 today, China time) and
/// `end_time` on `verify_time`, inclusive. Every verification ever made, oldest first, cancelled ones
/// too (`status` 2, `cancel_time`, `can_cancel` false); `data.total` (the window's count) and
/// `data.has_more`.
extension DouyinSandbox {
    /// A parameter that cannot be used: answered 2100005 with `message` in `sub_description`.
    struct ParameterProblem: Error {
        var message: String
    }

    /// The token (2190002 / 2190008) and scope (2190004) checks every business endpoint shares;
    /// `nil` when both pass.
    func gate(_ request: DouyinRequest, api: DouyinAPIKind, logid: String, at time: Int64) -> DouyinReply? {
        let fail = { (code: Int64, sub: String) in
            self.errorReply(request.endpoint, code: code, logid: logid, at: time, subDescription: sub)
        }
        guard let token = request.accessToken, !token.isEmpty else {
            return fail(DouyinErrorCatalog.invalidToken, "access-token header is missing")
        }
        switch tokens.validity(of: token, at: time) {
        case .unknown: return fail(DouyinErrorCatalog.invalidToken, "")
        case .expired: return fail(DouyinErrorCatalog.tokenExpired, "")
        case .valid: break
        }
        if access.revokedScopes.contains(api) {
            return fail(DouyinErrorCatalog.noCapability, "the app has no scope for \(api.rawValue)")
        }
        return nil
    }

    /// What the checks both list APIs start with decided.
    enum ListAdmission {
        /// Go on for this `account_id`.
        case admitted(accountID: String)
        /// Answer this.
        case denied(DouyinReply)
    }

    /// The checks both list APIs start with: token and scope (``gate(_:api:logid:at:)``), then
    /// `account_id` (required: 2100005) and its authorization (2119005).
    func admitList(_ request: DouyinRequest, api: DouyinAPIKind, logid: String, at time: Int64) -> ListAdmission {
        if let denied = gate(request, api: api, logid: logid, at: time) { return .denied(denied) }
        guard let accountID = Self.nonEmpty(request.parameters["account_id"]) else {
            return .denied(
                errorReply(
                    request.endpoint, code: DouyinErrorCatalog.invalidParameter, logid: logid, at: time,
                    subDescription: "account_id is required"))
        }
        if access.deauthorizedAccounts.contains(accountID) {
            return .denied(errorReply(request.endpoint, code: DouyinErrorCatalog.notAuthorized, logid: logid, at: time))
        }
        return .admitted(accountID: accountID)
    }

    func queryOrders(_ request: DouyinRequest, logid: String, at time: Int64, paging: FaultKind?) -> DouyinReply {
        let accountID: String
        switch admitList(request, api: .orderQuery, logid: logid, at: time) {
        case .denied(let reply): return reply
        case .admitted(let account): accountID = account
        }
        let parameters = request.parameters
        let pageNum: Int64
        let pageSize: Int64
        let windows: [(String, String, KeyPath<SandboxLedger.Order, Int64>)] = [
            ("create_order_start_time", "create_order_end_time", \.createTime),
            ("update_order_start_time", "update_order_end_time", \.updateTime),
        ]
        var bounds: [(ClosedRange<Int64>, KeyPath<SandboxLedger.Order, Int64>)] = []
        do throws(ParameterProblem) {
            pageNum = try Self.integer(parameters, "page_num", in: 1...1_000_000) ?? 1
            pageSize = try Self.integer(parameters, "page_size", in: 1...100) ?? 10
            for (startName, endName, field) in windows {
                let start = try Self.integer(parameters, startName, in: 0...Int64.max)
                let end = try Self.integer(parameters, endName, in: 0...Int64.max)
                if start == nil, end == nil { continue }
                guard (start ?? 0) <= (end ?? .max) else { throw ParameterProblem(message: "\(startName) is after \(endName)") }
                bounds.append(((start ?? 0)...(end ?? .max), field))
            }
        } catch {
            return errorReply(
                request.endpoint, code: DouyinErrorCatalog.invalidParameter, logid: logid, at: time, subDescription: error.message)
        }
        let orderID = Self.nonEmpty(parameters["order_id"])
        let matching = orderList.filter { id in
            guard let order = ledger.orders[id], order.accountID == accountID else { return false }
            if let orderID, id != orderID { return false }
            return bounds.allSatisfy { range, field in range.contains(order[keyPath: field]) }
        }
        // `repeated_cursor`: page 1 again, whatever page was asked for.
        let answered = paging == .repeatedCursor ? 1 : pageNum
        let start = Int(min((answered - 1) * pageSize, Int64(matching.count)))
        let slice = matching[start..<min(start + Int(pageSize), matching.count)]
        let orders = paging == .emptyPage ? [] : slice.map { renderOrder($0, at: time) }
        let total = matching.count + (paging == .totalMismatch ? 3 : 0)
        let data: [String: JSONValue] = [
            "orders": .array(orders),
            "page": .object(["page_num": .int(answered), "page_size": .int(pageSize), "total": .int(Int64(total))]),
            "error_code": .int(0), "description": .string(""),
        ]
        return DouyinReply(status: 200, body: .json(Self.envelope(data, logid: logid, at: time)), logid: logid)
    }

    func queryVerifyRecords(_ request: DouyinRequest, logid: String, at time: Int64, paging: FaultKind?) -> DouyinReply {
        let accountID: String
        switch admitList(request, api: .verifyRecordQuery, logid: logid, at: time) {
        case .denied(let reply): return reply
        case .admitted(let account): accountID = account
        }
        let parameters = request.parameters
        let cursor: Int64
        let size: Int64
        let window: ClosedRange<Int64>
        do throws(ParameterProblem) {
            guard let position = try Self.integer(parameters, "cursor", in: 0...Int64.max) else {
                throw ParameterProblem(message: "cursor is required (0 for the first page)")
            }
            guard let count = try Self.integer(parameters, "size", in: 1...20) else {
                throw ParameterProblem(message: "size is required (1…20)")
            }
            let start = try Self.integer(parameters, "start_time", in: 0...Int64.max) ?? ChinaTime.startOfDay(time)
            let end = try Self.integer(parameters, "end_time", in: 0...Int64.max) ?? .max
            guard start <= end else { throw ParameterProblem(message: "start_time is after end_time") }
            (cursor, size, window) = (position, count, start...end)
        } catch {
            return errorReply(
                request.endpoint, code: DouyinErrorCatalog.invalidParameter, logid: logid, at: time, subDescription: error.message)
        }
        let stores = Set(
            (parameters["poi_ids"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            })
        let matching = ledger.verifications.filter { record in
            ledger.orders[record.orderID]?.accountID == accountID && window.contains(record.verifyTime)
                && (stores.isEmpty || stores.contains(String(record.poiID)))
        }
        let after = matching.filter { Int64($0.sequence) > cursor }
        var records = after.prefix(Int(size)).map { renderRecord($0, at: time) }
        var hasMore = after.count > Int(size)
        switch paging {
        case .emptyPage?:
            records = []
            hasMore = true
        case .repeatedCursor?:
            if case .object(var last)? = records.last {
                last["cursor"] = .string(String(cursor))
                records[records.count - 1] = .object(last)
            }
        default: break
        }
        let total = matching.count + (paging == .totalMismatch ? 3 : 0)
        let data: [String: JSONValue] = [
            "records": .array(records), "total": .int(Int64(total)), "has_more": .bool(hasMore),
            "error_code": .int(0), "description": .string(""),
        ]
        return DouyinReply(status: 200, body: .json(Self.envelope(data, logid: logid, at: time)), logid: logid)
    }

    /// One order as 订单查询 shows it at `time`.
    ///
    /// `order_status` and `item_status` are the sandbox's own codes (the SDKs do not show Douyin's
    /// table): `item_status` is the certificate's `status` (``VoucherStatus``); `order_status` is 1
    /// while any certificate is usable (status 1 or 5), else 3 while a refund is under review or
    /// refunding (3, 6), else 4 when every certificate is refunded, else 2 (completed).
    func renderOrder(_ orderID: String, at time: Int64) -> JSONValue {
        let items = (orders[orderID] ?? []).compactMap { certificates[$0] }
        let meta = ledger.orders[orderID]
        let statuses = items.map { VoucherStatus(of: $0, at: time).status }
        let orderStatus: Int64
        if statuses.contains(where: { $0 == CertificateStatusCode.unused || $0 == CertificateStatusCode.refundFailed }) {
            orderStatus = 1
        } else if statuses.contains(where: { $0 == CertificateStatusCode.refundRequested || $0 == CertificateStatusCode.refunding }) {
            orderStatus = 3
        } else if !statuses.isEmpty, statuses.allSatisfy({ $0 == CertificateStatusCode.refunded }) {
            orderStatus = 4
        } else {
            orderStatus = 2
        }
        let created = meta?.createTime ?? time
        let certificateList: [JSONValue] = zip(items, statuses).map { certificate, status in
            var entry: [String: JSONValue] = [
                "certificate_id": .string(String(certificate.certificateID)),
                "order_item_id": .string(String(certificate.certificateID &+ 1)),
                "item_status": .int(status),
                "item_update_time": .int(ledger.itemUpdatedAt[certificate.certificateID] ?? created),
                "refund_amount": .int(status == CertificateStatusCode.refunded ? certificate.payAmount : 0),
            ]
            if status == CertificateStatusCode.refunded, let refundedAt = certificate.refundedAt {
                entry["refund_time"] = .int(refundedAt)
            }
            return .object(entry)
        }
        let first = items.first
        return .object([
            "order_id": .string(orderID), "order_status": .int(orderStatus), "order_type": .int(1),
            "original_amount": .int(items.reduce(0) { $0 + $1.marketAmount }),
            "pay_amount": .int(items.reduce(0) { $0 + $1.payAmount }), "payment_discount": .int(0),
            "sku_id": .string(first?.skuID ?? ""), "sku_name": .string(first?.title ?? ""),
            "pay_time": .int(created), "create_order_time": .int(created),
            "update_order_time": .int(meta?.updateTime ?? created),
            "poi_id": .string(String(first?.bookPoiID ?? configuration.poiID)), "count": .int(Int64(items.count)),
            "contacts": .array(
                first.map { [.object(["name": .string($0.buyer.name ?? ""), "phone": .string($0.buyer.phone ?? "")])] } ?? []),
            "certificate": .array(certificateList),
        ])
    }

    /// One verification as 验券历史查询 shows it at `time`. `amount` is the money of this use (for a
    /// times card, the per-use share), `sku` as in the certificate query; `poi_id` (a JSON number) is
    /// the sandbox's addition, so `poi_ids` filtering can be seen.
    func renderRecord(_ record: SandboxLedger.Verification, at time: Int64) -> JSONValue {
        var fields: [String: JSONValue] = [
            "cursor": .string(String(record.sequence)), "verify_id": .string(record.verifyID),
            "certificate_id": .string(String(record.certificateID)), "verify_type": .int(record.channel.verifyType),
            "verify_time": .int(record.verifyTime), "poi_id": .uint(record.poiID),
            "status": .int(record.cancelTime == nil ? 1 : 2),
        ]
        if let cancelTime = record.cancelTime { fields["cancel_time"] = .int(cancelTime) }
        guard let certificate = certificates[record.certificateID] else { return .object(fields) }
        let standing = certificate.verifications.first { $0.verifyID == record.verifyID }
        fields["can_cancel"] = .bool(standing.map { VoucherLifecycle.canCancel($0, of: certificate, at: time) } ?? false)
        fields["encrypted_code"] = .string(certificate.encryptedCode)
        if VoucherLifecycle.showsCode(certificate, at: time) { fields["code"] = .string(certificate.code) }
        let uses = max(certificate.timesCount, 1)
        let amount = SandboxCertificate.amount(pay: certificate.payAmount / uses, market: certificate.marketAmount / uses)
        fields["amount"] = (try? JSONValueEncoder.encode(amount, wire: true)) ?? .null
        if let sku = certificate.rendered(at: time).sku { fields["sku"] = (try? JSONValueEncoder.encode(sku, wire: true)) ?? .null }
        return .object(fields)
    }

    /// `{"data": data, "extra": {…}}` of a success, as the certificate query's.
    static func envelope(_ data: [String: JSONValue], logid: String, at time: Int64) -> JSONValue {
        .object([
            "data": .object(data),
            "extra": .object([
                "error_code": .int(0), "description": .string(""), "sub_error_code": .int(0), "sub_description": .string(""),
                "logid": .string(logid), "now": .int(time),
            ]),
        ])
    }

    static func nonEmpty(_ text: String?) -> String? {
        text.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The integer parameter `name` (absent or empty: `nil`); not a decimal integer or outside
    /// `range` throws the problem naming it.
    static func integer(_ parameters: [String: String], _ name: String, in range: ClosedRange<Int64>) throws(ParameterProblem)
        -> Int64?
    {
        guard let text = nonEmpty(parameters[name]) else { return nil }
        guard let value = Int64(text), range.contains(value) else {
            let limit = range.upperBound == .max ? "≥ \(range.lowerBound)" : "\(range.lowerBound)…\(range.upperBound)"
            throw ParameterProblem(message: "\(name) must be an integer \(limit), got \(text.debugDescription)")
        }
        return value
    }
}
