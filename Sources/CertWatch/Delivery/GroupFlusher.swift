import CertWatchCore
import Logging
import ServiceLifecycle

/// Sends group summaries when their `wait` or `interval` runs out: checks the stored groups every
/// ``interval`` seconds of the clock and turns due groups into deliveries (then wakes the dispatcher).
public struct GroupFlusher: Service {
    let store: Store
    let outbox: Outbox
    let clock: any WallClock
    let interval: Double
    let wake: @Sendable () -> Void
    let logger: Logger

    public init(
        store: Store, outbox: Outbox, clock: any WallClock, interval: Double = 1, wake: @escaping @Sendable () -> Void = {},
        logger: Logger = Logger(label: "certwatch.groups")
    ) {
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.interval = interval
        self.wake = wake
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                if try await flushDue() > 0 { wake() }
            } catch {
                logger.error("cannot flush groups", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await clock.sleep(seconds: interval) }
        }
    }

    /// Flushes every group due now; returns how many summaries were queued.
    @discardableResult
    public func flushDue() async throws -> Int {
        let rules = outbox.currentRules
        let now = clock.now()
        return try await store.pool.write { db in try GroupStore.flush(rules: rules, now: now, db: db).count }
    }
}
