import DouyinOpenAPI
import Foundation

/// The sandbox's notion of time: Unix seconds that can run at real speed, accelerated, or only
/// when told to (manual).
///
/// - ``system(speed:)``: sandbox time = start + `speed` × real elapsed time + advanced seconds.
/// - ``manual(at:)``: time stands still until ``advance(by:)`` moves it (tests).
///
/// Two readings are offered: ``now`` (sandbox Unix seconds, used for validity, expiry, `can_cancel`,
/// token lifetimes and `extra.now`) and ``rateTime`` (seconds that drive the QPS token bucket: real
/// elapsed time, not accelerated, plus advanced seconds; for a manual clock only the advanced seconds).
package struct SandboxClock: Sendable {
    enum Mode: Sendable {
        case system(speed: Double, realStart: ContinuousClock.Instant)
        case manual
    }

    let mode: Mode
    /// Sandbox Unix time at creation, in seconds.
    package let origin: Double
    /// Seconds added by ``advance(by:)`` so far.
    package private(set) var advanced: Double = 0

    /// Real time, accelerated by `speed` (1 = real time). `speed` below or equal to 0 is treated as 1.
    package static func system(speed: Double = 1, now: Date = Date()) -> SandboxClock {
        SandboxClock(mode: .system(speed: speed > 0 ? speed : 1, realStart: .now), origin: now.timeIntervalSince1970)
    }

    /// A clock standing at `unixSeconds` until advanced.
    package static func manual(at unixSeconds: Int64 = 1_734_169_082) -> SandboxClock {
        SandboxClock(mode: .manual, origin: Double(unixSeconds))
    }

    /// How many sandbox seconds pass per real second (0 for a manual clock).
    package var speed: Double {
        if case .system(let speed, _) = mode { return speed }
        return 0
    }

    /// Whether the clock only moves when advanced.
    package var isManual: Bool {
        if case .manual = mode { return true }
        return false
    }

    /// Sandbox time, Unix seconds (with fraction).
    package var now: Double {
        switch mode {
        case .manual: return origin + advanced
        case .system(let speed, let realStart): return origin + speed * realStart.duration(to: .now).inSeconds + advanced
        }
    }

    /// Sandbox time, whole Unix seconds.
    package var nowSeconds: Int64 { Int64(now.rounded(.down)) }

    /// The time base of rate limiting, seconds: real elapsed time (never accelerated) plus advanced seconds.
    package var rateTime: Double {
        switch mode {
        case .manual: return advanced
        case .system(_, let realStart): return realStart.duration(to: .now).inSeconds + advanced
        }
    }

    /// ``now`` and ``rateTime`` as they were `realSeconds` of real time ago (a request that arrived
    /// then, ``ArrivalStamp``); a manual clock does not move with real time, so it reads the same.
    package func reading(realSecondsAgo realSeconds: Double) -> (now: Double, rateTime: Double) {
        guard !isManual, realSeconds > 0 else { return (now, rateTime) }
        return (now - speed * realSeconds, rateTime - realSeconds)
    }

    /// Moves the clock forward by `seconds` (negative values are ignored).
    package mutating func advance(by seconds: Double) {
        if seconds > 0 { advanced += seconds }
    }
}
