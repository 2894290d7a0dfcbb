import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// The sandbox's 订单查询 and 验券历史查询 through a real `DouyinClient`, against the same state the
/// certificate query shows.
@Suite("Sandbox list APIs")
struct ListAPITests {
    static let start: Int64 = 1_734_169_082
    static let merchant = "7100000000000000001"
    static let other = "7100000000000000999"

    @Test("orders of an account, oldest first, with the certificate query's certificates and statuses")
    func ordersMatchCertificateState() async throws {
        try await SandboxHarness.run { harness in
            let sandbox = harness.sandbox
            let first = try await sandbox.createOrder(twoCertificateOrder)
            try await sandbox.advanceClock(by: 60)
            let second = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            // Any account, no registration needed.
            let foreign = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], accountID: Self.other))
            try await sandbox.advanceClock(by: 60)
            try await sandbox.verify(certificateID: first.certificates[0].certificateID)

            let page = try await harness.client.queryOrders(OrderQuery(accountID: Self.merchant))
            #expect(page.orders.map(\.orderID) == [first.orderID, second.orderID])
            #expect(page.total == 2 && page.pageNum == 1 && page.pageSize == 100)
            let order = page.orders[0]
            let certificates = try await harness.client.queryCertificates(CertificateQuery(orderID: first.orderID)).certificates
            #expect(order.certificates.map(\.certificateID) == certificates.map(\.certificateID.value))
            #expect(order.certificates.map { $0.itemStatus.map(Int64.init) } == certificates.map(\.status))
            #expect(order.createOrderTime == Self.start && order.payTime == Self.start)
            #expect(order.updateOrderTime == Self.start + 120)
            #expect(order.certificates[0].itemUpdateTime == Self.start + 120)
            #expect(order.certificates[1].itemUpdateTime == Self.start)
            #expect(order.payAmount == certificates.compactMap(\.amount?.payAmount).reduce(0, +))
            #expect(order.count == 2 && order.orderStatus == 1)
            #expect(page.orders[1].updateOrderTime == Self.start + 60)

            // The change feed: orders updated in a window.
            let changed = try await harness.client.queryOrders(
                OrderQuery(accountID: Self.merchant, updateOrderStartTime: Self.start + 100, updateOrderEndTime: Self.start + 200))
            #expect(changed.orders.map(\.orderID) == [first.orderID])
            let created = try await harness.client.queryOrders(
                OrderQuery(accountID: Self.merchant, createOrderStartTime: Self.start + 30))
            #expect(created.orders.map(\.orderID) == [second.orderID])
            let one = try await harness.client.queryOrders(OrderQuery(accountID: Self.merchant, orderID: second.orderID))
            #expect(one.orders.map(\.orderID) == [second.orderID])
            let theirs = try await harness.client.queryOrders(OrderQuery(accountID: Self.other))
            #expect(theirs.orders.map(\.orderID) == [foreign.orderID])
            #expect(try await harness.client.queryOrders(OrderQuery(accountID: "7100000000000000555")).orders.isEmpty)

            // Paging: page_size 1, every page of the window.
            let all = try await harness.client.allOrders(OrderQuery(accountID: Self.merchant, pageSize: 1))
            #expect(all.orders.map(\.orderID) == [first.orderID, second.orderID])
            #expect(all.pages == 3 && all.warnings.isEmpty && all.logid != nil)
        }
    }

    @Test("every change of any certificate moves update_order_time; feed_fidelity 0 moves none")
    func updateOrderTimeFollowsChanges() async throws {
        for fidelity in [1.0, 0.0] {
            try await SandboxHarness.run(configuration: SandboxConfiguration(feedFidelity: fidelity)) { harness in
                let sandbox = harness.sandbox
                let order = try await sandbox.createOrder(twoCertificateOrder)
                let card = order.certificates[1].certificateID
                var expected = Self.start
                for (step, action) in ["use", "cancel", "use", "request_refund", "reject_refund", "expire"].enumerated() {
                    try await sandbox.advanceClock(by: 100)
                    switch action {
                    case "use": try await sandbox.use(certificateID: card)
                    case "cancel": try await sandbox.cancelVerification(certificateID: card)
                    case "request_refund": try await sandbox.requestRefund(certificateID: card)
                    case "reject_refund": try await sandbox.rejectRefund(certificateID: card)
                    default: try await sandbox.expire(certificateID: card)
                    }
                    if fidelity == 1 { expected = Self.start + Int64(100 * (step + 1)) }
                    let listed = try await harness.client.queryOrders(OrderQuery(accountID: Self.merchant)).orders[0]
                    #expect(listed.updateOrderTime == expected, "\(action) at fidelity \(fidelity)")
                    #expect(listed.createOrderTime == Self.start)
                    #expect(listed.certificates[1].itemUpdateTime == Self.start + Int64(100 * (step + 1)))
                }
            }
        }
    }

    @Test("every verification ever made, cancelled ones with cancel_time, as the certificate query shows them")
    func verifyRecords() async throws {
        try await SandboxHarness.run { harness in
            let sandbox = harness.sandbox
            let order = try await sandbox.createOrder(twoCertificateOrder)
            let (voucher, card) = (order.certificates[0].certificateID, order.certificates[1].certificateID)
            try await sandbox.verify(certificateID: voucher)
            try await sandbox.advanceClock(by: 300)
            try await sandbox.cancelVerification(certificateID: voucher)
            try await sandbox.advanceClock(by: 60)
            try await sandbox.verify(certificateID: voucher, poiID: 7_100_000_000_000_000_202, channel: .codeInput)
            for _ in 0..<3 {
                try await sandbox.advanceClock(by: 60)
                try await sandbox.use(certificateID: card)
            }
            let all = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 2))
            #expect(all.records.count == 5 && all.pages == 3 && all.warnings.isEmpty)
            let cancelled = all.records[0]
            #expect(cancelled.isCancelled && cancelled.status == 2 && cancelled.cancelTime == Self.start + 300)
            #expect(cancelled.canCancel == false && cancelled.verifyTime == Self.start)
            #expect(all.records.dropFirst().allSatisfy { !$0.isCancelled && $0.status == 1 && $0.cancelTime == nil })
            // Standing records are exactly the certificate query's verify_records.
            let certificates = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID)).certificates
            let standing = certificates.flatMap(\.allVerifications)
            #expect(Set(all.records.dropFirst().map(\.verifyID)) == Set(standing.compactMap(\.verifyID?.value)))
            for record in all.records.dropFirst() {
                let same = try #require(standing.first { $0.verifyID?.value == record.verifyID })
                #expect(record.verifyTime == same.verifyTime && record.canCancel == same.canCancel)
                #expect(record.certificateID == same.certificateID?.value)
                #expect(Int64(record.verifyType ?? 0) == same.verifyType)
                #expect(record.poiID == same.poiID?.value)
            }
            #expect(all.records[1].encryptedCode == order.certificates[0].encryptedCode)
            #expect(all.records[2].amount?.payAmount == (certificates[1].amount?.payAmount ?? 0) / 5)

            // poi_ids, and the default window (today, China time).
            let store = try await harness.client.allVerifyRecords(
                VerifyRecordQuery(accountID: Self.merchant, poiIDs: ["7100000000000000202"]))
            #expect(store.records.map(\.verifyID) == [all.records[1].verifyID])
            try await sandbox.advanceClock(by: 86_400)
            #expect(try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant)).records.isEmpty)
            let yesterday = try await harness.client.allVerifyRecords(
                VerifyRecordQuery(accountID: Self.merchant, startTime: Self.start - 10, endTime: Self.start + 200))
            #expect(yesterday.records.map(\.verifyID) == [cancelled.verifyID])
            #expect(try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.other, startTime: 0)).records.isEmpty)
        }
    }

    @Test("the shipped scenario's day: the history holds the cancelled mistake and every verification")
    func scenarioHistory() async throws {
        let scenario = try Scenario.load(path: ScenarioTests.shippedScenario)
        try await SandboxHarness.run(configuration: SandboxConfiguration(scenario: scenario)) { harness in
            try await harness.sandbox.advanceClock(by: 16 * 3_600)
            let history = try await harness.client.allVerifyRecords(
                VerifyRecordQuery(accountID: Self.merchant, startTime: Self.start))
            var standing: Set<String> = []
            for order in await harness.sandbox.listOrders() {
                let certificates = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID)).certificates
                standing.formUnion(certificates.flatMap(\.allVerifications).compactMap(\.verifyID?.value))
            }
            #expect(Set(history.records.filter { !$0.isCancelled }.map(\.verifyID)) == standing)
            // The pickup store's mistaken verification cancelled within the hour, and L-unregistered's,
            // cancelled in the same second (the order nobody registers).
            let cancelled = history.records.filter(\.isCancelled)
            #expect(cancelled.count == 2)
            #expect(cancelled.first?.cancelTime == Self.start + 2 * 3_600 + 20 * 60)
            #expect(history.records.map(\.verifyTime) == history.records.map(\.verifyTime).sorted())
        }
    }

    @Test("orders of any account from the admin API and from scenarios reach both list APIs")
    func anyAccountEndToEnd() async throws {
        let scenario = try Scenario.parse(
            yaml: """
                name: two-merchants
                steps:
                  - at: 0s
                    create: {order: A, certificates: [{kind: voucher}], account_id: "\(Self.other)"}
                  - at: 60s
                    verify: {order: A}
                """)
        try await SandboxHarness.run(configuration: SandboxConfiguration(scenario: scenario)) { harness in
            let (status, created) = try await harness.json(
                .POST, "/sandbox/orders", body: #"{"certificates": [{"kind": "voucher"}], "account_id": "7100000000000000777"}"#)
            #expect(status == 201)
            let adminOrder = try #require(created["order_id"]?.string)
            let viaAdmin = try await harness.client.queryOrders(OrderQuery(accountID: "7100000000000000777"))
            #expect(viaAdmin.orders.map(\.orderID) == [adminOrder])
            let scenarioOrder = try #require(await harness.sandbox.orderID(forLabel: "A"))
            #expect(try await harness.client.queryOrders(OrderQuery(accountID: Self.other)).orders.map(\.orderID) == [scenarioOrder])
            try await harness.sandbox.advanceClock(by: 60)
            let records = try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.other))
            #expect(records.records.map(\.verifyTime) == [Self.start + 60])
            #expect(try await harness.client.allVerifyRecords(VerifyRecordQuery(accountID: Self.merchant)).records.isEmpty)
        }
    }

    @Test("parameter errors are 2100005 naming the field")
    func parameterErrors() async throws {
        try await SandboxHarness.run { harness in
            let token = try await harness.token()
            let cases: [(String, String)] = [
                (DouyinListAPI.orderQueryPath, "account_id"),
                (DouyinListAPI.orderQueryPath + "?account_id=1&page_size=0", "page_size"),
                (DouyinListAPI.orderQueryPath + "?account_id=1&update_order_start_time=soon", "update_order_start_time"),
                (DouyinListAPI.verifyRecordQueryPath + "?cursor=0&size=20", "account_id"),
                (DouyinListAPI.verifyRecordQueryPath + "?account_id=1&size=20", "cursor"),
                (DouyinListAPI.verifyRecordQueryPath + "?account_id=1&cursor=0", "size"),
                (DouyinListAPI.verifyRecordQueryPath + "?account_id=1&cursor=0&size=21", "size"),
            ]
            for (path, field) in cases {
                let (status, json) = try await harness.json(.GET, path, headers: [("access-token", token)])
                #expect(status == 200)
                #expect(json["extra"]?["error_code"]?.int == 2_100_005, "\(path)")
                #expect(json["extra"]?["sub_description"]?.string?.hasPrefix(field) == true, "\(path)")
            }
            await #expect {
                _ = try await harness.client.queryVerifyRecords(VerifyRecordQuery(accountID: Self.merchant, size: 50))
            } throws: { ($0 as? DouyinAPIError)?.code == 2_100_005 && ($0 as? DouyinAPIError)?.errorClass == .permanent }
        }
    }

    @Test("2119005 for every API while an account is deauthorized; success again after authorize")
    func deauthorization() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let foreign = try await harness.sandbox.createOrder(OrderSpec(certificates: [.init()], accountID: Self.other))
            try await harness.sandbox.verify(certificateID: order.certificates[0].certificateID)
            let (status, access) = try await harness.json(.POST, "/sandbox/accounts/\(Self.merchant)/deauthorize")
            #expect(status == 200 && access["deauthorized_accounts"] == .array([.string(Self.merchant)]))
            let client = harness.client
            let calls: [(String, @Sendable () async throws -> Void)] = [
                ("orders", { _ = try await client.queryOrders(OrderQuery(accountID: Self.merchant)) }),
                ("records", { _ = try await client.queryVerifyRecords(VerifyRecordQuery(accountID: Self.merchant)) }),
                ("certificates", { _ = try await client.queryCertificates(CertificateQuery(orderID: order.orderID)) }),
                ("certificates by account", {
                    _ = try await client.queryCertificates(CertificateQuery(orderID: order.orderID, accountID: Self.merchant))
                }),
            ]
            for (name, call) in calls {
                await #expect("\(name)") { try await call() } throws: { error in
                    let error = error as? DouyinAPIError
                    return error?.code == 2_119_005 && error?.errorClass == .permanent && error?.logid != nil
                }
            }
            // Another account is not affected.
            #expect(try await client.queryOrders(OrderQuery(accountID: Self.other)).orders.map(\.orderID) == [foreign.orderID])
            let (again, _) = try await harness.json(.POST, "/sandbox/accounts/\(Self.merchant)/authorize")
            #expect(again == 200)
            for (name, call) in calls {
                await #expect(throws: Never.self, "\(name)") { try await call() }
            }
            let (unknown, _) = try await harness.json(.POST, "/sandbox/accounts/\(Self.merchant)/suspend")
            #expect(unknown == 404)
        }
    }

    @Test("2190004 for an API whose scope is revoked; the others answer")
    func scopes() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let (status, access) = try await harness.json(.POST, "/sandbox/scopes/order_query/revoke")
            #expect(status == 200 && access["revoked_scopes"] == .array([.string("order_query")]))
            await #expect {
                _ = try await harness.client.queryOrders(OrderQuery(accountID: Self.merchant))
            } throws: { ($0 as? DouyinAPIError)?.code == 2_190_004 && ($0 as? DouyinAPIError)?.errorClass == .permanent }
            _ = try await harness.client.queryVerifyRecords(VerifyRecordQuery(accountID: Self.merchant))
            _ = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            let (granted, _) = try await harness.json(.POST, "/sandbox/scopes/order_query/grant")
            #expect(granted == 200)
            #expect(try await harness.client.queryOrders(OrderQuery(accountID: Self.merchant)).orders.count == 1)
            let (unknown, _) = try await harness.json(.POST, "/sandbox/scopes/settle_query/revoke")
            #expect(unknown == 404)
        }
        // Or from the configuration.
        try await SandboxHarness.run(configuration: SandboxConfiguration(revokedScopes: [.verifyRecordQuery])) { harness in
            await #expect {
                _ = try await harness.client.queryVerifyRecords(VerifyRecordQuery(accountID: Self.merchant))
            } throws: { ($0 as? DouyinAPIError)?.code == 2_190_004 }
            _ = try await harness.client.queryOrders(OrderQuery(accountID: Self.merchant))
        }
    }

    @Test("each API has its own QPS quota; the log shows none exceeded in any second")
    func perAPIQuotas() async throws {
        try await SandboxHarness.run(configuration: SandboxConfiguration(orderQueryQPS: 4, verifyRecordQueryQPS: 2)) { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let client = harness.client
            func outcomes(_ call: () async throws -> Void, times: Int) async -> [Int64] {
                var codes: [Int64] = []
                for _ in 0..<times {
                    do {
                        try await call()
                        codes.append(0)
                    } catch let error as DouyinAPIError {
                        codes.append(error.code ?? -1)
                    } catch {
                        codes.append(-1)
                    }
                }
                return codes
            }
            for _ in 0..<2 {
                let orders = await outcomes({ _ = try await client.queryOrders(OrderQuery(accountID: Self.merchant)) }, times: 6)
                let records = await outcomes(
                    { _ = try await client.queryVerifyRecords(VerifyRecordQuery(accountID: Self.merchant)) }, times: 4)
                let certificates = await outcomes(
                    { _ = try await client.queryCertificates(CertificateQuery(orderID: order.orderID)) }, times: 8)
                #expect(orders == [0, 0, 0, 0, 2_119_003, 2_119_003])
                #expect(records == [0, 0, 2_119_003, 2_119_003])
                #expect(certificates.allSatisfy { $0 == 0 })  // the certificate query's quota is the fault profile's (none)
                try await harness.sandbox.advanceClock(by: 1)
            }
            let log = await harness.sandbox.requests()
            let quota: [DouyinAPIKind: Int] = [.orderQuery: 4, .verifyRecordQuery: 2]
            var admitted: [String: Int] = [:]
            for entry in log where entry.errorCode == 0 {
                guard let api = entry.api, let limit = quota[api] else { continue }
                let key = "\(api.rawValue)@\(Int64(entry.time.rounded(.down)))"
                admitted[key, default: 0] += 1
                #expect(admitted[key]! <= limit, "\(key)")
            }
            #expect(admitted.count == 4)
            #expect(log.filter { $0.errorCode == 2_119_003 }.allSatisfy { $0.fault == "rate_limit" && $0.api != nil })
        }
    }
}
