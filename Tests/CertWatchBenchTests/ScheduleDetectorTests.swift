@testable import CertWatchBench
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Testing

/// A small seeded store group (300 watches known at the start, 40 accounts): small enough for a debug
/// build, large enough to hold orders the backend never registered and a cancelled verification.
private let simulation = ScheduleSimulation(watchCount: 300, seed: 19)
/// A tight budget for 300 watches (as 10 QPS is for 10,000).
private let qps = 0.3

@Suite("schedule-efficiency: unregistered orders, the change feed, the sweep, the oracle")
struct ScheduleDetectorTests {
    @Test("10 % of bought orders are never registered; without the feed or the sweep their events are missed")
    func unregisteredOrdersAreMissedByPollingAlone() throws {
        let counts = simulation.unregisteredCounts
        let share = Double(counts.backlog + counts.bought) / Double(simulation.watchCount)
        #expect(share > 0.05 && share < 0.15)
        let events = simulation.unregisteredEventCounts().values.reduce(0, +)
        try #require(events > 0)
        let polling = simulation.run(.adaptive, qps: qps)
        #expect(polling.missedTotal >= events)
        #expect(polling.feedCalls == 0 && polling.sweepCalls == 0 && polling.registeredByDetectors == 0)
    }

    @Test("with the feed at 100 % fidelity an unregistered order's verification is detected, within the feed interval")
    func feedDetectsUnregisteredVerification() throws {
        try #require((simulation.unregisteredEventCounts()[.verified] ?? 0) > 0)
        let polling = simulation.run(.adaptive, qps: qps)
        #expect((polling.missed[.verified] ?? 0) > 0)
        let feed = simulation.run(.adaptive, qps: qps, detectors: .init(feedFidelity: 1))
        #expect(feed.missed[.verified] == 0)
        #expect(feed.missed[.timesCardUsed] == 0)
        #expect(feed.missed[.refunded] == 0)
        #expect(feed.registeredByDetectors > 0)
        // Every verification is named by the next feed query (15 s) and polled on the hint lane.
        #expect(feed.p99(.verified) <= 30)
        // One feed query per account every 15 s, in pages of 100 (one page here), on its own quota.
        #expect(feed.feedCalls == 40 * Int(simulation.dayLength / 15))
        #expect(Double(feed.calls) <= qps * Double(simulation.dayLength))
    }

    @Test("at 50 % fidelity the feed names half the changes: slower than at 100 %, faster than polling alone")
    func halfFidelity() {
        let full = simulation.run(.adaptive, qps: qps, detectors: .init(feedFidelity: 1))
        let half = simulation.run(.adaptive, qps: qps, detectors: .init(feedFidelity: 0.5))
        let polling = simulation.run(.adaptive, qps: qps)
        #expect(half.p50(.timesCardUsed) >= full.p50(.timesCardUsed))
        #expect(half.p50(.timesCardUsed) < polling.p50(.timesCardUsed))
    }

    @Test("with the sweep no cancelled pair and no unregistered order is missed")
    func sweepCatchesCancelledPairsAndRegisters() throws {
        let cancelled = simulation.events.filter { $0.type == .verifyCancelled }
        try #require(!cancelled.isEmpty)
        let sweep = simulation.run(.adaptive, qps: qps, detectors: .init(sweep: true))
        #expect(sweep.missed[.verified] == 0)
        #expect(sweep.missed[.verifyCancelled] == 0)
        #expect(sweep.missedTotal == 0)
        let counts = simulation.unregisteredCounts
        // The backfill registers the unregistered backlog; later orders within a sweep interval of being bought.
        #expect(sweep.registeredByDetectors >= counts.backlog && sweep.registeredByDetectors <= counts.backlog + counts.bought)
        #expect(sweep.sweepCalls >= 2 * 40 * Int(simulation.dayLength / 300))
    }

    @Test("a cancelled pair no poll saw is reported from the verify record, at the sweep")
    func pairFromRecord() throws {
        // A starved budget: polling alone misses cancelled pairs. An hourly sweep (the cancels come
        // 1–59 minutes after their verification) mostly reads them already cancelled: it reports both
        // events from the record instead of hinting a poll.
        let starved = 0.02
        let polling = simulation.run(.adaptive, qps: starved)
        try #require((polling.missed[.verifyCancelled] ?? 0) > 0)
        var hourly = ScheduleSimulation.Detectors(sweep: true)
        hourly.sweepInterval = 3_600
        let sweep = simulation.run(.adaptive, qps: starved, detectors: hourly)
        #expect(sweep.missed[.verifyCancelled] == 0)
        #expect(sweep.missed[.verified] == 0)
        #expect(sweep.pairsFromSweep > 0)
    }

    @Test("feed and sweep together: nothing missed")
    func feedAndSweep() {
        let both = simulation.run(.adaptive, qps: qps, detectors: .init(feedFidelity: 1, sweep: true))
        #expect(both.missedTotal == 0)
    }

    @Test("the oracle's calls stay within the budget, and it differs from the learned schedule only in its rates")
    func oracleWithinBudget() {
        let oracle = simulation.run(.oracle, qps: qps)
        #expect(Double(oracle.calls) <= qps * Double(simulation.dayLength))
        #expect(oracle.peakQPS <= qps + 1e-9 + 1.0 / 60)
        #expect(oracle.feedCalls == 0 && oracle.sweepCalls == 0)
        #expect(!oracle.latencies.isEmpty)
    }

    @Test("true hazards: a young voucher in its store's busy hour changes faster than an old one or a closed store")
    func oracleHazardShape() {
        let hazard = simulation.oracle
        // Store 0 is a restaurant: lunch peak 12 h China time = 04 UTC; closed at 03 China time = 19 UTC.
        let day = simulation.dayStart - simulation.dayStart % 86_400  // 00:00 UTC
        var watch = simulation.watches.first { $0.store == 0 && $0.timesCount == nil }!
        watch.uses = []
        watch.refundAt = nil
        watch.registeredAt = day + 3 * 3_600  // 11 h China time
        watch.expireTime = watch.registeredAt + 30 * 86_400
        func rate(at now: Int64) -> Double {
            hazard.rate(of: watch, observed: usable(at: now), at: now)
        }
        let lunch = rate(at: day + 4 * 3_600 + 600)
        let night = rate(at: day + 19 * 3_600)
        let old = rate(at: day + 20 * 86_400 + 4 * 3_600 + 600)
        #expect(lunch > 0)
        #expect(night < lunch / 10)
        #expect(old < lunch / 10)
    }
}

/// A usable single voucher observed at `now`.
private func usable(at now: Int64) -> CertificateSnapshot {
    var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID("7000000000000001"), raw: .null), observedAt: now)
    snapshot.expireTime = now + 10 * 86_400
    snapshot.status = CertificateStatusCode.unused
    snapshot.state = snapshot.derivedState(at: now)
    return snapshot
}
