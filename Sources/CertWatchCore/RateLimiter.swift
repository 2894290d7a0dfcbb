/// The global QPS budget: a token bucket whose rate adapts AIMD-style to Douyin's 2119003
/// (请求太过频繁). A pure state machine: callers pass the clock (seconds, fractional) and sleep
/// for the returned wait themselves.
///
/// - ``acquire(now:)`` takes one token, returning 0 when one was available or the seconds to wait
///   (reserving it); ``take(now:)`` takes one only if available (no reservation, so a priority
///   caller can go first); ``giveBack()`` returns a token that was not spent.
/// - ``slowDown()`` halves the rate (not below ``minimumRate``).
/// - ``succeeded()`` adds ``recoveryStep`` of the configured rate after every ``recoveryWindow``
///   successes, up to the configured rate.
package struct RateLimiter: Sendable, Hashable {
    /// The configured rate, requests per second.
    package private(set) var configuredRate: Double
    /// The current rate, requests per second.
    package private(set) var currentRate: Double
    /// Bucket size: how many requests may go at once after idling.
    package var burst: Double
    /// Lowest rate a slow-down reaches.
    package var minimumRate: Double
    /// Fraction of the configured rate restored after each recovery window.
    package var recoveryStep: Double
    /// Successes needed per recovery step.
    package var recoveryWindow: Int
    private var tokens: Double
    private var last: Double?
    private var successes = 0

    package init(rate: Double, burst: Double? = nil, minimumRate: Double = 0.1, recoveryStep: Double = 0.1, recoveryWindow: Int = 20) {
        configuredRate = rate
        currentRate = rate
        self.burst = burst ?? max(1, rate)
        self.minimumRate = min(minimumRate, rate)
        self.recoveryStep = recoveryStep
        self.recoveryWindow = recoveryWindow
        tokens = self.burst
    }

    /// Takes a token at time `now` (seconds). Returns 0 if granted now, else the seconds until the
    /// token is available (the token is reserved: the caller must not call again before then).
    package mutating func acquire(now: Double) -> Double {
        refill(now: now)
        tokens -= 1
        return tokens >= 0 ? 0 : -tokens / currentRate
    }

    /// Takes a token at time `now` (seconds) if one is available and returns 0; otherwise takes
    /// nothing and returns the seconds until one will be (the caller asks again then, so a more
    /// urgent caller may take it first).
    package mutating func take(now: Double) -> Double {
        refill(now: now)
        let wait = (1 - tokens) / currentRate
        // A wait under a microsecond is rounding in the refill (Unix seconds near 1.7e9 are
        // 0.24 µs apart as Doubles): waiting for it could never move the clock, so it is no wait.
        if wait < 1e-6 {
            tokens = max(0, tokens - 1)
            return 0
        }
        return wait
    }

    /// Returns a token taken but not spent (the request was not sent), up to ``burst``.
    package mutating func giveBack() {
        tokens = min(burst, tokens + 1)
    }

    /// Douyin answered 2119003: halve the rate.
    package mutating func slowDown() {
        currentRate = max(minimumRate, currentRate / 2)
        tokens = min(tokens, 0)
        successes = 0
    }

    /// A call succeeded: after each window of successes, restore part of the rate.
    package mutating func succeeded() {
        guard currentRate < configuredRate else { return }
        successes += 1
        if successes >= recoveryWindow {
            successes = 0
            currentRate = min(configuredRate, currentRate + configuredRate * recoveryStep)
        }
    }

    /// Changes the configured rate to `rate` (requests per second, > 0), keeping a slow-down in
    /// proportion (a limiter slowed to half its rate runs at half the new one) and the bucket size.
    /// A replica's share of the app's quota changes this way when replicas join or die.
    package mutating func setRate(_ rate: Double) {
        guard rate > 0, rate != configuredRate else { return }
        currentRate = max(min(minimumRate, rate), rate * currentRate / configuredRate)
        configuredRate = rate
        tokens = min(tokens, burst)
    }

    private mutating func refill(now: Double) {
        if let last, now > last { tokens = min(burst, tokens + (now - last) * currentRate) }
        last = max(last ?? now, now)
    }
}
