@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite("watch.stalled and watch.recovered")
struct WatchStallTests {
    @Test("one watch answered with undecodable bodies: one watch.stalled, then one watch.recovered; the other watch unaffected")
    func stallAndRecover() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 300, maxInterval: 300)) { h in
            let bad = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], expireIn: 30 * 86_400))
            let good = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], expireIn: 30 * 86_400))
            try await h.sandbox.setFaultProfile(
                FaultProfile(faults: [FaultRule(kind: .malformedJSON, orderIDs: [bad.orderID])]))
            let badWatch = try await h.register(bad.orderID)
            let goodWatch = try await h.register(good.orderID)

            // Five failures come within 5 + 10 + 20 + 40 s (±20 %) of the first poll.
            _ = try await h.run(for: 200)
            var stalled = try await h.store.events(type: .watchStalled)
            #expect(stalled.count == 1)
            let event = try #require(stalled.first)
            #expect(event.subject == badWatch.id)
            #expect(event.data.stall?.consecutiveFailures == 5)
            #expect(event.data.stall?.since == Harness.start + 1)
            #expect(event.data.error?.errorClass == .retry)
            #expect(event.data.error?.description?.contains("not JSON") == true)
            #expect(try await h.store.watch(id: badWatch.id)?.state == .stalled)
            #expect(try await h.store.watches(state: .stalled).map(\.id) == [badWatch.id])
            #expect(try await h.store.watchCounts()[.stalled] == 1)

            // Failing on: still exactly one stalled event.
            _ = try await h.run(for: 3 * 3_600)
            stalled = try await h.store.events(type: .watchStalled)
            #expect(stalled.count == 1)

            // Douyin answers normally again: the next poll recovers the watch.
            try await h.sandbox.setFaultProfile(FaultProfile())
            _ = try await h.run(for: 700)
            let recovered = try await h.store.events(type: .watchRecovered)
            #expect(recovered.count == 1)
            #expect(recovered.first?.subject == badWatch.id)
            #expect(recovered.first?.data.stall?.since == Harness.start + 1)
            #expect(try await h.store.watch(id: badWatch.id)?.state == .active)
            #expect(try await h.store.events(type: .watchStalled).count == 1)
            let badEvents = try await h.store.events(orderID: bad.orderID).map(\.type)
            #expect(badEvents == [.watchStalled, .watchRecovered, .discovered])

            // The other watch was polled on its schedule throughout and never stalled.
            let goodEvents = try await h.store.events(orderID: good.orderID).map(\.type)
            #expect(goodEvents == [.discovered])
            let other = try #require(try await h.store.watch(id: goodWatch.id))
            #expect(other.state == .active && other.consecutiveFailures == 0 && other.pollCount > 30)
        }
    }

    @Test("the stall rule: N failures in a row, or failing for T without a success; 0 turns a check off")
    func stallPolicy() {
        let policy = StallPolicy(failures: 5, duration: 3_600)
        #expect(!policy.isStalled(consecutiveFailures: 4, failingSince: 0, now: 3_599))
        #expect(policy.isStalled(consecutiveFailures: 5, failingSince: 0, now: 10))
        #expect(policy.isStalled(consecutiveFailures: 2, failingSince: 0, now: 3_600))
        #expect(!StallPolicy(failures: 0, duration: 0).isStalled(consecutiveFailures: 1_000, failingSince: 0, now: 1_000_000))
    }
}
