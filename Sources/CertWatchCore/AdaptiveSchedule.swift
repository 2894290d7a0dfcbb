/// The watcher's scheduling decision after each poll: learn from what the poll observed, then poll
/// again when the watch's expected change rate says so under the QPS budget — the one piece of
/// code that the daemon's `Watcher` and the `schedule-efficiency` simulation both run.
///
/// Routine interval of a watch = ``PollPolicy/routineInterval(rate:scale:)`` of its expected change
/// rate (``ChangeRateEstimator``, summed over its certificates) and the budget's scale
/// (``RateAllocation``): `scale / √rate`, the freshness-optimal allocation of a fixed refresh budget
/// (Cho & Garcia-Molina, "Effective page refresh policies: their modeling and optimization",
/// ICDE 2003), clamped to `poll.min_interval`…`poll.max_interval`. With fewer watches than the
/// budget covers the scale falls and intervals shrink to the floor: spare quota is spent.
/// The cancel-window and deadline polls of ``PollPolicy`` stay exact.
///
/// A pure value: no clock, no I/O; `random` supplies the jitter.
public struct AdaptiveSchedule: Sendable {
    /// Intervals, deadlines, jitter and the floor and ceiling of routine intervals.
    public var policy: PollPolicy
    /// What has been learned about change rates.
    package private(set) var estimator: ChangeRateEstimator
    /// The running budget estimates.
    package private(set) var allocation: RateAllocation

    package init(
        policy: PollPolicy = PollPolicy(), estimator: ChangeRateEstimator = ChangeRateEstimator(),
        allocation: RateAllocation = RateAllocation()
    ) {
        self.policy = policy
        self.estimator = estimator
        self.allocation = allocation
        // One cold-start rate for both: the allocation's mean before any poll is the estimator's default.
        self.allocation.coldStartRate = estimator.defaults.coldStartRate
    }

    /// The expected change rate of a watch whose certificates are `snapshots`, at `now`, changes per
    /// second: the sum over its certificates; the cold-start rate while it shows none yet.
    public func rate(of snapshots: [CertificateSnapshot], firstSeen: Int64, account: String?, now: Int64) -> Double {
        if snapshots.isEmpty { return estimator.defaults.coldStartRate }
        return snapshots.reduce(0) { $0 + estimator.rate(of: $1, firstSeen: firstSeen, account: account, at: now) }
    }

    /// After a successful poll at `now` (Unix seconds) that observed `current` (all certificates of the
    /// watch; `previous`: their last stored snapshots by certificate id, empty on first sight): learns
    /// from the change, records the poll against the budget of `qps` calls per second shared by
    /// `activeWatches` watches, and returns when to poll next and whether that poll is targeted (a
    /// cancel-window or deadline poll, which the watcher serves ahead of routine ones).
    ///
    /// - Parameters:
    ///   - hinted: a push hint made the watch due now (not this schedule): the poll counts towards
    ///     the targeted share of the budget.
    ///   - firstSeen: when the watch was registered, Unix seconds (the age the hazard is learned by).
    ///   - account: the watch's `account_id`, for the store's hour profile when snapshots carry none.
    public mutating func next(
        after current: [CertificateSnapshot], previous: [String: CertificateSnapshot], firstSeen: Int64,
        account: String?, now: Int64, qps: Double, activeWatches: Int, hinted: Bool = false,
        random: inout some RandomNumberGenerator
    ) -> PollPolicy.Plan {
        if hinted { allocation.recordUnscheduled(now: now) }
        for snapshot in current {
            if let before = previous[snapshot.certificateID] {
                estimator.learn(previous: before, current: snapshot, firstSeen: firstSeen, account: account)
            }
        }
        return allocate(
            after: current, previous: previous, firstSeen: firstSeen, now: now, qps: qps, activeWatches: activeWatches,
            rate: rate(of: current, firstSeen: firstSeen, account: account, now: now), random: &random)
    }

    /// The allocation step of ``next(after:previous:firstSeen:account:now:qps:activeWatches:hinted:random:)``
    /// with the watch's expected change `rate` given (changes per second) instead of estimated: records
    /// the poll against the budget and returns the plan. `next` calls it with the learned rate; the
    /// `schedule-efficiency` benchmark's oracle calls it with the simulated workload's true hazard
    /// (the bound the √-rate allocation reaches with perfect rate knowledge). Learns nothing.
    public mutating func plan(
        after current: [CertificateSnapshot], previous: [String: CertificateSnapshot], firstSeen: Int64, now: Int64,
        qps: Double, activeWatches: Int, hinted: Bool = false, rate: Double, random: inout some RandomNumberGenerator
    ) -> PollPolicy.Plan {
        if hinted { allocation.recordUnscheduled(now: now) }
        return allocate(
            after: current, previous: previous, firstSeen: firstSeen, now: now, qps: qps, activeWatches: activeWatches,
            rate: rate, random: &random)
    }

    private mutating func allocate(
        after current: [CertificateSnapshot], previous: [String: CertificateSnapshot], firstSeen: Int64, now: Int64,
        qps: Double, activeWatches: Int, rate: Double, random: inout some RandomNumberGenerator
    ) -> PollPolicy.Plan {
        let scale = allocation.scale(qps: qps, activeWatches: activeWatches, now: now)
        let plan = policy.plan(
            after: current, now: now, routineInterval: policy.routineInterval(rate: rate, scale: scale), random: &random)
        let lastSeen = previous.values.map(\.observedAt).max() ?? firstSeen
        allocation.record(now: now, covered: now - lastSeen, rate: rate, targeted: plan.targeted)
        return plan
    }
}
