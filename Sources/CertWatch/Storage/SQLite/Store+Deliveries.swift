import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// The delivery tables: `deliveries` (the outbox: one row per event × sink), `delivery_attempts`
/// (the attempt log) and `sink_states` (sinks disabled by 410 Gone or by hand).
///
/// Ordering is enforced by the claim query: a delivery is eligible only when no earlier delivery
/// (lower event sequence) of the same certificate to the same sink is still open.
extension Store {
    /// Registers the delivery migrations (called from ``Store/migrator``).
    static func registerDeliveryMigrations(_ migrator: inout DatabaseMigrator) {
        // A shipped migration: its text stays as it was.
        migrator.registerMigration("v2-deliveries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL,
                        event_sequence INTEGER NOT NULL,
                        event_type TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        sink TEXT NOT NULL,
                        rule TEXT,
                        body TEXT,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL,
                        created_at REAL NOT NULL,
                        updated_at REAL NOT NULL,
                        last_status INTEGER,
                        last_error TEXT,
                        UNIQUE (event_id, sink)
                    );
                    CREATE INDEX deliveries_due ON deliveries(sink, next_attempt_at) WHERE state IN ('pending', 'retrying');
                    CREATE INDEX deliveries_open ON deliveries(sink, subject, event_sequence) WHERE state IN ('pending', 'retrying');
                    CREATE INDEX deliveries_state ON deliveries(state, sink, updated_at);

                    CREATE TABLE delivery_attempts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
                        number INTEGER NOT NULL,
                        started_at REAL NOT NULL,
                        duration REAL NOT NULL,
                        status INTEGER,
                        response TEXT,
                        error TEXT,
                        outcome TEXT NOT NULL
                    );
                    CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, number);

                    CREATE TABLE sink_states (
                        name TEXT PRIMARY KEY,
                        disabled_at REAL,
                        reason TEXT
                    );
                    """)
        }
    }

    // MARK: Dispatcher

    /// See ``DeliveryQueue/claimDeliveries(sink:now:limit:excluding:)``: one write transaction that
    /// checks the sink is enabled, runs ``dueDeliveriesSQL`` for `limit` + `inFlight.count` rows,
    /// skips `inFlight` and leases the rest to this instance.
    package func claimDeliveries(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64> = []) async throws
        -> [DueDelivery]
    {
        try await writer.write { db in
            let disabled = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM sink_states WHERE name = ? AND disabled_at IS NOT NULL", arguments: [sink]) ?? false
            guard !disabled else { return [] }
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: Self.dueDeliveriesSQL), arguments: [sink, now, now, self.instanceID, limit + inFlight.count])
            var due: [DueDelivery] = []
            while due.count < limit, let row = try rows.next() {
                let delivery = try Self.delivery(from: row)
                guard !inFlight.contains(delivery.id) else { continue }
                due.append(DueDelivery(delivery: delivery, eventBody: row["event_body"]))
            }
            let lease = try db.cachedStatement(sql: "UPDATE deliveries SET leased_until = ?, leased_by = ? WHERE id = ?")
            for item in due { try lease.execute(arguments: [now + DueDelivery.lease, self.instanceID, item.delivery.id]) }
            return due
        }
    }

    /// The claim query (sink, now, now, instance id, limit): due deliveries not leased to another
    /// instance, each the earliest open one of its certificate. It walks `deliveries_due` in index order (`next_attempt_at`, then row id,
    /// the index's last column) and stops at the limit: no sort of every due delivery per claim.
    static let dueDeliveriesSQL = """
        SELECT d.*, e.body AS event_body FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.sink = ? AND d.state IN \(DeliveryState.openSQL) AND d.next_attempt_at <= ?
          AND (d.leased_until IS NULL OR d.leased_until <= ? OR d.leased_by = ?)
          AND NOT EXISTS (
            SELECT 1 FROM deliveries p
            WHERE p.sink = d.sink AND p.subject = d.subject AND p.state IN \(DeliveryState.openSQL)
              AND p.event_sequence < d.event_sequence)
        ORDER BY d.next_attempt_at, d.id LIMIT ?
        """

    /// See ``DeliveryQueue/nextDeliveryDue(sinks:)`` (Unix seconds).
    package func nextDeliveryDue(sinks: [String]) async throws -> Double? {
        guard !sinks.isEmpty else { return nil }
        let placeholders = Array(repeating: "?", count: sinks.count).joined(separator: ",")
        return try await writer.read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT MIN(next_attempt_at) FROM deliveries
                    WHERE state IN \(DeliveryState.openSQL) AND sink IN (\(placeholders))
                    """, arguments: StatementArguments(sinks))
        }
    }

    /// See ``DeliveryQueue/recordDeliveryAttempts(_:now:)``: one write transaction.
    package func recordDeliveryAttempts(_ results: [RecordedAttempt], now: Double) async throws {
        guard !results.isEmpty else { return }
        try await writer.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO delivery_attempts (delivery_id, number, started_at, duration, status, response, error, outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let update = try db.cachedStatement(
                sql: """
                    UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, updated_at = ?, last_status = ?,
                        last_error = ?
                    WHERE id = ? AND attempts = ? AND state IN \(DeliveryState.openSQL)
                    """)
            for result in results {
                let attempt = result.attempt
                try insert.execute(arguments: [
                    attempt.deliveryID, attempt.number, attempt.startedAt, attempt.duration, attempt.status,
                    attempt.response, attempt.error, result.plan.state.rawValue,
                ])
                try update.execute(arguments: [
                    result.plan.state.rawValue, attempt.number, result.plan.nextAttemptAt, now, attempt.status,
                    attempt.error, attempt.deliveryID, attempt.number - 1,
                ])
                if result.plan.disableSink {
                    try Self.disableSink(result.delivery.sink, reason: attempt.error ?? "disabled by the dispatcher", now: now, db: db)
                }
            }
            // Replayed or cancelled meanwhile or not: the attempt is over, so is its lease.
            let release = try db.cachedStatement(
                sql: "UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE id = ? AND leased_by = ?")
            for result in results { try release.execute(arguments: [result.attempt.deliveryID, self.instanceID]) }
        }
    }

    // MARK: Sinks

    /// See ``DeliveryQueue/disabledSinks()``.
    package func disabledSinks() async throws -> [String: (at: Double, reason: String)] {
        try await writer.read { db in
            var result: [String: (at: Double, reason: String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM sink_states WHERE disabled_at IS NOT NULL") {
                result[row["name"]] = (row["disabled_at"], row["reason"] ?? "")
            }
            return result
        }
    }

    /// See ``DeliveryQueue/enableSink(_:now:)``.
    @discardableResult
    package func enableSink(_ name: String, now: Double) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM sink_states WHERE name = ?", arguments: [name])
            let wasDisabled = db.changesCount > 0
            try db.execute(
                sql: """
                    UPDATE deliveries SET next_attempt_at = MIN(next_attempt_at, ?), updated_at = ?
                    WHERE sink = ? AND state IN \(DeliveryState.openSQL)
                    """, arguments: [now, now, name])
            return wasDisabled
        }
    }

    /// See ``DeliveryQueue/disableSink(_:reason:now:)``.
    package func disableSink(_ name: String, reason: String, now: Double) async throws {
        try await writer.write { db in try Self.disableSink(name, reason: reason, now: now, db: db) }
    }

    private static func disableSink(_ name: String, reason: String, now: Double, db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO sink_states (name, disabled_at, reason) VALUES (?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason
                """, arguments: [name, now, reason])
    }

    // MARK: Operators

    /// See ``DeliveryHistory/deliveries(state:sink:before:limit:)``.
    package func deliveries(state: DeliveryState? = nil, sink: String? = nil, before: Int64? = nil, limit: Int = 100)
        async throws -> [Delivery]
    {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let state {
            clauses.append("state = ?")
            arguments += [state.rawValue]
        }
        if let sink {
            clauses.append("sink = ?")
            arguments += [sink]
        }
        if let before {
            clauses.append("id < ?")
            arguments += [before]
        }
        arguments += [limit]
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let finalArguments = arguments
        return try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deliveries \(filter) ORDER BY id DESC LIMIT ?", arguments: finalArguments)
                .map(Self.delivery(from:))
        }
    }

    /// See ``DeliveryHistory/delivery(id:)``.
    package func delivery(id: Int64) async throws -> Delivery? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id]).map(Self.delivery(from:))
        }
    }

    /// See ``DeliveryHistory/deliveryAttempts(deliveryID:)``. Throws ``StorageError`` for an unknown `outcome`.
    package func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttempt] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number, id", arguments: [deliveryID]
            ).map { row in
                DeliveryAttempt(
                    deliveryID: row["delivery_id"], number: row["number"], startedAt: row["started_at"],
                    duration: row["duration"], status: row["status"], response: row["response"], error: row["error"],
                    outcome: try row.decoded(DeliveryState.self, "outcome", table: "delivery_attempts"))
            }
        }
    }

    /// See ``DeliveryHistory/deliveryCounts()``. Throws ``StorageError`` for an unknown `state`.
    package func deliveryCounts() async throws -> [String: [DeliveryState: Int]] {
        try await writer.read { db in
            var result: [String: [DeliveryState: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sink, state, COUNT(*) AS n FROM deliveries GROUP BY sink, state") {
                result[row["sink"], default: [:]][try row.decoded(DeliveryState.self, "state", table: "deliveries")] = row["n"]
            }
            return result
        }
    }

    /// See ``DeliveryQueue/replayDelivery(id:now:)``.
    package func replayDelivery(id: Int64, now: Double) async throws -> DeliveryState? {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT state FROM deliveries WHERE id = ?", arguments: [id]) else {
                return nil
            }
            let state = try row.decoded(DeliveryState.self, "state", table: "deliveries")
            if state.isOpen {
                // Retry now: due at once, same attempt count (the retry schedule goes on from there).
                try db.execute(
                    sql: "UPDATE deliveries SET next_attempt_at = MIN(next_attempt_at, ?), updated_at = ? WHERE id = ?",
                    arguments: [now, now, id])
            } else {
                try db.execute(
                    sql: """
                        UPDATE deliveries SET state = \(DeliveryState.pending.sql), attempts = 0, next_attempt_at = ?, updated_at = ?
                        WHERE id = ?
                        """, arguments: [now, now, id])
            }
            return state
        }
    }

    /// See ``DeliveryQueue/replayDeliveries(sink:since:now:)``.
    package func replayDeliveries(sink: String?, since: Double, now: Double) async throws -> Int {
        try await writer.write { db in
            var sql = """
                UPDATE deliveries SET state = \(DeliveryState.pending.sql), attempts = 0, next_attempt_at = ?, updated_at = ?
                WHERE state IN \(DeliveryState.failedSQL) AND updated_at >= ?
                """
            var arguments: StatementArguments = [now, now, since]
            if let sink {
                sql += " AND sink = ?"
                arguments += [sink]
            }
            try db.execute(sql: sql, arguments: arguments)
            return db.changesCount
        }
    }

    static func delivery(from row: Row) throws -> Delivery { try Delivery(row: row) }
}
