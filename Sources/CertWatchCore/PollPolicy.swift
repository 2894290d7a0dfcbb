/// When to poll a watch next: a pure function of its certificates' snapshots and the clock.
///
/// - soon after registration (``firstPollDelay``);
/// - every ``cancellableInterval`` (30 s) while any verification can still be cancelled (Douyin
///   allows cancelling for about an hour, and a verify + cancel between two polls leaves no trace);
/// - while usable, at a routine interval: ``routineInterval(rate:scale:)`` — the change-rate allocation
///   of ``AdaptiveSchedule`` (interval ∝ 1/√rate under the QPS budget, Cho & Garcia-Molina 2003),
///   kept between ``minInterval`` and ``maxInterval``; ``baseInterval`` (5 min) only in the legacy
///   ``next(after:now:random:)``;
/// - just after `expire_time` and just after each `expiring_soon` lead time, so those events are timely;
/// - never again (`done`) when nothing can change any more: every certificate refunded, or fully
///   used and no longer cancellable, or expired and confirmed by a poll after `expire_time`.
///
/// Intervals get ±``jitter`` (10 %) to spread load; deadline polls land 1–5 s after the deadline.
///
/// The cancel-window and deadline polls are exact whatever the routine interval: they are the
/// "targeted" polls (``Plan/targeted``).
///
/// Deprecated: the fixed split of main (``fitted(qps:activeWatches:)``: routine polls at ≤ ``baseShare``
/// of the budget, the base interval only ever stretched) is kept only as the benchmark's reference;
/// the watcher allocates by change rate (``AdaptiveSchedule``).
public struct PollPolicy: Sendable, Hashable {
    /// Delay before the first poll of a new watch, seconds.
    public var firstPollDelay: Int64
    /// Interval while a verification is cancellable, seconds.
    public var cancellableInterval: Int64
    /// Interval while usable in the legacy ``next(after:now:random:)`` and ``fitted(qps:activeWatches:)``,
    /// seconds (deprecated: ``AdaptiveSchedule`` allocates routine intervals by change rate).
    public var baseInterval: Int64
    /// Lead times before `expire_time` that get a poll (the differ's `expiring_soon` lead times), seconds.
    public var expiringLeadTimes: [Int64]
    /// Relative jitter on intervals (0.1 = ±10 %).
    public var jitter: Double
    /// Share of the QPS budget the routine (``baseInterval``) polls may take when the budget is
    /// tight (0.6); see ``fitted(qps:activeWatches:)``. Deprecated with it (`poll.base_share` is
    /// accepted and ignored by the watcher).
    public var baseShare: Double
    /// Shortest routine interval, seconds (`poll.min_interval`, default 30): with spare quota the
    /// routine intervals shrink to it, never below.
    public var minInterval: Int64
    /// Longest routine interval, seconds (`poll.max_interval`, default 50 min): even a watch whose
    /// estimated change rate is tiny is polled at least this often — with the default, within its
    /// ±10 % jitter, before a verification's one-hour cancel window closes, so no
    /// `cancel_window_closed` (and no cancelled verification) goes unseen.
    public var maxInterval: Int64
    /// How far a targeted poll (cancel window, deadline) jumps the queue, seconds: when the budget is
    /// short it is served before routine polls due up to this long before it, but not before routine
    /// polls already later than that (so a peak of targeted polls cannot starve the routine ones
    /// that find new verifications).
    public var targetedLead: Int64

    public init(
        firstPollDelay: Int64 = 1, cancellableInterval: Int64 = 30, baseInterval: Int64 = 300,
        expiringLeadTimes: [Int64] = [86_400], jitter: Double = 0.1, baseShare: Double = 0.6,
        minInterval: Int64 = 30, maxInterval: Int64 = 3_000, targetedLead: Int64 = 30
    ) {
        self.targetedLead = targetedLead
        self.firstPollDelay = firstPollDelay
        self.cancellableInterval = cancellableInterval
        self.baseInterval = baseInterval
        self.expiringLeadTimes = expiringLeadTimes
        self.jitter = jitter
        self.baseShare = baseShare
        self.minInterval = minInterval
        self.maxInterval = max(maxInterval, minInterval)
    }

    /// The freshness-optimal routine interval of a watch whose expected change rate is `rate`
    /// (changes per second): `scale / √rate` seconds, clamped to ``minInterval``…``maxInterval``.
    /// `scale` (seconds × √(1/s)) is the budget's Lagrange multiplier, `Σ √rate / routine QPS`
    /// (``RateAllocation/scale(qps:activeWatches:)``): with it, every watch polled at this interval
    /// spends exactly the routine budget and the expected detection delay, summed over changes, is
    /// minimal (Cho & Garcia-Molina, "Effective page refresh policies: their modeling and
    /// optimization", ICDE 2003: under a fixed refresh budget, refresh frequency ∝ √(change rate)
    /// minimizes the expected age).
    public func routineInterval(rate: Double, scale: Double) -> Double {
        guard rate > 0, scale.isFinite else { return Double(maxInterval) }
        return min(Double(maxInterval), max(Double(minInterval), scale / rate.squareRoot()))
    }

    /// This policy with ``baseInterval`` stretched to fit a QPS budget: at least
    /// `activeWatches / (qps × baseShare)` seconds, so polling every active watch once per interval
    /// uses at most ``baseShare`` of `qps`. Unchanged when the budget is large enough (or `qps` is
    /// not positive). E.g. 10,000 watches at 10 QPS: 1,667 s instead of 300 s.
    public func fitted(qps: Double, activeWatches: Int) -> PollPolicy {
        guard qps > 0, baseShare > 0, activeWatches > 0 else { return self }
        let needed = (Double(activeWatches) / (qps * baseShare)).rounded(.up)
        guard needed > Double(baseInterval) else { return self }
        var copy = self
        copy.baseInterval = needed < 1e9 ? Int64(needed) : 1_000_000_000
        return copy
    }

    /// What to do after a poll.
    public enum Decision: Sendable, Hashable {
        /// Poll again at this Unix second.
        case pollAt(Int64)
        /// Nothing can change any more: stop polling.
        case done
    }

    /// A decision and why it was taken.
    public struct Plan: Sendable, Hashable {
        /// When to poll next (or stop).
        public var decision: Decision
        /// Whether the next poll is a targeted one (cancel window or a deadline) rather than routine.
        public var targeted: Bool

        public init(decision: Decision, targeted: Bool) {
            self.decision = decision
            self.targeted = targeted
        }
    }

    /// The decision after a successful poll at `now` that observed `snapshots` (all certificates of
    /// the watch), with the legacy fixed ``baseInterval`` as the routine interval. `random` supplies
    /// jitter (inject a seeded generator in tests).
    public func next(
        after snapshots: [CertificateSnapshot], now: Int64, random: inout some RandomNumberGenerator
    ) -> Decision {
        plan(after: snapshots, now: now, routineInterval: Double(baseInterval), random: &random).decision
    }

    /// The plan after a successful poll at `now` that observed `snapshots`: the routine poll
    /// `routineInterval` seconds later (±``jitter``), or an earlier targeted one — every
    /// ``cancellableInterval`` while a verification is cancellable, 1–5 s after each deadline
    /// (`expire_time` and its ``expiringLeadTimes``) — or `done` when everything is settled.
    public func plan(
        after snapshots: [CertificateSnapshot], now: Int64, routineInterval: Double,
        random: inout some RandomNumberGenerator
    ) -> Plan {
        if !snapshots.isEmpty, snapshots.allSatisfy({ isSettled($0, now: now) }) {
            return Plan(decision: .done, targeted: false)
        }
        let routine = routineInterval.isFinite ? Int64(min(max(routineInterval, 1), 1e9).rounded()) : 1_000_000_000
        var earliest = now + jittered(routine, &random)
        var targeted = false
        for snapshot in snapshots where !isSettled(snapshot, now: now) {
            if snapshot.isCancellable {
                let at = now + jittered(cancellableInterval, &random)
                if at < earliest { (earliest, targeted) = (at, true) }
            }
            guard let expireTime = snapshot.expireTime, snapshot.derivedState(at: now) == .available else { continue }
            for index in 0...expiringLeadTimes.count {
                let deadline = index < expiringLeadTimes.count ? expireTime - expiringLeadTimes[index] : expireTime
                guard deadline >= now else { continue }
                let at = deadline + 1 + Int64.random(in: 0...4, using: &random)
                if at < earliest { (earliest, targeted) = (at, true) }
            }
        }
        return Plan(decision: .pollAt(earliest), targeted: targeted)
    }

    /// Whether a targeted poll due at `targetedDue` is served before a routine one due at
    /// `routineDue` (both Unix seconds, both due): unless the routine one is more than
    /// ``targetedLead`` seconds older. The one ordering rule of the watcher's claim and the simulation.
    public func servesTargetedFirst(targetedDue: Double, routineDue: Double) -> Bool {
        targetedDue - Double(targetedLead) <= routineDue
    }

    /// The first poll of a watch registered at `now`.
    public func firstPoll(now: Int64) -> Int64 { now + firstPollDelay }

    /// Whether nothing about this certificate can change any more.
    public func isSettled(_ snapshot: CertificateSnapshot, now: Int64) -> Bool {
        switch snapshot.derivedState(at: now) {
        case .refunded: return true
        case .verified: return !snapshot.isCancellable
        case .expired: return snapshot.observedAt > (snapshot.expireTime ?? Int64.min)
        case .available: return false
        }
    }

    private func jittered(_ interval: Int64, _ random: inout some RandomNumberGenerator) -> Int64 {
        let spread = Double(interval) * jitter
        guard spread >= 1 else { return max(interval, 1) }
        return max(1, interval + Int64(Double.random(in: -spread...spread, using: &random).rounded()))
    }
}

/// Backoff for transient errors of one watch: 5 s doubling to a 10-minute cap, jittered ±20 %.
public struct RetryBackoff: Sendable, Hashable {
    /// First delay, seconds.
    public var initial: Int64
    /// Largest delay, seconds.
    public var cap: Int64
    /// Relative jitter.
    public var jitter: Double

    public init(initial: Int64 = 5, cap: Int64 = 600, jitter: Double = 0.2) {
        self.initial = initial
        self.cap = cap
        self.jitter = jitter
    }

    /// The delay before retry number `attempt` (1 = first retry), seconds.
    public func delay(attempt: Int, random: inout some RandomNumberGenerator) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(cap, initial << Int64(exponent))
        let spread = Double(base) * jitter
        return max(1, base + Int64(Double.random(in: -spread...spread, using: &random).rounded()))
    }
}
