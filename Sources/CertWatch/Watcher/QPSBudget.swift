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

    /// Waits until a request may be sent. Throws `CancellationError` when cancelled.
    public func acquire() async throws {
        let wait = limiter.acquire(now: clock.now())
        if wait > 0 { try await clock.sleep(seconds: wait) }
    }

    /// Douyin answered 2119003: halve the rate.
    public func slowDown() { limiter.slowDown() }

    /// A call succeeded.
    public func succeeded() { limiter.succeeded() }

    /// The configured and current rates, requests per second.
    public var rates: (configured: Double, current: Double) { (limiter.configuredRate, limiter.currentRate) }
}
