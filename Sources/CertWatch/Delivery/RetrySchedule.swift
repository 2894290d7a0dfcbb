import CertWatchCore

/// When to attempt a delivery again: a list of delays, one per attempt, with jitter.
///
/// `delays[0]` is the wait before the first attempt (normally 0: immediately), `delays[n]` the wait
/// after attempt `n` failed. After `delays.count` failed attempts the delivery is dead. The default
/// is Svix-like: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (±20 % jitter), a little
/// over a day in all.
package struct RetrySchedule: Sendable, Hashable {
    /// Delays in seconds; `delays.count` is the number of attempts.
    package var delays: [Double]
    /// Relative jitter (0.2 = ±20 %), applied to every delay but the first.
    package var jitter: Double

    /// The default schedule: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, ±20 %.
    package static let standard = RetrySchedule(delays: [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000])

    /// `delays` must not be empty (an empty list means one immediate attempt).
    package init(delays: [Double], jitter: Double = 0.2) {
        self.delays = delays.isEmpty ? [0] : delays.map { max($0, 0) }
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The number of attempts before a delivery is dead.
    package var maxAttempts: Int { delays.count }

    /// The nominal (unjittered) wait after attempt `attempt` (1-based) failed, or `nil` when that
    /// was the last attempt.
    package func nominalDelay(afterAttempt attempt: Int) -> Double? {
        guard attempt >= 1, attempt < delays.count else { return nil }
        return delays[attempt]
    }

    /// The jittered wait after attempt `attempt` failed, or `nil` when that was the last attempt.
    package func delay(afterAttempt attempt: Int, random: inout some RandomNumberGenerator) -> Double? {
        guard let nominal = nominalDelay(afterAttempt: attempt) else { return nil }
        guard jitter > 0, nominal > 0 else { return nominal }
        let factor = 1 + Double.random(in: -jitter...jitter, using: &random)
        return nominal * factor
    }
}
