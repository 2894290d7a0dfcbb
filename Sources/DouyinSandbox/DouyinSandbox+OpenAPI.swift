import DouyinOpenAPI
import Foundation

extension DouyinSandbox {
    /// Answers one request to a Douyin-facing endpoint and records it in the request log.
    ///
    /// Order of checks: the API's QPS bucket (2119003; the certificate query's from the fault
    /// profile, each list API's from the configuration) and injected faults; then for the query
    /// endpoints the `access-token` (missing/unknown 2190002, expired 2190008), the API's scope
    /// (revoked: 2190004), the parameters (neither or both of `order_id` / `encrypted_code`: 2100005;
    /// the get endpoint needs `encrypted_code`), a deauthorized `account_id` (2119005), the lookup
    /// (unknown order or code, or another `account_id`: 2119001), a certificate of a deauthorized
    /// account (2119005); for the list APIs see DouyinSandbox+Lists.swift; for the token endpoints the
    /// frequency limit (10020), the body (10002), `client_key` (10003) and `client_secret` (10013).
    /// Business errors are HTTP 200 with the error envelope, as Douyin sends them.
    package func handle(_ request: DouyinRequest) -> DouyinReply {
        catchUp()
        let time = now
        let logid = makeLogid(at: time)
        // The QPS bucket and the log take the request at its arrival (``DouyinRequest/arrivedAt``).
        let arrival = clock.reading(realSecondsAgo: request.arrivedAt.map { Date().timeIntervalSince1970 - $0 } ?? 0)
        let decision = faults.decide(
            endpoint: request.endpoint.faultEndpoint, rateTime: arrival.rateTime, requested: request.requestedFault,
            orderID: request.parameters["order_id"])
        var faultName: String?
        var reply: DouyinReply
        if decision.rateLimited {
            faultName = "rate_limit"
            reply = errorReply(request.endpoint, code: DouyinErrorCatalog.tooFrequent, logid: logid, at: time)
        } else if let fault = decision.fault {
            faultName = fault.kind.rawValue
            reply = faultReply(fault, request: request, logid: logid, at: time)
        } else {
            reply = answer(request, logid: logid, at: time)
        }
        reply.delayMs += decision.latencyMs
        if decision.latencyMs > 0, faultName == nil { faultName = "latency" }
        if let drift = decision.drift, request.endpoint.faultEndpoint != .token {
            switch reply.body {
            case .certificates, .certificateList, .json:
                reply.drift = drift
                if faultName == nil { faultName = "drift" }
            case .token, .text: break
            }
        }
        let entryStatus = reply.status
        let entryCode = reply.errorCode
        let entryLogid = reply.logid
        let sandboxTime = arrival.now
        log.append {
            RequestLogEntry(
                sequence: $0, time: sandboxTime, method: request.method, path: request.path, query: request.query,
                httpStatus: entryStatus, errorCode: entryCode, fault: faultName, logid: entryLogid,
                api: request.endpoint.apiKind)
        }
        return reply
    }

    /// The answer without injected faults, except a list API's `paging` fault (``FaultKind/isPaging``).
    private func answer(_ request: DouyinRequest, logid: String, at time: Int64, paging: FaultKind? = nil) -> DouyinReply {
        switch request.endpoint {
        case .clientToken, .stableClientToken: return issueToken(request, logid: logid, at: time)
        case .query, .get: return queryCertificates(request, logid: logid, at: time)
        case .orderQuery: return queryOrders(request, logid: logid, at: time, paging: paging)
        case .verifyRecordQuery: return queryVerifyRecords(request, logid: logid, at: time, paging: paging)
        }
    }

    private func queryCertificates(_ request: DouyinRequest, logid: String, at time: Int64) -> DouyinReply {
        let fail = { (code: Int64, sub: String) in
            self.errorReply(request.endpoint, code: code, logid: logid, at: time, subDescription: sub)
        }
        if let denied = gate(request, api: .certificateQuery, logid: logid, at: time) { return denied }
        let orderID = request.parameters["order_id"].flatMap { $0.isEmpty ? nil : $0 }
        let encryptedCode = request.parameters["encrypted_code"].flatMap { $0.isEmpty ? nil : $0 }
        let accountID = request.parameters["account_id"].flatMap { $0.isEmpty ? nil : $0 }
        var found: [SandboxCertificate]
        if case .get = request.endpoint {
            guard let encryptedCode else { return fail(DouyinErrorCatalog.invalidParameter, "encrypted_code is required") }
            found = byEncryptedCode[encryptedCode].flatMap { certificates[$0] }.map { [$0] } ?? []
        } else {
            switch (orderID, encryptedCode) {
            case (nil, nil), (.some, .some):
                return fail(DouyinErrorCatalog.invalidParameter, "exactly one of order_id and encrypted_code is required")
            case (let orderID?, nil):
                found = (orders[orderID] ?? []).compactMap { certificates[$0] }
            case (nil, let encryptedCode?):
                found = byEncryptedCode[encryptedCode].flatMap { certificates[$0] }.map { [$0] } ?? []
            }
        }
        if let accountID, access.deauthorizedAccounts.contains(accountID) {
            return fail(DouyinErrorCatalog.notAuthorized, "")
        }
        if let accountID { found = found.filter { $0.accountID == accountID } }
        if found.contains(where: { access.deauthorizedAccounts.contains($0.accountID) }) {
            return fail(DouyinErrorCatalog.notAuthorized, "")
        }
        guard !found.isEmpty else {
            return fail(DouyinErrorCatalog.orderNotFound, orderID != nil ? "订单不存在" : "券码不存在")
        }
        let extra = ResponseExtra(logid: logid, now: time)
        if case .get = request.endpoint {
            let data = CertificateQueryData(certificate: found[0].rendered(at: time), errorCode: 0, description: "")
            return DouyinReply(status: 200, body: .certificates(CertificateQueryResponse(data: data, extra: extra)), logid: logid)
        }
        // `certificates` and `certificates_v2` carry the same certificates; each is encoded once
        // (and reused while unchanged), then spliced into the encoded envelope.
        let data = CertificateQueryData(certificates: [], certificatesV2: [], errorCode: 0, description: "")
        return DouyinReply(
            status: 200,
            body: .certificateList(CertificateQueryResponse(data: data, extra: extra), encoded: found.map { encoded($0, at: time) }),
            logid: logid)
    }

    /// The wire encoding of `certificate` at `time`, from the cache when nothing it shows changed.
    private func encoded(_ certificate: SandboxCertificate, at time: Int64) -> Data {
        let key = CertificateRenderKey(certificate, at: time)
        if let cached = encodedCertificates[certificate.certificateID], cached.key == key { return cached.bytes }
        let bytes = (try? DouyinJSON.wireEncoded(certificate.rendered(at: time))) ?? Data("{}".utf8)
        encodedCertificates[certificate.certificateID] = (key, bytes)
        return bytes
    }

    private func issueToken(_ request: DouyinRequest, logid: String, at time: Int64) -> DouyinReply {
        let fail = { (code: Int64, description: String) in
            DouyinReply(
                status: 200,
                body: .token(ClientTokenResponse(data: .init(errorCode: code, description: description), message: "error")),
                logid: logid)
        }
        guard tokens.admitCall(at: time) else { return fail(10_020, "接口调用频率过高") }
        guard let grant = Self.tokenGrant(request) else { return fail(DouyinErrorCatalog.tokenBadRequest, "参数错误") }
        guard grant.grantType == "client_credential" else { return fail(DouyinErrorCatalog.tokenBadRequest, "参数错误") }
        guard grant.clientKey == configuration.clientKey else {
            return fail(DouyinErrorCatalog.tokenBadClientKey, "client_key 不存在")
        }
        guard grant.clientSecret == configuration.clientSecret else {
            return fail(10_013, "client_key 或者 client_secret 报错")
        }
        let issued = tokens.issue(stable: request.endpoint == .stableClientToken, at: time)
        return DouyinReply(
            status: 200,
            body: .token(
                ClientTokenResponse(data: .init(accessToken: issued.token, expiresIn: issued.expiresIn), message: "success")),
            logid: logid)
    }

    /// The credentials of a token request: a JSON body (as documented) or a form body.
    static func tokenGrant(_ request: DouyinRequest) -> ClientTokenRequest? {
        if let grant = try? JSONDecoder().decode(ClientTokenRequest.self, from: request.body) { return grant }
        let text = String(decoding: request.body, as: UTF8.self)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard let key = fields["client_key"], let secret = fields["client_secret"] else { return nil }
        return ClientTokenRequest(clientKey: key, clientSecret: secret, grantType: fields["grant_type"] ?? "")
    }

    private func faultReply(_ fault: FaultRule, request: DouyinRequest, logid: String, at time: Int64) -> DouyinReply {
        switch fault.kind {
        case .tokenExpired:
            if let token = request.accessToken { tokens.expire(token, at: time) }
            return errorReply(request.endpoint, code: DouyinErrorCatalog.tokenExpired, logid: logid, at: time)
        case .busy, .systemBusy, .unknownError, .serverSleepy:
            return errorReply(request.endpoint, code: fault.kind.businessCode ?? DouyinErrorCatalog.unknown, logid: logid, at: time)
        case .error:
            return errorReply(request.endpoint, code: fault.code ?? DouyinErrorCatalog.unknown, logid: logid, at: time)
        case .http502:
            return DouyinReply(status: 502, body: .text(DouyinReply.html(status: 502, title: "Bad Gateway"), contentType: "text/html"), logid: nil)
        case .http504:
            return DouyinReply(
                status: 504, body: .text(DouyinReply.html(status: 504, title: "Gateway Time-out"), contentType: "text/html"), logid: nil)
        case .timeout:
            var reply = DouyinReply(
                status: 504, body: .text(DouyinReply.html(status: 504, title: "Gateway Time-out"), contentType: "text/html"), logid: nil)
            reply.delayMs = fault.timeoutMs ?? 30_000
            return reply
        case .malformedJSON:
            return DouyinReply(
                status: 200, body: .text("{\"data\": {\"certificates\": [{\"certificate_id\": 7230000,, }", contentType: "application/json"),
                logid: logid)
        case .truncatedBody:
            var reply = answer(request, logid: logid, at: time)
            reply.truncated = true
            return reply
        case .htmlError:
            return DouyinReply(
                status: 200,
                body: .text(
                    "<!DOCTYPE html><html><head><title>系统繁忙</title></head><body><h1>系统繁忙,请稍后再试</h1></body></html>",
                    contentType: "text/html; charset=utf-8"),
                logid: nil)
        case .latency, .drift:
            return answer(request, logid: logid, at: time)
        case .emptyPage, .repeatedCursor, .totalMismatch:
            return answer(request, logid: logid, at: time, paging: fault.kind)
        }
    }

    /// The error envelope for `code` in the shape of `endpoint`.
    func errorReply(_ endpoint: DouyinEndpoint, code: Int64, logid: String, at time: Int64, subDescription: String = "") -> DouyinReply {
        let description = DouyinErrorCatalog.description(of: code)
        switch endpoint {
        case .clientToken, .stableClientToken:
            return DouyinReply(
                status: 200, body: .token(ClientTokenResponse(data: .init(errorCode: code, description: description), message: "error")),
                logid: logid)
        case .query, .get, .orderQuery, .verifyRecordQuery:
            let response = CertificateQueryResponse(
                data: CertificateQueryData(errorCode: code, description: description),
                extra: ResponseExtra(
                    errorCode: code, description: description, subErrorCode: 0, subDescription: subDescription, logid: logid,
                    now: time))
            return DouyinReply(status: 200, body: .certificates(response), logid: logid)
        }
    }

    /// A fresh logid in Douyin's format: `yyyyMMddHHmmss` (UTC+8) and 20 upper-case hex digits.
    func makeLogid(at time: Int64) -> String {
        let high = logidRNG.next()
        let low = logidRNG.next() & 0xFFFF
        let hex = String(high, radix: 16, uppercase: true)
        let hexLow = String(low, radix: 16, uppercase: true)
        return ChinaTime.logidPrefix(time) + String(repeating: "0", count: 16 - hex.count) + hex
            + String(repeating: "0", count: 4 - hexLow.count) + hexLow
    }
}
