import CertWatch
import CertWatchCore
import CertWatchTesting
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// The demo's scenario end to end on a virtual clock: the shipped pickup-store day, the shipped
/// rules plus a webhook rule, the outbox and the dispatcher delivering to a verifying receiver.
@Suite("Pickup-store day end to end")
struct PickupStoreDayTests {
    @Test("exact event types per certificate, every webhook signature verified")
    func pickupStoreDay() async throws {
        let scenario = try Scenario.load(path: repositoryRoot + "/deploy/sandbox/scenarios/pickup-store-day.yaml")
        let secret = "whsec_" + Data("end-to-end".utf8).base64EncodedString()
        let clock = ManualWallClock(Double(Harness.start))
        let receiver = WebhookReceiver(secrets: [secret], now: { clock.now() })
        try await receiver.withRunning { receiverURL in
            let sinks = [
                SinkConfiguration(name: "stdout", kind: .stdout),
                SinkConfiguration(
                    name: "webhook", kind: .webhook, url: receiverURL + "/hook", secrets: [secret], allowPrivate: true),
            ]
            // The shipped rules plus one sending every event to the webhook.
            let extra = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-rules-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: extra) }
            try Data("rules:\n  - name: all-to-webhook\n    on: [\"*\"]\n    deliver: [webhook]\n".utf8)
                .write(to: extra.appendingPathComponent("all-to-webhook.yaml"))
            // The demo's cadence (routine polls 10–15 minutes apart, as the scenario's spacing assumes):
            // the 30 s floor an unlimited quota gives would meet the scenario's real-time rate limit.
            let policy = PollPolicy(jitter: 0, minInterval: 600, maxInterval: 900)
            try await Harness.with(
                policy: policy, scenario: scenario, rulePaths: [repositoryRoot + "/rules", extra.path], sinks: sinks
            ) { h in
                h.clock.set(clock.now())
                try await Self.playDay(h, dispatcher: h.services.dispatcher, clock: clock, receiver: receiver)
            }
        }
    }

    static func playDay(_ h: Harness, dispatcher: Dispatcher, clock: ManualWallClock, receiver: WebhookReceiver)
        async throws
    {
        var registered = Set<String>()
        var labels: [String: String] = [:]  // certificate id → "A1", "C2", …
        for _ in 0..<(15 * 30) {
            try await h.advance(120)
            clock.set(h.clock.now())
            for order in await h.sandbox.listOrders() where !registered.contains(order.orderID) {
                try await h.register(order.orderID)
                registered.insert(order.orderID)
                for (index, certificate) in order.certificates.enumerated() {
                    labels[certificate.certificateID] = "\(order.label ?? "?")\(index + 1)"
                }
            }
            _ = try await h.watcher.pollDue()
            try await dispatcher.dispatchDue()
        }
        var sequences: [String: [String]] = [:]
        for event in try await h.store.events(limit: 10_000) {
            sequences[labels[event.subject] ?? event.subject, default: []].append(
                event.type.rawValue.replacingOccurrences(of: "certificate.", with: ""))
        }
        // The scenario's story (deploy/sandbox/scenarios/pickup-store-day.yaml), certificate by certificate.
        let use = ["verified", "times_card_used"]
        let closes = ["cancel_window_closed"]
        let verifiedOnce = ["discovered", "verified", "status_changed", "cancel_window_closed"]
        let expected: [String: [String]] = [
            "A1": verifiedOnce,  // 08:15 verified; the 16:00 late cancel is refused
            "B1": ["discovered"] + use + ["status_changed"] + closes + use + closes + use + closes + use + closes,
            "C1": verifiedOnce,  // the right voucher, 10:21
            "C2": ["discovered", "verified", "status_changed", "verify_cancelled", "status_changed"],  // scanned by mistake
            "D1": ["discovered", "expiring_soon", "expired"],  // a same-day deal, unused (Douyin has no expired status)
            // Requested 11:00, approved 12:45: refunding for an hour, then refunded.
            "E1": ["discovered", "refund_requested", "status_changed", "refunding", "status_changed", "refunded", "status_changed"],
            "F1": ["discovered"] + use + ["status_changed"] + closes + use + closes,
            "G1": verifiedOnce,  // bought 09:30, picked up 15:00 at the second store
            "H1": ["discovered", "expired"],  // ended early by the merchant
            "I1": verifiedOnce,  // verified by the buyer in the app (verify_type 1)
            // Requested 10:40, rejected 11:30 (usable again), picked up 17:40.
            "J1": ["discovered", "refund_requested", "status_changed", "refund_failed", "status_changed"] + verifiedOnce.dropFirst(),
            // The demo's backend never registers these two (only its feed and sweep find them); this
            // test registers every order. K is picked up at 18:50.
            "K-unregistered1": verifiedOnce,
            // L is verified and cancelled in the same second (20:30): no poll can see it (the sweep's
            // verify records can, see NothingMissedTests and DemoDetectorsTests).
            "L-unregistered1": ["discovered"],
        ]
        #expect(sequences == expected)
        let received = receiver.received
        #expect(received.count == sequences.values.map(\.count).reduce(0, +))
        #expect(received.allSatisfy { $0.verified == true })
    }
}
