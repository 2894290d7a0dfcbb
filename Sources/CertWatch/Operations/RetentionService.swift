import CertWatchCore
import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// How long finished history is kept (`retention.events`, `retention.delivery_attempts`; default 90 days each).
public struct RetentionPolicy: Sendable, Hashable {
    /// Events older than this many seconds are pruned, unless a delivery of theirs is still open.
    public var events: Int64
    /// Delivery attempts older than this many seconds are pruned.
    public var deliveryAttempts: Int64
    /// Rows deleted per transaction (small, so polls never wait long for the writer).
    public var batchSize: Int

    public init(events: Int64 = 90 * 86_400, deliveryAttempts: Int64 = 90 * 86_400, batchSize: Int = 500) {
        self.events = events
        self.deliveryAttempts = deliveryAttempts
        self.batchSize = batchSize
    }
}

/// Prunes old events, their finished deliveries and old delivery attempts in small batches, once an
/// hour (and at start). Watches and certificates' last snapshots are never pruned.
public struct RetentionService: Service {
    let store: Store
    let policy: RetentionPolicy
    let clock: any WallClock
    let interval: Double
    let logger: Logger

    public init(
        store: Store, policy: RetentionPolicy, clock: any WallClock = SystemWallClock(), interval: Double = 3_600,
        logger: Logger = Logger(label: "certwatch.retention")
    ) {
        self.store = store
        self.policy = policy
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
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
    public func prune() async throws -> (events: Int, attempts: Int) {
        let now = clock.now()
        let attemptCutoff = now - Double(policy.deliveryAttempts)
        let eventCutoff = clock.unixNow - policy.events
        let batch = policy.batchSize
        var attempts = 0
        var events = 0
        while true {
            let deleted = try await store.pool.write { db -> Int in
                try db.execute(
                    sql: "DELETE FROM delivery_attempts WHERE id IN (SELECT id FROM delivery_attempts WHERE started_at < ? LIMIT ?)",
                    arguments: [attemptCutoff, batch])
                return db.changesCount
            }
            attempts += deleted
            if deleted < batch { break }
        }
        while true {
            let deleted = try await store.pool.write { db -> Int in
                let ids = try String.fetchAll(
                    db,
                    sql: """
                        SELECT e.id FROM events e WHERE e.time < ?
                        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN ('pending', 'retrying'))
                        ORDER BY e.sequence LIMIT ?
                        """, arguments: [eventCutoff, batch])
                guard !ids.isEmpty else { return 0 }
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                try db.execute(
                    sql: """
                        DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN (\(marks)))
                        """, arguments: StatementArguments(ids))
                try db.execute(sql: "DELETE FROM deliveries WHERE event_id IN (\(marks))", arguments: StatementArguments(ids))
                try db.execute(sql: "DELETE FROM events WHERE id IN (\(marks))", arguments: StatementArguments(ids))
                return ids.count
            }
            events += deleted
            if deleted < batch { break }
        }
        return (events, attempts)
    }
}
