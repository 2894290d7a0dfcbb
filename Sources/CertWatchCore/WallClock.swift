import DouyinModels
import Foundation
import Synchronization

/// The wall clock certwatch schedules by: Unix seconds (fractional) and a way to wait.
/// Inject ``ManualWallClock`` in tests and simulations, ``ScaledWallClock`` in the demo.
public protocol WallClock: Sendable {
    /// Now, Unix seconds.
    func now() -> Double
    /// Waits `seconds` of this clock's time. Throws `CancellationError` when cancelled.
    func sleep(seconds: Double) async throws
}

extension WallClock {
    /// Now, whole Unix seconds.
    public var unixNow: Int64 { Int64(now().rounded(.down)) }
}

/// The system's wall clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }
}

/// A clock running `speed` times faster than real time from `origin` (the demo's accelerated day).
public struct ScaledWallClock: WallClock {
    /// Clock time at start, Unix seconds.
    public let origin: Double
    /// Clock seconds per real second.
    public let speed: Double
    private let realStart: ContinuousClock.Instant

    public init(origin: Double = Date().timeIntervalSince1970, speed: Double) {
        self.origin = origin
        self.speed = max(speed, 0.000_001)
        realStart = .now
    }

    public func now() -> Double {
        return origin + (ContinuousClock.now - realStart).inSeconds * speed
    }

    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(for: .microseconds(Int64((seconds / speed * 1_000_000).rounded(.up))))
    }
}

/// A clock moved by hand. `sleep` advances it instantly (virtual time), so loops driven by it
/// never wait for real.
package final class ManualWallClock: WallClock {
    private let current: Mutex<Double>

    package init(_ start: Double = 1_734_169_082) { current = Mutex(start) }

    package func now() -> Double { current.withLock { $0 } }

    /// Moves the clock forward by `seconds`.
    package func advance(_ seconds: Double) { current.withLock { $0 += seconds } }

    /// Sets the clock to `time` (Unix seconds), if later than now.
    package func set(_ time: Double) { current.withLock { $0 = max($0, time) } }

    package func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        advance(max(seconds, 0))
        await Task.yield()
    }
}
