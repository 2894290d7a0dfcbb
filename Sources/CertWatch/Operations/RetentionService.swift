import CertWatchCore
import Foundation
import Logging
import ServiceLifecycle

/// How long finished history is kept (`retention.events`, `retention.delivery_attempts`; default 90 days each).
package struct RetentionPolicy: Sendable, Hashable {
    /// Events older than this many seconds are pruned, unless a delivery of theirs is still open.
    package var events: Int64
    /// Delivery attempts older than this many seconds are pruned.
    package var deliveryAttempts: Int64
    /// Rows deleted per transaction (small, so polls never wait long for the writer).
    package var batchSize: Int

    package init(events: Int64 = 90 * 86_400, deliveryAttempts: Int64 = 90 * 86_400, batchSize: Int = 500) {
        self.events = events
        self.deliveryAttempts = deliveryAttempts
        self.batchSize = batchSize
    }
}

/// Prunes old events, their finished deliveries, old delivery attempts and push `Msg-Id`s older
/// than a day (``DouyinPushIntake/pushMessageMemory``) in small batches, once an
/// hour (and at start). Watches and certificates' last snapshots are never pruned.
package struct RetentionService: Service {
    let store: any StorageMaintenance & PushMessageLog
    let policy: RetentionPolicy
    let clock: any WallClock
    let interval: Double
    let logger: Logger

    package init(
        store: any StorageMaintenance & PushMessageLog, policy: RetentionPolicy, clock: any WallClock = SystemWallClock(), interval: Double = 3_600,
        logger: Logger = Logger(label: "certwatch.retention")
    ) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let pruned = try await prune()
                if pruned.events + pruned.attempts > 0 {
                    logger.info("pruned history", metadata: ["events": "\(pruned.events)", "attempts": "\(pruned.attempts)"])
                }
            } catch {
                logger.error("retention pass failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await clock.sleep(seconds: interval) }
        }
    }

    /// One pass: deletes in batches until nothing is older than the limits. Returns the counts.
    @discardableResult
    package func prune() async throws -> (events: Int, attempts: Int) {
        let now = clock.now()
        let attemptCutoff = now - Double(policy.deliveryAttempts)
        let eventCutoff = clock.unixNow - policy.events
        let batch = policy.batchSize
        var attempts = 0
        var events = 0
        while true {
            let deleted = try await store.pruneDeliveryAttempts(startedBefore: attemptCutoff, limit: batch)
            attempts += deleted
            if deleted < batch { break }
        }
        while true {
            let deleted = try await store.pruneEvents(before: eventCutoff, limit: batch)
            events += deleted
            if deleted < batch { break }
        }
        _ = try await store.prunePushMessages(before: now - DouyinPushIntake.pushMessageMemory)
        return (events, attempts)
    }
}
