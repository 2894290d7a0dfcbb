import CertWatchCore
import Foundation
import GRDB

/// Retention, readiness, and what the demo, the benchmarks and the tests need beyond the contract.
extension Store {
    // MARK: Retention

    /// See ``StorageMaintenance/pruneDeliveryAttempts(startedBefore:limit:)``: one transaction.
    package func pruneDeliveryAttempts(startedBefore cutoff: Double, limit: Int) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM delivery_attempts WHERE id IN (SELECT id FROM delivery_attempts WHERE started_at < ? LIMIT ?)",
                arguments: [cutoff, limit])
            return db.changesCount
        }
    }

    /// See ``StorageMaintenance/pruneEvents(before:limit:)``: one transaction.
    package func pruneEvents(before cutoff: Int64, limit: Int) async throws -> Int {
        try await writer.write { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT e.id FROM events e WHERE e.time < ?
                    AND NOT EXISTS (
                        SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN \(DeliveryState.openSQL))
                    ORDER BY e.sequence LIMIT ?
                    """, arguments: [cutoff, limit])
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
    }

    // MARK: Health

    /// See ``StorageMaintenance/checkWritable()``: a write transaction on the single writer.
    package func checkWritable() async throws {
        try await writer.write { db in try db.execute(sql: "SELECT 1") }
    }

    // MARK: Benchmarks

    /// Makes every watch active and due at `at` (Unix seconds), leases cleared: the steady-state
    /// re-poll of `bench poll-pipeline`. Done watches become active again.
    package func makeEveryWatchDue(at: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE watches SET state = \(Watch.State.active.sql), next_poll_at = ?, leased_until = NULL, leased_by = NULL",
                arguments: [at])
        }
    }

    /// Sets `next_poll_at` of every active watch to `at` (Unix seconds).
    package func rescheduleActiveWatches(at: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE watches SET next_poll_at = ? WHERE state = \(Watch.State.active.sql)", arguments: [at])
        }
    }

    /// Active watches due at `now` (leased or not), counted on the due index.
    package func dueWatchCount(now: Int64) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM watches INDEXED BY watches_due
                    WHERE state = \(Watch.State.active.sql) AND next_poll_at <= ?
                    """, arguments: [now]) ?? 0
        }
    }

    /// Polls committed so far, summed over every watch.
    package func totalPollCount() async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(poll_count), 0) FROM watches") ?? 0
        }
    }

    /// Folds the write-ahead log into the database file (so its size can be measured).
    package func checkpoint() async throws {
        _ = try await writer.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    // MARK: Tests

    /// The database, for tests that write rows the API would never write (an unknown state, a
    /// broken event body) or read query plans. Not for production code.
    var testingWriter: any DatabaseWriter { writer }
}
