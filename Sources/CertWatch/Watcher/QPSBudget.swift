import CertWatchCore

/// The app's global Douyin QPS budget shared by every poll: a ``RateLimiter`` behind an actor,
/// waiting on the injected clock.
///
/// Replicas on one database share the app's quota: ``ReplicaHeartbeat`` gives this instance
/// `qps ÷ live replicas` (``share(among:)``), holds a replica that joins others until they have
/// seen it (``hold(until:)``), and passes a 2119003 answered to any replica on to every other
/// (``slowDown()``, ``slowedAt``, ``followSlowDown()``). The bucket holds one token, so a
/// replica never sends more than its share within any one second, even after idling.
///
/// Douyin counts requests by its own clock, when they arrive; requests sent exactly `1/qps`
/// apart reach it a few milliseconds more or less apart, and one late arrival puts qps + 1 into
/// one of its seconds. So the budget spends ``headroom`` of the quota: requests go out 10 % wider
/// apart than qps allows, and arrival times may spread by 100 ms without any second of Douyin's
/// exceeding the quota (measured: the replica failover test saw 5 in a second at a quota of 4
/// without it).
package actor QPSBudget {
    private var limiter: RateLimiter
    private let clock: any WallClock
    /// The app's quota, requests per second, for all replicas together.
    package let appQPS: Double
    /// Live replicas sharing ``appQPS`` (1 alone).
    package private(set) var replicas = 1
    /// When Douyin last answered this instance 2119003 (Unix seconds), `nil` before.
    package private(set) var slowedAt: Double?
    private var heldUntil: Double?

    /// - Parameters:
    ///   - qps: requests per second allowed (Douyin's quota for the app; default 10).
    ///   - clock: the clock to wait on.
    package init(qps: Double, clock: any WallClock) {
        appQPS = qps
        limiter = RateLimiter(rate: qps * Self.headroom, burst: 1)
        self.clock = clock
    }

    /// The part of the quota spent (see the type's documentation).
    package static let headroom = 0.9

    /// Priority callers waiting now (routine callers let them go first).
    private var priorityWaiting = 0

    /// Waits until a request may be sent, then takes its token. A `priority` caller (a poll a
    /// push hinted) gets the next token before every routine caller waiting; routine callers
    /// share the rest. Either way no more than the budget is spent. Throws `CancellationError`
    /// when cancelled.
    package func acquire(priority: Bool = false) async throws {
        if priority { priorityWaiting += 1 }
        defer { if priority { priorityWaiting -= 1 } }
        while true {
            try Task.checkCancellation()
            let wait: Double
            let now = clock.now()
            if let heldUntil, now < heldUntil {
                wait = heldUntil - now
            } else if priority || priorityWaiting == 0 {
                wait = limiter.take(now: now)
                if wait == 0 { return }
            } else {
                wait = 1 / max(limiter.currentRate, 0.001)
            }
            try await clock.sleep(seconds: wait)
        }
    }

    /// Returns a token ``acquire(priority:)`` took for a request that was not sent (the watch it
    /// was for had been claimed by another replica), so the next request need not wait for it.
    package func giveBack() { limiter.giveBack() }

    /// Douyin answered 2119003 to this instance: halve the rate (and remember when, for the others).
    package func slowDown() {
        limiter.slowDown()
        slowedAt = clock.now()
    }

    /// Another replica was answered 2119003: halve the rate as well.
    package func followSlowDown() { limiter.slowDown() }

    /// A call succeeded.
    package func succeeded() { limiter.succeeded() }

    /// This instance's share of the quota: ``appQPS`` × ``headroom`` ÷ `replicas` (a slow-down kept in proportion).
    package func share(among replicas: Int) {
        let replicas = max(1, replicas)
        guard replicas != self.replicas else { return }
        self.replicas = replicas
        limiter.setRate(appQPS * Self.headroom / Double(replicas))
    }

    /// Sends nothing before `time` (Unix seconds): a replica that joined waits until the others
    /// have taken their smaller shares.
    package func hold(until time: Double) { heldUntil = time }

    /// The app's quota and this instance's current rate (at most ``appQPS`` × ``headroom`` ÷ ``replicas``),
    /// requests per second.
    package var rates: (configured: Double, current: Double) { (appQPS, limiter.currentRate) }
}
