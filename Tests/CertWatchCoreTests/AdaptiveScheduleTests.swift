import CertWatchCore
import DouyinModels
import Foundation
import Testing

/// A single voucher of `account` observed at `at`: usable, or verified at `verifiedAt` at `poi`
/// (cancellable for an hour), or refunded.
private func voucher(
    at: Int64, verifiedAt: Int64? = nil, refunded: Bool = false, account: String = "acct-1", poi: String = "poi-1",
    expire: Int64 = 100_000_000
) -> CertificateSnapshot {
    var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID("7001"), raw: .null), observedAt: at)
    snapshot.expireTime = expire
    snapshot.sku = SKU(accountID: DouyinID(account))
    if let verifiedAt, verifiedAt <= at {
        snapshot.verifications = [
            Verification(verifyID: "v1", poiID: poi, verifyTime: verifiedAt, verifyType: 1, canCancel: at < verifiedAt + 3_600)
        ]
        snapshot.status = CertificateStatusCode.used
    } else {
        snapshot.status = refunded ? CertificateStatusCode.refunded : CertificateStatusCode.unused
    }
    snapshot.state = snapshot.derivedState(at: at)
    return snapshot
}

@Suite("Routine intervals by change rate")
struct RoutineIntervalTests {
    var random = SeededGenerator(seed: 3)

    @Test("interval = scale / √rate, clamped to min and max interval; no rate: the max")
    func routineInterval() {
        let policy = PollPolicy(minInterval: 30, maxInterval: 21_600)
        #expect(policy.routineInterval(rate: 1e-4, scale: 10) == 1_000)
        #expect(policy.routineInterval(rate: 4e-4, scale: 10) == 500)  // 4× the rate: half the interval
        #expect(policy.routineInterval(rate: 1, scale: 10) == 30)
        #expect(policy.routineInterval(rate: 1e-12, scale: 10) == 21_600)
        #expect(policy.routineInterval(rate: 0, scale: 10) == 21_600)
        #expect(policy.routineInterval(rate: 1e-4, scale: .infinity) == 21_600)
    }

    @Test("cancel-window and deadline polls stay exact whatever the routine interval, and are marked targeted")
    mutating func targetedStayExact() {
        let policy = PollPolicy(jitter: 0)
        let usable = voucher(at: 0)
        #expect(policy.plan(after: [usable], now: 0, routineInterval: 5_000, random: &random) == .init(decision: .pollAt(5_000), targeted: false))
        #expect(policy.plan(after: [usable], now: 0, routineInterval: 45, random: &random) == .init(decision: .pollAt(45), targeted: false))
        let cancellable = voucher(at: 10, verifiedAt: 5)
        #expect(policy.plan(after: [cancellable], now: 10, routineInterval: 5_000, random: &random) == .init(decision: .pollAt(40), targeted: true))
        let plan = policy.plan(after: [voucher(at: 0, expire: 1_000)], now: 0, routineInterval: 5_000, random: &random)
        #expect(plan.targeted)
        guard case .pollAt(let at) = plan.decision else { Issue.record("expected a poll"); return }
        #expect((1_001...1_005).contains(at))
        #expect(policy.plan(after: [voucher(at: 0, refunded: true)], now: 0, routineInterval: 5_000, random: &random).decision == .done)
    }
}

@Suite("Change-rate estimator")
struct ChangeRateEstimatorTests {
    @Test("cold start: the documented default rate, flat over the day")
    func coldStart() {
        let estimator = ChangeRateEstimator()
        let rate = estimator.rate(of: voucher(at: 5_000), firstSeen: 0, account: nil, at: 5_000)
        #expect(abs(rate - 1.0 / 259_200) < 1e-12)
        #expect(estimator.rate(of: voucher(at: 5_000, verifiedAt: 4_000), firstSeen: 0, account: nil, at: 5_000) == 0)
    }

    @Test("learns from seeded observations that young vouchers change faster than old ones")
    func hazardByAge() {
        var estimator = ChangeRateEstimator()
        var random = SeededGenerator(seed: 42)
        // 1,000 vouchers first seen at 0, polled every 900 s for 10 days; 40 % verified at an
        // exponential age with mean 2 h, the rest never.
        for _ in 0..<1_000 {
            let verifiedAt: Int64? = Double.random(in: 0..<1, using: &random) < 0.4
                ? Int64(-7_200 * log(Double.random(in: Double.leastNonzeroMagnitude..<1, using: &random))) : nil
            var previous = voucher(at: 1)
            var time: Int64 = 901
            while time < 864_000 {
                let current = voucher(at: time, verifiedAt: verifiedAt)
                estimator.learn(previous: previous, current: current, firstSeen: 0, account: nil)
                if current.state != .available { break }
                previous = current
                time += 900
            }
        }
        // The hazard alone: the rate divided by the store's hour factor (these verifications also
        // taught an hour profile, all in the first hours of the day).
        let young = estimator.rate(of: voucher(at: 1_800), firstSeen: 0, account: nil, at: 1_800)
            / estimator.hourFactor(poi: nil, account: "acct-1", at: 1_800)
        let old = estimator.rate(of: voucher(at: 700_000), firstSeen: 0, account: nil, at: 700_000)
            / estimator.hourFactor(poi: nil, account: "acct-1", at: 700_000)
        // True hazard at 30 min: 0.4 e^(-1/4) / (7200 (0.6 + 0.4 e^(-1/4))) ≈ 4.8e-5 per second.
        #expect(young > 3e-5 && young < 7e-5)
        #expect(old < young / 10)
        #expect(estimator.observedChanges > 330)
    }

    @Test("a store's hour-of-day profile: verifications at lunch make lunch hours likelier, shrunk to all stores")
    func hourProfile() {
        var estimator = ChangeRateEstimator()
        // 200 verifications at store A between 04:00 and 05:00 UTC (12:00–13:00 in China).
        for day in 0..<200 {
            let base = Int64(day) * 86_400
            let verifiedAt = base + 4 * 3_600 + Int64(day * 17 % 3_600)
            estimator.learn(
                previous: voucher(at: base, account: "A", poi: "pA"),
                current: voucher(at: verifiedAt + 10, verifiedAt: verifiedAt, account: "A", poi: "pA"),
                firstSeen: base, account: nil)
        }
        let lunch = estimator.hourFactor(poi: nil, account: "A", at: 4 * 3_600 + 100)
        let night = estimator.hourFactor(poi: nil, account: "A", at: 18 * 3_600)
        #expect(lunch > 15)
        #expect(night < 0.2)
        #expect(estimator.hourFactor(poi: "pA", account: nil, at: 4 * 3_600) == lunch)
        // A store never seen follows all stores (which also learned lunch, with a flat prior).
        let other = estimator.hourFactor(poi: nil, account: "B", at: 4 * 3_600)
        #expect(other > 10 && other < lunch)
    }

    @Test("only a usable certificate was at risk: nothing is learned from a verified or refunded one")
    func onlyAtRisk() {
        var estimator = ChangeRateEstimator()
        estimator.learn(previous: voucher(at: 0, verifiedAt: 0), current: voucher(at: 600, verifiedAt: 0), firstSeen: 0, account: nil)
        estimator.learn(previous: voucher(at: 0, refunded: true), current: voucher(at: 600, refunded: true), firstSeen: 0, account: nil)
        #expect(estimator.observedChanges == 0)
        #expect(abs(estimator.rate(of: voucher(at: 700), firstSeen: 0, account: nil, at: 700) - 1.0 / 259_200) < 1e-12)
        estimator.learn(previous: voucher(at: 0), current: voucher(at: 600, refunded: true), firstSeen: 0, account: nil)
        #expect(estimator.observedChanges == 1)
    }
}

@Suite("Budget allocation")
struct RateAllocationTests {
    @Test("cold: every watch gets active watches / routine QPS; spare quota shrinks intervals to the floor")
    func cold() {
        let allocation = RateAllocation()
        let policy = PollPolicy()
        let rate = allocation.coldStartRate
        let interval = policy.routineInterval(rate: rate, scale: allocation.scale(qps: 10, activeWatches: 10_000, now: 0))
        #expect(abs(interval - 10_000 / 8.5) < 1)  // 85 % of the budget planned for routine polls
        #expect(policy.routineInterval(rate: rate, scale: allocation.scale(qps: 10, activeWatches: 100, now: 0)) == 30)
    }

    @Test("targeted polls take their share of the budget first")
    func targetedShare() {
        var allocation = RateAllocation()
        for second in 0..<3_600 {
            for _ in 0..<4 { allocation.record(now: Int64(second), covered: 30, rate: 1e-5, targeted: true) }
        }
        #expect(abs(allocation.targetedQPS(now: 3_600) - 4) < 0.2)
        #expect(abs(allocation.routineQPS(qps: 10, now: 3_600) - 6 * 0.85) < 0.2)
        #expect(allocation.routineQPS(qps: 2, now: 3_600) == 2 * 0.2)  // never below the minimum share
    }

    @Test("closed loop without a limiter: the schedule's demand matches the budget, and young watches get more polls")
    func closedLoop() {
        // Teach the estimator that vouchers change within their first 8 hours (400 seen verified at a
        // uniform age in 0…8 h), so young watches are worth more polls than 20-day-old ones.
        var estimator = ChangeRateEstimator()
        var teach = SeededGenerator(seed: 5)
        for index in 0..<400 {
            let start = Int64(index) * 100_000
            let verifiedAt = start + Int64.random(in: 60...28_800, using: &teach)
            estimator.learn(
                previous: voucher(at: start + 1), current: voucher(at: verifiedAt + 30, verifiedAt: verifiedAt),
                firstSeen: start, account: nil)
        }
        var schedule = AdaptiveSchedule(policy: PollPolicy(minInterval: 5, maxInterval: 86_400), estimator: estimator)
        var random = SeededGenerator(seed: 9)
        let qps = 4.0
        let count = 2_000
        let now0: Int64 = 10_000_000  // the vouchers expire at 100,000,000
        let horizon: Int64 = 6 * 3_600
        // Due times, latest first (so the earliest is popped from the end).
        var due: [(at: Int64, index: Int)] = (0..<count).map { (now0 + Int64($0 % 600), $0) }.sorted { $0.0 > $1.0 }
        var previous = [CertificateSnapshot?](repeating: nil, count: count)
        var polls = [Int](repeating: 0, count: count)
        var polled = 0
        // No rate limiter: the demand the schedule creates is what is measured.
        while let (at, index) = due.popLast() {
            if at >= now0 + horizon { break }
            let now = at
            let firstSeen = index < count / 2 ? now0 - 60 : now0 - 20 * 86_400
            let current = [voucher(at: now)]
            let before = previous[index].map { [$0.certificateID: $0] } ?? [:]
            let decision = schedule.next(
                after: current, previous: before, firstSeen: firstSeen, account: nil, now: now, qps: qps,
                activeWatches: count, random: &random).decision
            previous[index] = current[0]
            if now >= now0 + 3_600 {
                polled += 1
                polls[index] += 1
            }
            if case .pollAt(let next) = decision {
                var low = 0
                var high = due.count
                while low < high {
                    let middle = (low + high) / 2
                    if due[middle].at > next { low = middle + 1 } else { high = middle }
                }
                due.insert((next, index), at: low)
            }
        }
        // After the first hour the demand matches the planned routine budget (85 % of qps) within 10 %.
        let realized = Double(polled) / Double(horizon - 3_600)
        let planned = qps * schedule.allocation.fill
        #expect(realized > planned * 0.9 && realized < planned * 1.1)
        let young = polls[..<(count / 2)].reduce(0, +)
        let old = polls[(count / 2)...].reduce(0, +)
        #expect(young > 2 * old)
    }
}

@Suite("The rate seam of AdaptiveSchedule")
struct AdaptiveSchedulePlanSeamTests {
    @Test("plan(rate:) with the estimator's rate decides exactly as next (the oracle's seam changes nothing)")
    func planWithLearnedRateIsNext() {
        for hinted in [false, true] {
            var viaNext = AdaptiveSchedule()
            var viaPlan = AdaptiveSchedule()
            var randomNext = SeededGenerator(seed: 9)
            var randomPlan = SeededGenerator(seed: 9)
            for step in Int64(0)..<50 {
                let now = 1_000_000 + step * 97
                let current = [voucher(at: now)]
                let rate = viaPlan.rate(of: current, firstSeen: 1_000_000, account: nil, now: now)
                let expected = viaNext.next(
                    after: current, previous: [:], firstSeen: 1_000_000, account: nil, now: now, qps: 2, activeWatches: 500,
                    hinted: hinted, random: &randomNext)
                let planned = viaPlan.plan(
                    after: current, previous: [:], firstSeen: 1_000_000, now: now, qps: 2, activeWatches: 500, hinted: hinted,
                    rate: rate, random: &randomPlan)
                #expect(planned == expected)
            }
            #expect(viaPlan.allocation == viaNext.allocation)
        }
    }

    @Test("a higher given rate gives a shorter routine interval under the same budget")
    func higherRateShorter() {
        var slow = AdaptiveSchedule()
        var fast = AdaptiveSchedule()
        var random = SeededGenerator(seed: 1)
        let current = [voucher(at: 5_000_000)]
        let a = slow.plan(
            after: current, previous: [:], firstSeen: 4_990_000, now: 5_000_000, qps: 1, activeWatches: 1_000, rate: 1e-6,
            random: &random)
        let b = fast.plan(
            after: current, previous: [:], firstSeen: 4_990_000, now: 5_000_000, qps: 1, activeWatches: 1_000, rate: 1e-3,
            random: &random)
        guard case .pollAt(let slowAt) = a.decision, case .pollAt(let fastAt) = b.decision else {
            Issue.record("expected polls")
            return
        }
        #expect(fastAt < slowAt)
    }
}
