/// Wrong API keys at the console's sign-in, per client address: after ``limit`` failures within
/// ``window`` seconds an address is refused (429 with `Retry-After`) until the oldest of them is
/// ``window`` seconds old; a successful sign-in clears the address. A pure state machine: callers
/// pass the time (Unix seconds) and hold it under a lock (``ConsoleSessions``).
///
/// Behind a reverse proxy every client has the proxy's address, so a guesser there delays everyone's
/// sign-in for the rest of the window (sessions already signed in are not affected).
struct SignInThrottle: Sendable {
    /// Failures an address may have within ``window`` (10).
    let limit: Int
    /// The window, seconds (10 minutes).
    let window: Int64
    /// Addresses tracked at most; beyond it the address whose latest failure is oldest is forgotten.
    let capacity: Int
    /// Each address's failure times within the window, oldest first.
    private var failures: [String: [Int64]] = [:]

    init(limit: Int = 10, window: Int64 = 600, capacity: Int = 10_000) {
        self.limit = max(1, limit)
        self.window = max(1, window)
        self.capacity = max(1, capacity)
    }

    /// Seconds until `address` may try again at `now`, or `nil` when it may now.
    func retryAfter(_ address: String, now: Int64) -> Int64? {
        let recent = (failures[address] ?? []).filter { $0 > now - window }
        guard recent.count >= limit, let oldest = recent.first else { return nil }
        return max(1, oldest + window - now)
    }

    /// Records a wrong key from `address` at `now`.
    mutating func failed(_ address: String, now: Int64) {
        var recent = (failures[address] ?? []).filter { $0 > now - window }
        recent.append(now)
        failures[address] = Array(recent.suffix(limit))
        if failures.count > capacity {
            failures = failures.filter { $0.value.last.map { $0 > now - window } ?? false }
            while failures.count > capacity, let stalest = failures.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) })?.key {
                failures[stalest] = nil
            }
        }
    }

    /// A successful sign-in from `address`: its failures are forgotten.
    mutating func succeeded(_ address: String) {
        failures[address] = nil
    }
}
