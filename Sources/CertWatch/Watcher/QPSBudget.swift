import CertWatchCore

/// The app's global Douyin QPS budget shared by every poll: a ``RateLimiter`` behind an actor,
/// waiting on the injected clock.
public actor QPSBudget {
    private var limiter: RateLimiter
    private let clock: any WallClock

    /// - Parameters:
    ///   - qps: requests per second allowed (Douyin's quota for the app; default 10).
    ///   - clock: the clock to wait on.
    public init(qps: Double, clock: any WallClock) {
        limiter = RateLimiter(rate: qps)
        self.clock = clock
    }

    /// Priority callers waiting now (routine callers let them go first).
    private var priorityWaiting = 0

    /// Waits until a request may be sent, then takes its token. A `priority` caller (a poll a
    /// push hinted) gets the next token before every routine caller waiting; routine callers
    /// share the rest. Either way no more than the budget is spent. Throws `CancellationError`
    /// when cancelled.
    public func acquire(priority: Bool = false) async throws {
        if priority { priorityWaiting += 1 }
        defer { if priority { priorityWaiting -= 1 } }
        while true {
            try Task.checkCancellation()
            let wait: Double
            if priority || priorityWaiting == 0 {
                wait = limiter.take(now: clock.now())
                if wait == 0 { return }
            } else {
                wait = 1 / max(limiter.currentRate, 0.001)
            }
            try await clock.sleep(seconds: wait)
        }
    }

    /// Douyin answered 2119003: halve the rate.
    public func slowDown() { limiter.slowDown() }

    /// A call succeeded.
    public func succeeded() { limiter.succeeded() }

    /// The configured and current rates, requests per second.
    public var rates: (configured: Double, current: Double) { (limiter.configuredRate, limiter.currentRate) }
}
