import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Logging
import Testing

/// Issue 26's must-show, in-process against the sandbox in real time: two merchant accounts, 200
/// orders of which the "backend" registers 150, the feed and the sweep on; 60 verifications (20 of
/// them on orders nobody registered) and 10 of them cancelled at once. Every `certificate.verified`
/// and `certificate.verify_cancelled` is delivered, each saying which detector saw it, no event id
/// twice, and no API above its quota in any second of the sandbox's request log.
@Suite("Nothing Douyin records is missed")
struct NothingMissedTests {
    static let accounts = ["7100000000000000001", "7100000000000000002"]

    @Test("feed and sweep: 60 verifications and 10 cancelled pairs delivered, registered or not, within every API's quota; wild drift gives the same event ids")
    func everythingDelivered() async throws {
        let clean = try await Self.day(faults: .none)
        let wild = try await Self.day(faults: try #require(FaultProfile.builtins["wild"]))
        #expect(clean.count == 70)
        #expect(wild == clean, "only clean: \(clean.subtracting(wild).count), only wild: \(wild.subtracting(clean).count)")
    }

    /// One run of the day with the sandbox's `faults` (plus the quotas); the delivered event ids.
    static func day(faults: FaultProfile) async throws -> Set<String> {
        let logger = { () -> Logger in
            var logger = Logger(label: "test.nothing-missed")
            logger.logLevel = .critical
            return logger
        }()
        let quotas = DouyinQuotas(certificateQuery: 20, orderQuery: 8, verifyRecordQuery: 4)
        let sandbox = DouyinSandbox(
            configuration: SandboxConfiguration(
                faults: { var profile = faults; profile.qps = quotas.certificateQuery; return profile }(),
                orderQueryQPS: quotas.orderQuery,
                verifyRecordQueryQPS: quotas.verifyRecordQuery),
            clock: .system())
        return try await DouyinSandboxServer(sandbox: sandbox, port: 0, logger: logger).withRunning { sandboxURL in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-missed-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(
                "rules:\n  - name: uses\n    on: [certificate.verified, certificate.verify_cancelled]\n    deliver: [archive]\n".utf8
            ).write(to: directory.appendingPathComponent("uses.yaml"))
            var configuration = try testConfiguration(
                baseURL: sandboxURL, watcher: WatcherConfiguration(policy: PollPolicy(jitter: 0), qps: quotas.certificateQuery, concurrency: 4),
                rulePaths: [directory.path],
                sinks: [SinkConfiguration(name: "archive", kind: .file, path: directory.appendingPathComponent("events.jsonl").path)])
            configuration.quotas = quotas
            configuration.accounts = AccountsConfiguration(
                accounts: Self.accounts.map {
                    AccountSettings(accountID: $0, feed: .init(enabled: true, interval: 1), sweep: .init(enabled: true, interval: 3))
                })
            let store = try temporaryStore()
            let services = try CertWatchServices(
                configuration: configuration, options: .init(makeLogger: { _ in logger }, store: store))
            let result: Result<Set<String>, any Error>
            do {
                result = .success(try await Self.run(sandbox: sandbox, services: services, store: store, quotas: quotas))
            } catch {
                result = .failure(error)
            }
            try await services.shutdown()
            return try result.get()
        }
    }

    static func run(sandbox: DouyinSandbox, services: CertWatchServices, store: Store, quotas: DouyinQuotas) async throws -> Set<String> {
        // 200 orders, 100 per account; the backend registers 75 of each.
        var orders: [(order: CreatedOrder, registered: Bool)] = []
        for index in 0..<200 {
            let account = accounts[index % 2]
            let order = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], accountID: account))
            orders.append((order, index < 150))
        }
        let now = Int64(Date().timeIntervalSince1970)
        for (index, item) in orders.enumerated() where item.registered {
            _ = try await store.register(
                WatchRegistration(orderID: item.order.orderID, accountID: accounts[index % 2]), now: now, firstPollAt: now)
        }
        let registered = orders.filter(\.registered).prefix(40).map(\.order)
        let unregistered = orders.filter { !$0.registered }.prefix(20).map(\.order)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run(signals: AsyncStream { _ in }) }
            // 60 verifications: 40 of registered orders, 20 of unregistered ones; 10 cancelled at once
            // (5 of each kind), before any poll can see them.
            let cancelledAt: Set<Int> = [0, 8, 16, 24, 32, 40, 44, 48, 52, 56]
            for (index, order) in (registered + unregistered).enumerated() {
                let certificate = order.certificates[0].certificateID
                _ = try await sandbox.verify(certificateID: certificate)
                if cancelledAt.contains(index) { _ = try await sandbox.cancelVerification(certificateID: certificate) }
            }
            // Wait for the 70 deliveries (a watchdog of 4 minutes, not a timing bound).
            let deadline = ContinuousClock.now + .seconds(240)
            while ContinuousClock.now < deadline, try await store.deliveries(state: .delivered, limit: 10_000).count < 70 {
                try await Task.sleep(for: .milliseconds(200))
            }
            await services.group.triggerGracefulShutdown()
            tasks.cancelAll()
            try? await tasks.waitForAll()
        }
        let delivered = try await store.deliveries(state: .delivered, limit: 10_000)
        let types = Dictionary(grouping: delivered, by: \.eventType).mapValues(\.count)
        #expect(types["certificate.verified"] == 60, "\(types)")
        #expect(types["certificate.verify_cancelled"] == 10, "\(types)")
        #expect(Set(delivered.map(\.eventID)).count == delivered.count, "an event id delivered twice")
        let events = try await store.events(after: 0, type: nil, orderID: nil, limit: 100_000)
        #expect(Set(events.map(\.id)).count == events.count)
        let uses = events.filter { [.verified, .verifyCancelled].contains($0.type) }
        #expect(uses.allSatisfy { $0.data.detectedBy != nil }, "an event without detected_by")
        let byDetector = Dictionary(grouping: uses, by: { $0.data.detectedBy?.rawValue ?? "none" }).mapValues(\.count)
        // The orders nobody registered were found by the feed or the sweep, which registered them.
        for order in unregistered {
            let watches = try await store.watches(matching: order.orderID)
            #expect(watches.count == 1, "order \(order.orderID) not registered")
            #expect(["feed", "sweep"].contains(watches.first?.labels["source"] ?? ""), "\(watches.first?.labels ?? [:])")
        }
        // Every API within its quota in every second of the sandbox's log.
        let log = await sandbox.requests(since: 0, limit: 100_000)
        var perSecond: [String: Int] = [:]
        for entry in log {
            guard let api = entry.api else { continue }
            perSecond["\(api.rawValue)@\(Int64(entry.time.rounded(.down)))", default: 0] += 1
        }
        let limits: [DouyinAPIKind: Double] = [
            .certificateQuery: quotas.certificateQuery, .orderQuery: quotas.orderQuery, .verifyRecordQuery: quotas.verifyRecordQuery,
        ]
        for (key, count) in perSecond {
            let api = DouyinAPIKind(rawValue: String(key.split(separator: "@")[0]))!
            #expect(Double(count) <= limits[api]!, "\(key): \(count) requests, quota \(limits[api]!)")
        }
        #expect(!log.contains { $0.errorCode == 2_119_003 }, "Douyin answered 2119003")
        print("nothing-missed (\(await sandbox.faultProfile().name ?? "-")): \(types), by detector \(byDetector), \(log.count) requests")
        return Set(delivered.map(\.eventID))
    }
}
