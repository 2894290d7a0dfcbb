import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Testing

@Suite("Grouped deliveries")
struct GroupingDeliveryTests {
    static let rules = """
        rules:
          - name: store-summary
            on: [certificate.verified]
            group: { by: [data.watch.labels.store], wait: 30s, interval: 5m, max: 50 }
            deliver: [ding]
        """

    func event(_ n: Int, store: String, time: Int64) -> CertWatchEvent {
        CertWatchEvent(
            id: "evt_\(n)", source: "/douyin/compre_retail/orders/\(n)", type: .verified, subject: "c\(n)", time: time,
            data: EventData(watch: WatchInfo(id: "w_\(n)", orderID: "\(n)", labels: ["store": store])))
    }

    @Test("events wait, then one summary per group and sink; the state survives a restart without repeats")
    func summaries() async throws {
        let store = try temporaryStore()
        let clock = ManualWallClock(1_734_169_082)
        let rules = try RuleSet.parse(sources: [("rules.yaml", Self.rules)], knownSinks: ["ding"])
        let outbox = Outbox(rules: rules, clock: clock)
        let t = clock.unixNow
        _ = try await outbox.append([event(1, store: "sh", time: t), event(2, store: "sh", time: t), event(3, store: "bj", time: t)], to: store)
        let flusher = GroupFlusher(store: store, outbox: outbox, clock: clock)
        #expect(try await flusher.flushDue() == 0)  // still within `wait`
        clock.advance(31)
        #expect(try await flusher.flushDue() == 2)  // sh and bj
        let deliveries = store
        var rows = try await deliveries.deliveries()
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { $0.sink == "ding" && $0.rule == "store-summary" && $0.body?.isEmpty == false })

        // A restart: new objects over the same database; nothing is sent again.
        let restarted = GroupFlusher(store: store, outbox: Outbox(rules: rules, clock: clock), clock: clock)
        clock.advance(60)
        #expect(try await restarted.flushDue() == 0)
        _ = try await Outbox(rules: rules, clock: clock).append([event(4, store: "sh", time: clock.unixNow)], to: store)
        clock.advance(300)
        #expect(try await restarted.flushDue() == 1)  // the next sh update after `interval`
        rows = try await deliveries.deliveries()
        #expect(rows.count == 3)
    }
}
