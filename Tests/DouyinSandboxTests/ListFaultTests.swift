import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// Paging faults and drift on the sandbox's list APIs, read by the client's page loops.
@Suite("Sandbox list API faults")
struct ListFaultTests {
    static let merchant = "7100000000000000001"

    /// Five single-voucher orders, each verified: five orders, five verify records.
    static func fiveVerifiedOrders(_ sandbox: DouyinSandbox) async throws {
        for _ in 0..<5 {
            let order = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            try await sandbox.advanceClock(by: 10)
            try await sandbox.verify(certificateID: order.certificates[0].certificateID)
        }
    }

    @Test("repeated_cursor: the record loop stops with a paging error of class retry")
    func repeatedCursor() async throws {
        try await SandboxHarness.run { harness in
            try await Self.fiveVerifiedOrders(harness.sandbox)
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .repeatedCursor)))
            await #expect {
                _ = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 2))
            } throws: { error in
                guard let error = error as? DouyinAPIError, case .paging(.repeatedCursor("0")) = error.source else { return false }
                return error.errorClass == .retry && error.logid != nil
            }
            // Orders: page 2 answered as page 1 (count 2: the first page has nothing to repeat).
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .repeatedCursor), count: 2))
            await #expect {
                _ = try await harness.client.allOrders(OrderQuery(accountID: Self.merchant, pageSize: 2))
            } throws: { error in
                (error as? DouyinAPIError)?.source == .paging(.pageDidNotAdvance(requested: 2, answered: 1))
            }
        }
    }

    @Test("empty_page that says more: followed, and every record still read")
    func emptyPage() async throws {
        try await SandboxHarness.run { harness in
            try await Self.fiveVerifiedOrders(harness.sandbox)
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .emptyPage)))
            let records = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 2))
            #expect(records.records.count == 5 && records.pages == 4 && records.warnings.isEmpty)
            // Orders: the empty first page's total says more, so page 2 follows; page 1's orders are
            // missed, and the total says so.
            try await harness.sandbox.enqueueFault(QueuedFault(rule: FaultRule(kind: .emptyPage)))
            let orders = try await harness.client.allOrders(OrderQuery(accountID: Self.merchant, pageSize: 2))
            #expect(orders.orders.count == 3 && orders.pages == 3)
            #expect(orders.warnings.map(\.path) == ["data.page.total"])
            // Always empty: bounded (three in a row), then a warning.
            try await harness.sandbox.setFaultProfile(FaultProfile(faults: [FaultRule(kind: .emptyPage)]))
            let never = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 2))
            #expect(never.records.isEmpty && never.pages == PageLoopLimits.maxEmptyRun)
            #expect(never.warnings.contains { $0.path == "data" } && never.warnings.contains { $0.path == "data.total" })
        }
    }

    @Test("total_mismatch: a warning, not an error; maxPages bounds the loop")
    func totalMismatchAndBound() async throws {
        try await SandboxHarness.run { harness in
            try await Self.fiveVerifiedOrders(harness.sandbox)
            try await harness.sandbox.setFaultProfile(FaultProfile(faults: [FaultRule(kind: .totalMismatch)]))
            let records = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 20))
            #expect(records.records.count == 5)
            #expect(records.warnings.map(\.path) == ["data.total"])
            let orders = try await harness.client.allOrders(OrderQuery(accountID: Self.merchant))
            #expect(orders.orders.count == 5 && orders.warnings.map(\.path) == ["data.page.total"])
            await #expect {
                _ = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 1), maxPages: 3)
            } throws: { ($0 as? DouyinAPIError)?.source == .paging(.tooManyPages(3)) }
        }
    }

    @Test("wild drift on both list APIs: the decoded meaning is identical to none")
    func wildMeansTheSame() async throws {
        try await SandboxHarness.run(configuration: SandboxConfiguration(orderQueryQPS: 1_000, verifyRecordQueryQPS: 1_000)) { harness in
            let sandbox = harness.sandbox
            try await Self.fiveVerifiedOrders(sandbox)
            let times = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .timesCard, timesCount: 3), .init()]))
            try await sandbox.use(certificateID: times.certificates[0].certificateID)
            try await sandbox.cancelVerification(certificateID: times.certificates[0].certificateID)
            try await sandbox.refund(certificateID: times.certificates[1].certificateID)
            func stripped(_ orders: [DouyinOrder]) -> [DouyinOrder] { orders.map { var o = $0; o.raw = .null; return o } }
            func stripped(_ records: [VerifyHistoryRecord]) -> [VerifyHistoryRecord] { records.map { var r = $0; r.raw = .null; return r } }
            let orderQuery = OrderQuery(accountID: Self.merchant, pageSize: 4)
            let recordQuery = VerifyRecordQuery(accountID: Self.merchant, size: 3)
            let cleanOrders = try await harness.client.allOrders(orderQuery)
            let cleanRecords = try await harness.client.allVerifyRecords(recordQuery)
            #expect(cleanOrders.warnings.isEmpty && cleanRecords.warnings.isEmpty)
            let anyCancelled = cleanRecords.records.contains { $0.isCancelled }
            #expect(anyCancelled)

            try await sandbox.setFaultProfile(try #require(FaultProfile.builtins["wild"]))
            var drifted = 0
            for _ in 0..<6 {
                let orders = try await harness.client.allOrders(orderQuery)
                let records = try await harness.client.allVerifyRecords(recordQuery)
                #expect(stripped(orders.orders) == stripped(cleanOrders.orders))
                #expect(stripped(records.records) == stripped(cleanRecords.records))
                if orders.orders.map(\.raw) != cleanOrders.orders.map(\.raw) || !records.warnings.isEmpty { drifted += 1 }
            }
            #expect(drifted > 0)
            let log = await sandbox.requests()
            #expect(log.contains { $0.fault == "drift" && $0.api == .orderQuery })
            #expect(log.contains { $0.fault == "drift" && $0.api == .verifyRecordQuery })
        }
    }

    @Test("wild shows records_v2, ids as numbers and millisecond times in the bytes")
    func wildShapes() async throws {
        let sandbox = DouyinSandbox(
            configuration: SandboxConfiguration(
                faults: try #require(FaultProfile.builtins["wild"]), verifyRecordQueryQPS: 1_000),
            clock: .manual())
        try await Self.fiveVerifiedOrders(sandbox)
        let grant = Data(#"{"client_key":"sandbox_key","client_secret":"sandbox_secret","grant_type":"client_credential"}"#.utf8)
        let tokenReply = await sandbox.handle(DouyinRequest(endpoint: .clientToken, method: "POST", body: grant))
        let token = try #require(try JSONValue(parsing: tokenReply.encoded().bytes)["data"]?["access_token"]?.string)
        var shapes: Set<String> = []
        for _ in 0..<30 {
            let reply = await sandbox.handle(
                DouyinRequest(
                    endpoint: .verifyRecordQuery, parameters: ["account_id": Self.merchant, "cursor": "0", "size": "20"],
                    accessToken: token))
            let tree = try JSONValue(parsing: reply.encoded().bytes)
            let data = try #require(tree["data"])
            if data["records_v2"] != nil { shapes.insert("records_v2") }
            if data["records"] != nil { shapes.insert("records") }
            let first = data["records_v2"]?[0] ?? data["records"]?[0]
            if first?["verify_id"]?.int != nil { shapes.insert("numeric id") }
            if let time = first?["verify_time"]?.int, time > 1_000_000_000_000 {
                shapes.insert("milliseconds")
            }
            #expect(try VerifyRecordPage.read(body: reply.encoded().bytes).records.count == 5)
        }
        #expect(shapes == ["records", "records_v2", "numeric id", "milliseconds"])
    }
}

/// The page loop's bound on empty pages in a row (mirrors DouyinOpenAPI's internal constant).
enum PageLoopLimits {
    static let maxEmptyRun = 3
}
