@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite("Watcher against the sandbox")
struct WatcherTests {
    @Test("register, verify, cancel, close the window, use a times card, expire: the exact event sequence")
    func lifecycle() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 1_800)) { h in
            let order = try await h.sandbox.createOrder(
                OrderSpec(certificates: [.init(kind: .voucher), .init(kind: .timesCard, timesCount: 3)], expireIn: 3 * 86_400))
            let voucher = order.certificates[0].certificateID
            let card = order.certificates[1].certificateID
            try await h.register(order.orderID, labels: ["store": "sh-01"])

            var events = try await h.run(for: 2)
            #expect(events.map(\.type) == [.discovered, .discovered])
            #expect(events.allSatisfy { $0.data.watch.labels == ["store": "sh-01"] })

            _ = try await h.sandbox.verify(certificateID: voucher)
            events = try await h.run(for: 1_800)
            #expect(events.map(\.type) == [.verified, .statusChanged])
            #expect(events[0].subject == voucher)

            _ = try await h.sandbox.cancelVerification(certificateID: voucher)
            events = try await h.run(for: 60)  // polled every 30 s while cancellable
            #expect(events.map(\.type) == [.verifyCancelled, .statusChanged])

            _ = try await h.sandbox.verify(certificateID: voucher)
            events = try await h.run(for: 3_700)  // the window closes after an hour
            #expect(events.map(\.type) == [.verified, .statusChanged, .cancelWindowClosed])

            _ = try await h.sandbox.use(certificateID: card)
            _ = try await h.sandbox.use(certificateID: card)
            events = try await h.run(for: 1_801)
            #expect(events.filter { $0.subject == card }.map(\.type).sorted() == [.statusChanged, .timesCardUsed, .timesCardUsed, .verified, .verified].sorted())
            #expect(events.filter { $0.type == .timesCardUsed }.map(\.data.use?.number) == [1, 2])

            // Nothing else happens until the expiring_soon lead time (1 day before expiry), then expiry.
            events = try await h.run(for: 2 * 86_400 - 3_600)
            #expect(events.filter { $0.subject == card }.map(\.type).contains(.expiringSoon))
            events += try await h.run(for: 86_400)
            #expect(events.filter { $0.subject == card }.map(\.type).contains(.expired))
            #expect(!events.contains { $0.subject == voucher && ($0.type == .expired || $0.type == .expiringSoon) })

            let all = try await h.store.events(limit: 1000)
            #expect(all.map(\.sequence) == Array(1...Int64(all.count)).map(Optional.some))
            #expect(Set(all.map(\.id)).count == all.count)
        }
    }

    @Test("a lease lasts two request timeouts plus a margin, from the configured douyin.request_timeout")
    func leaseFollowsRequestTimeout() async throws {
        #expect(WatcherConfiguration.lease(requestTimeout: .seconds(15)) == 40)
        #expect(WatcherConfiguration.lease(requestTimeout: .milliseconds(2_500)) == 15)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cw-\(UUID().uuidString).yaml").path
        try "douyin:\n  base_url: http://127.0.0.1:9\n  request_timeout: 5s\n".write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try CertWatchConfiguration.load(path: path, environment: [:])
        let store = try temporaryStore()
        let clock = ManualWallClock(Double(Harness.start))
        let http = DouyinClient.makeHTTPClient(configuration.douyin)
        let client = DouyinClient(configuration: configuration.douyin, httpClient: http)
        let derived = Watcher(store: store, client: client, clock: clock, configuration: configuration.watcher)
        let fixed = Watcher(store: store, client: client, clock: clock, configuration: WatcherConfiguration(lease: 7))
        try await http.shutdown()
        #expect(derived.lease == 20)
        #expect(fixed.lease == 7)
        // What the watcher claims stays leased for exactly that long.
        let watch = try await store.register(WatchRegistration(orderID: "1001"), now: Harness.start, firstPollAt: Harness.start).watch
        #expect(try await store.claimDue(now: Harness.start, limit: 1, lease: derived.lease).map(\.id) == [watch.id])
        #expect(try await store.claimDue(now: Harness.start + 19, limit: 1, lease: derived.lease).isEmpty)
        #expect(try await store.claimDue(now: Harness.start + 20, limit: 1, lease: derived.lease).map(\.id) == [watch.id])
    }

    @Test("the budget is shared among the active watches, recounted once a minute; fewer watches, shorter intervals")
    func budgetSharing() async throws {
        let store = try temporaryStore()
        let clock = ManualWallClock(Double(Harness.start))
        let configuration = DouyinClientConfiguration(baseURL: "http://127.0.0.1:9", clientKey: "k", clientSecret: "s")
        let http = DouyinClient.makeHTTPClient(configuration)
        let watcher = Watcher(
            store: store, client: DouyinClient(configuration: configuration, httpClient: http), clock: clock,
            configuration: WatcherConfiguration(qps: 1))
        do {
            #expect(await watcher.activeWatchCount(now: clock.unixNow) == 0)
            _ = try await store.registerMany(
                (0..<1_000).map { WatchRegistration(orderID: "\(100_000 + $0)") }, now: Harness.start, firstPollAt: Harness.start)
            #expect(await watcher.activeWatchCount(now: clock.unixNow) == 0)  // counted less than a minute ago
            clock.advance(60)
            #expect(await watcher.activeWatchCount(now: clock.unixNow) == 1_000)
            for watch in try await store.watches(limit: 700) { _ = try await store.remove(id: watch.id, now: Harness.start + 60) }
            clock.advance(60)
            #expect(await watcher.activeWatchCount(now: clock.unixNow) == 300)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test("spare quota is spent: one usable watch under a large budget is polled at poll.min_interval, not 5 minutes")
    func spareQuotaSpent() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 40)) { h in
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], expireIn: 30 * 86_400))
            let watch = try await h.register(order.orderID)
            _ = try await h.run(for: 2)
            let polled = try await h.store.watch(id: watch.id)
            #expect(polled?.nextPollAt == (polled?.lastPolledAt).map { $0 + 40 })
        }
    }

    @Test("an unknown order fails the watch with a watch.failed event carrying code and logid")
    func permanentFailure() async throws {
        try await Harness.with { h in
            let watch = try await h.register("1068999999999999999")
            _ = try await h.run(for: 2)
            let events = try await h.store.events()
            #expect(events.map(\.type) == [.watchFailed])
            #expect(events.first?.data.error?.code == 2_119_001)
            #expect(events.first?.data.error?.logid?.isEmpty == false)
            #expect(try await h.store.watch(id: watch.id)?.state == .failed)
        }
    }

    @Test("30 % busy faults: the same events, eventually")
    func faults() async throws {
        let profile = FaultProfile(seed: 7, faults: [FaultRule(kind: .busy, probability: 0.3)])
        let clean = try await Harness.with { h in try await scriptedRun(h) }
        let faulty = try await Harness.with(faults: profile) { h in try await scriptedRun(h) }
        #expect(Set(faulty) == Set(clean))
        #expect(!clean.isEmpty)
    }

    @Test("a redone poll (crash between fetch and commit) yields the same ids and stores nothing twice")
    func crashSafety() async throws {
        try await Harness.with { h in
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            let watch = try await h.register(order.orderID)
            _ = try await h.sandbox.verify(certificateID: order.certificates[0].certificateID)
            try await h.advance(2)
            // The poll's events are computed but the process "crashes" before commit: simulate by
            // polling twice from the same stored state (the second poll sees the same snapshots).
            let first = await h.watcher.poll(watch)
            guard case .polled(let stored) = first else { Issue.record("poll failed: \(first)"); return }
            let replay = try await h.store.append(stored)  // the same events again, as after a restart
            #expect(replay.isEmpty)
            #expect(try await h.store.events().count == stored.count)
            #expect(stored.map(\.type) == [.discovered, .verified])
        }
    }
}

/// A fixed script (a voucher verified, a times card used twice, a refund) run for 2 hours of
/// virtual time; returns the (certificate, type, event id) triples.
func scriptedRun(_ h: Harness) async throws -> [String] {
    let order = try await h.sandbox.createOrder(
        OrderSpec(
            certificates: [.init(kind: .voucher), .init(kind: .timesCard, timesCount: 3), .init(kind: .voucher)],
            expireIn: 10 * 86_400, orderID: "9000001"))
    try await h.register(order.orderID)
    _ = try await h.run(for: 300)  // discovered first, even through retries
    _ = try await h.sandbox.verify(certificateID: order.certificates[0].certificateID)
    _ = try await h.sandbox.use(certificateID: order.certificates[1].certificateID)
    _ = try await h.run(for: 900)
    _ = try await h.sandbox.use(certificateID: order.certificates[1].certificateID)
    _ = try await h.sandbox.refund(certificateID: order.certificates[2].certificateID)
    _ = try await h.run(for: 6_600)
    return try await h.store.events(limit: 1000).map { "\($0.subject) \($0.type.rawValue) \($0.id)" }
}
