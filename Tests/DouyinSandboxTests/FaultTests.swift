import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite struct FaultTests {
    struct Case: Sendable, CustomStringConvertible {
        var rule: FaultRule
        var errorClass: DouyinErrorClass
        var code: Int64?
        var httpStatus: Int?
        var description: String { rule.kind.rawValue + (rule.code.map { " \($0)" } ?? "") }
    }

    static let cases: [Case] = [
        Case(rule: FaultRule(kind: .busy), errorClass: .retry, code: 2_100_004),
        Case(rule: FaultRule(kind: .systemBusy), errorClass: .retry, code: 2_119_002),
        Case(rule: FaultRule(kind: .unknownError), errorClass: .retry, code: 2_100_001),
        Case(rule: FaultRule(kind: .serverSleepy), errorClass: .retry, code: 5_000_001),
        Case(rule: FaultRule(kind: .http502), errorClass: .retry, httpStatus: 502),
        Case(rule: FaultRule(kind: .http504), errorClass: .retry, httpStatus: 504),
        Case(rule: FaultRule(kind: .malformedJSON), errorClass: .retry, httpStatus: 200),
        Case(rule: FaultRule(kind: .truncatedBody), errorClass: .retry, httpStatus: 200),
        Case(rule: FaultRule(kind: .htmlError), errorClass: .retry, httpStatus: 200),
        Case(rule: FaultRule(kind: .error, code: 2_119_003), errorClass: .slowDown, code: 2_119_003),
        Case(rule: FaultRule(kind: .error, code: 2_119_005), errorClass: .permanent, code: 2_119_005),
        Case(rule: FaultRule(kind: .error, code: 2_190_004), errorClass: .permanent, code: 2_190_004),
        Case(rule: FaultRule(kind: .error, code: 3_000_001), errorClass: .permanent, code: 3_000_001),
        Case(rule: FaultRule(kind: .error, code: 4_000_001), errorClass: .permanent, code: 4_000_001),
        Case(rule: FaultRule(kind: .error, code: 4_000_002), errorClass: .permanent, code: 4_000_002),
    ]

    @Test(arguments: cases)
    func everyErrorClassReachesTheClient(_ fault: Case) async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            try await harness.sandbox.enqueueFault(QueuedFault(rule: fault.rule))
            await #expect {
                _ = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            } throws: { error in
                guard let error = error as? DouyinAPIError else { return false }
                return error.errorClass == fault.errorClass && error.code == fault.code
                    && (fault.httpStatus == nil || error.httpStatus == fault.httpStatus)
            }
            // One-shot: the next query is fine.
            let result = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(result.certificates.count == 2)
        }
    }

    @Test func timeoutIsRetryableForTheClient() async throws {
        // 6 s / 12 s: on a loaded 2-core machine a debug-built token request has taken over 3 s.
        try await SandboxHarness.run(requestTimeout: .seconds(6)) { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            _ = try await harness.client.tokens.token()
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .timeout, timeoutMs: 12_000)))
            await #expect {
                _ = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            } throws: { error in
                guard let error = error as? DouyinAPIError, error.errorClass == .retry else { return false }
                if case .timeout = error.source { return true }
                return false
            }
        }
    }

    @Test func earlyTokenExpiryIsRefreshedOnce() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .tokenExpired)))
            let result = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(result.certificates.count == 2)
            let log = await harness.sandbox.requests()
            #expect(log.map(\.fault) == [nil, "token_expired", nil, nil])
            #expect(log.map(\.errorCode) == [0, 2_190_008, 0, 0])
            // Twice in a row: refreshed once, then the client gives up with refreshToken.
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .error, code: 2_190_002), count: 2))
            await #expect {
                _ = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            } throws: { error in
                (error as? DouyinAPIError).map { $0.errorClass == .refreshToken && $0.code == 2_190_002 } ?? false
            }
        }
    }

    @Test func rateLimitAnswers2119003AboveTheQuotaOnly() async throws {
        let profile = FaultProfile(qps: 5, burst: 5)
        try await SandboxHarness.run(configuration: SandboxConfiguration(faults: profile)) { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let query = CertificateQuery(orderID: order.orderID)
            // Below the quota: 4 queries per sandbox second for 5 seconds — never limited.
            for _ in 0..<20 {
                _ = try await harness.client.queryCertificates(query)
                try await harness.sandbox.advanceClock(by: 0.25)
            }
            try await harness.sandbox.advanceClock(by: 2)
            // Above: a burst of 8 within one instant — the bucket of 5 admits 5.
            var limited = 0
            for _ in 0..<8 {
                do {
                    _ = try await harness.client.queryCertificates(query)
                } catch let error as DouyinAPIError where error.errorClass == .slowDown && error.code == 2_119_003 {
                    limited += 1
                }
            }
            #expect(limited == 3)
            // It refills at 5 per second.
            try await harness.sandbox.advanceClock(by: 1)
            _ = try await harness.client.queryCertificates(query)
            let log = await harness.sandbox.requests(limit: 10_000)
            #expect(log.filter { $0.errorCode == 2_119_003 }.count == 3)
            #expect(log.prefix(21).allSatisfy { $0.errorCode == 0 })
        }
    }

    @Test func busy30FailsAboutThirtyPercentReproducibly() async throws {
        let configuration = SandboxConfiguration(faults: FaultProfile.builtins["busy30"]!)
        var outcomes: [[Int64?]] = []
        try await SandboxHarness.run(configuration: configuration) { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let token = try await harness.token()
            for _ in 0..<1_000 {
                let (status, _, _) = try await harness.raw(
                    .GET, CertificateAPI.compreRetail.queryPath + "?order_id=\(order.orderID)", headers: [("access-token", token)])
                #expect(status == 200)
            }
            outcomes.append(await harness.sandbox.requests(limit: 2_000).dropFirst().map(\.errorCode))
        }
        // The same seed without HTTP: the same outcome, request for request.
        let sandbox = DouyinSandbox(configuration: configuration, clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let tokenReply = await sandbox.handle(
            DouyinRequest(
                endpoint: .stableClientToken,
                body: Data(#"{"client_key":"sandbox_key","client_secret":"sandbox_secret","grant_type":"client_credential"}"#.utf8)))
        guard case .token(let token) = tokenReply.body, let value = token.data?.accessToken else {
            Issue.record("no token")
            return
        }
        var codes: [Int64?] = []
        for _ in 0..<1_000 {
            let reply = await sandbox.handle(
                DouyinRequest(endpoint: .query(.compreRetail), parameters: ["order_id": order.orderID], accessToken: value))
            codes.append(reply.errorCode)
        }
        outcomes.append(codes)
        #expect(outcomes[0] == outcomes[1])
        let busy = codes.filter { $0 == 2_100_004 }.count
        #expect((250...350).contains(busy), "busy \(busy) of 1000")
        #expect(codes.allSatisfy { $0 == 0 || $0 == 2_100_004 })
    }

    @Test func badFaultProfilesAreRefusedWithTheField() throws {
        #expect(throws: SandboxAdminError.self) { try FaultProfile.parse(yaml: "faults: [{kind: busy, probability: 2}]") }
        do {
            _ = try FaultProfile.parse(yaml: "faults: [{kind: error}]")
            Issue.record("accepted an error fault without code")
        } catch {
            #expect(error.field == "faults[0].code")
        }
        do {
            _ = try FaultProfile.parse(yaml: "faults: [{kind: explode}]")
            Issue.record("accepted an unknown kind")
        } catch {
            #expect(error.field == "faults[0].kind")
        }
    }
}
