/// A token bucket: holds at most ``capacity`` tokens, refills at ``rate`` tokens per second, and
/// each admitted request takes one. The sandbox answers 2119003 (请求太过频繁) when it is empty.
package struct TokenBucket: Sendable, Hashable {
    /// Tokens added per second (the QPS quota).
    package let rate: Double
    /// Largest number of tokens held (the burst).
    package let capacity: Double
    private var tokens: Double
    private var last: Double?

    /// A full bucket. `rate` and `capacity` must be positive (non-positive values admit nothing).
    package init(rate: Double, capacity: Double) {
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
    }

    /// Takes one token at time `now` (seconds, monotonic). Returns `false` when the bucket is empty.
    package mutating func take(at now: Double) -> Bool {
        if let last, now > last { tokens = min(capacity, tokens + (now - last) * rate) }
        if last == nil || now > last! { last = now }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
