import CertWatchCore
import Foundation
import PostgresNIO

/// The outbox (`deliveries`, `delivery_attempts`, `sink_states`), the rules' grouping state
/// (`rule_groups`), retention and readiness.
extension PostgresStore {
    // MARK: Routing

    /// See ``DeliveryQueue/enqueue(_:)``: one transaction (none when `routing` is empty).
    @discardableResult
    package func enqueue(_ routing: Routing) async throws -> Int {
        guard !routing.isEmpty else { return 0 }
        return try await transaction { connection in try await self.write(routing, on: connection) }
    }

    /// Writes `routing` in the caller's transaction; a grouping change runs under the groups lock.
    /// Returns how many deliveries were written.
    @discardableResult
    func write(_ routing: Routing, on connection: PostgresConnection) async throws -> Int {
        var written = try await enqueueDeliveries(routing.deliveries, now: routing.now, on: connection)
        if let update = routing.groups {
            try await Self.lock("certwatch.groups", on: connection, logger: logger)
            let text = try await connection.rows("SELECT state FROM rule_groups WHERE id = 1", logger: logger).first?.string("state")
            // A state that no longer decodes is reset, not fatal (as on SQLite).
            let stored = text.flatMap { try? JSONDecoder().decode(GroupingState.self, from: Data($0.utf8)) } ?? GroupingState()
            var state = stored
            let summaries = try update(&state)
            if state != stored {
                let encoded = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
                try await connection.query(
                    "INSERT INTO rule_groups (id, state) VALUES (1, \(encoded)) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
                    logger: logger)
            }
            written += try await enqueueDeliveries(summaries, now: routing.now, on: connection)
        }
        return written
    }

    private func enqueueDeliveries(_ items: [PlannedDelivery], now: Double, on connection: PostgresConnection) async throws -> Int {
        var written = 0
        for item in items {
            let (event, decision) = (item.event, item.decision)
            written += try await connection.count(
                """
                INSERT INTO deliveries (event_id, event_sequence, event_type, subject, sink, rule, body, state,
                                        next_attempt_at, created_at, updated_at)
                VALUES (\(event.id), \(event.sequence ?? 0), \(event.type.rawValue), \(event.subject), \(decision.sink),
                        \(decision.rule), \(decision.body), \(DeliveryState.pending.rawValue), \(now), \(now), \(now))
                ON CONFLICT (event_id, sink) DO NOTHING RETURNING id
                """, logger: logger)
        }
        return written
    }

    // MARK: Dispatcher


    /// See ``DeliveryQueue/claimDeliveries(sink:now:limit:excluding:)``: the same choice as SQLite's
    /// (each certificate's earliest open delivery to the sink), and the rows are leased to this
    /// instance (`leased_by`, `leased_until`: ``DueDelivery/lease`` seconds) with `FOR UPDATE SKIP LOCKED`,
    /// so no two replicas send one delivery at once and one certificate's deliveries to a sink stay
    /// in order across replicas. A dead replica's leases end when a heartbeat reaps it.
    package func claimDeliveries(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64>) async throws
        -> [DueDelivery]
    {
        try await transaction { connection in
            let disabled = try await connection.count(
                "SELECT 1 FROM sink_states WHERE name = \(sink) AND disabled_at IS NOT NULL", logger: self.logger)
            guard disabled == 0 else { return [] }
            // Leased to this instance until it records the attempt (or leaves, or is reaped as dead):
            // another replica's claim skips the row while this one holds it, and skips a later
            // delivery of the same certificate while this one is open.
            let rows = try await connection.rows(
                """
                WITH claimed AS (
                    UPDATE deliveries SET leased_until = \(now + DueDelivery.lease), leased_by = \(self.instanceID)
                    WHERE id IN (
                        SELECT d.id FROM deliveries d
                        WHERE d.sink = \(sink) AND d.state IN \(unescaped: DeliveryState.openSQL) AND d.next_attempt_at <= \(now)
                          AND (d.leased_until IS NULL OR d.leased_until <= \(now) OR d.leased_by = \(self.instanceID))
                          AND NOT (d.id = ANY(\(Array(inFlight))))
                          AND NOT EXISTS (
                            SELECT 1 FROM deliveries p
                            WHERE p.sink = d.sink AND p.subject = d.subject AND p.state IN \(unescaped: DeliveryState.openSQL)
                              AND p.event_sequence < d.event_sequence)
                        ORDER BY d.next_attempt_at, d.id LIMIT \(limit)
                        FOR UPDATE SKIP LOCKED)
                    RETURNING *)
                SELECT c.*, e.body AS event_body FROM claimed c JOIN events e ON e.id = c.event_id
                ORDER BY c.next_attempt_at, c.id
                """, logger: self.logger)
            return try rows.map { row in
                DueDelivery(delivery: try Self.delivery(from: row), eventBody: try row.string("event_body"))
            }
        }
    }

    /// See ``DeliveryQueue/nextDeliveryDue(sinks:)``.
    package func nextDeliveryDue(sinks: [String]) async throws -> Double? {
        guard !sinks.isEmpty else { return nil }
        return try await rows(
            "SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE state IN \(unescaped: DeliveryState.openSQL) AND sink = ANY(\(sinks))"
        ).first?.value("at", as: Double?.self)
    }

    /// See ``DeliveryQueue/recordDeliveryAttempts(_:now:)``: one transaction.
    package func recordDeliveryAttempts(_ results: [RecordedAttempt], now: Double) async throws {
        guard !results.isEmpty else { return }
        try await transaction { connection in
            for result in results {
                let attempt = result.attempt
                try await connection.query(
                    """
                    INSERT INTO delivery_attempts (delivery_id, number, started_at, duration, status, response, error, outcome)
                    VALUES (\(attempt.deliveryID), \(attempt.number), \(attempt.startedAt), \(attempt.duration), \(attempt.status),
                            \(attempt.response), \(attempt.error), \(result.plan.state.rawValue))
                    """, logger: self.logger)
                try await connection.query(
                    """
                    UPDATE deliveries SET state = \(result.plan.state.rawValue), attempts = \(attempt.number),
                        next_attempt_at = \(result.plan.nextAttemptAt), updated_at = \(now), last_status = \(attempt.status),
                        last_error = \(attempt.error)
                    WHERE id = \(attempt.deliveryID) AND attempts = \(attempt.number - 1) AND state IN \(unescaped: DeliveryState.openSQL)
                    """, logger: self.logger)
                if result.plan.disableSink {
                    try await self.disableSink(
                        result.delivery.sink, reason: attempt.error ?? "disabled by the dispatcher", now: now, on: connection)
                }
            }
            // Replayed or cancelled meanwhile or not: the attempt is over, so is its lease.
            try await connection.query(
                """
                UPDATE deliveries SET leased_until = NULL, leased_by = NULL
                WHERE id = ANY(\(results.map(\.attempt.deliveryID))) AND leased_by = \(self.instanceID)
                """, logger: self.logger)
        }
    }

    // MARK: Sinks

    /// See ``DeliveryQueue/disabledSinks()``.
    package func disabledSinks() async throws -> [String: (at: Double, reason: String)] {
        var result: [String: (at: Double, reason: String)] = [:]
        for row in try await rows("SELECT name, disabled_at, reason FROM sink_states WHERE disabled_at IS NOT NULL") {
            result[try row.string("name")] = (try row.value("disabled_at", as: Double.self), try row.optionalString("reason") ?? "")
        }
        return result
    }

    /// See ``DeliveryQueue/enableSink(_:now:)``.
    @discardableResult
    package func enableSink(_ name: String, now: Double) async throws -> Bool {
        try await transaction { connection in
            let wasDisabled = try await connection.count("DELETE FROM sink_states WHERE name = \(name) RETURNING name", logger: self.logger) > 0
            try await connection.query(
                """
                UPDATE deliveries SET next_attempt_at = LEAST(next_attempt_at, \(now)), updated_at = \(now)
                WHERE sink = \(name) AND state IN \(unescaped: DeliveryState.openSQL)
                """, logger: self.logger)
            return wasDisabled
        }
    }

    /// See ``DeliveryQueue/disableSink(_:reason:now:)``.
    package func disableSink(_ name: String, reason: String, now: Double) async throws {
        try await client.withConnection { connection in try await self.disableSink(name, reason: reason, now: now, on: connection) }
    }

    private func disableSink(_ name: String, reason: String, now: Double, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO sink_states (name, disabled_at, reason) VALUES (\(name), \(now), \(reason))
            ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason
            """, logger: logger)
    }

    // MARK: Operators

    /// See ``DeliveryHistory/deliveries(state:sink:before:limit:)``.
    package func deliveries(state: DeliveryState?, sink: String?, before: Int64?, limit: Int) async throws -> [Delivery] {
        var query = SQLBuilder("SELECT * FROM deliveries")
        var clauses: [String] = []
        if let state { clauses.append("state = " + query.bind(state.rawValue)) }
        if let sink { clauses.append("sink = " + query.bind(sink)) }
        if let before { clauses.append("id < " + query.bind(before)) }
        if !clauses.isEmpty { query.sql += " WHERE " + clauses.joined(separator: " AND ") }
        let limitMark = query.bind(limit)
        query.sql += " ORDER BY id DESC LIMIT " + limitMark
        return try await rows(query.query).map(Self.delivery(from:))
    }

    /// See ``DeliveryHistory/delivery(id:)``.
    package func delivery(id: Int64) async throws -> Delivery? {
        try await rows("SELECT * FROM deliveries WHERE id = \(id)").first.map(Self.delivery(from:))
    }

    /// See ``DeliveryHistory/deliveryAttempts(deliveryID:)``. Throws ``StorageError`` for an unknown `outcome`.
    package func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttempt] {
        try await rows("SELECT * FROM delivery_attempts WHERE delivery_id = \(deliveryID) ORDER BY number, id").map { row in
            DeliveryAttempt(
                deliveryID: try row.int64("delivery_id"), number: try row.value("number", as: Int.self),
                startedAt: try row.value("started_at", as: Double.self), duration: try row.value("duration", as: Double.self),
                status: try row.value("status", as: Int?.self), response: try row.optionalString("response"),
                error: try row.optionalString("error"), outcome: try row.decoded(DeliveryState.self, "outcome", table: "delivery_attempts"))
        }
    }

    /// See ``DeliveryHistory/deliveryCounts()``. Throws ``StorageError`` for an unknown `state`.
    package func deliveryCounts() async throws -> [String: [DeliveryState: Int]] {
        var result: [String: [DeliveryState: Int]] = [:]
        for row in try await rows("SELECT sink, state, COUNT(*) AS n FROM deliveries GROUP BY sink, state") {
            result[try row.string("sink"), default: [:]][try row.decoded(DeliveryState.self, "state", table: "deliveries")] =
                Int(try row.int64("n"))
        }
        return result
    }

    /// See ``DeliveryQueue/replayDelivery(id:now:)``: one transaction, the row locked.
    package func replayDelivery(id: Int64, now: Double) async throws -> DeliveryState? {
        try await transaction { connection in
            guard let row = try await connection.rows("SELECT state FROM deliveries WHERE id = \(id) FOR UPDATE", logger: self.logger).first
            else { return nil }
            let state = try row.decoded(DeliveryState.self, "state", table: "deliveries")
            if state.isOpen {
                // Retry now: due at once, same attempt count (the retry schedule goes on from there).
                try await connection.query(
                    "UPDATE deliveries SET next_attempt_at = LEAST(next_attempt_at, \(now)), updated_at = \(now) WHERE id = \(id)",
                    logger: self.logger)
            } else {
                try await connection.query(
                    """
                    UPDATE deliveries SET state = \(DeliveryState.pending.rawValue), attempts = 0, next_attempt_at = \(now), updated_at = \(now)
                    WHERE id = \(id)
                    """, logger: self.logger)
            }
            return state
        }
    }

    /// See ``DeliveryQueue/replayDeliveries(sink:since:now:)``.
    package func replayDeliveries(sink: String?, since: Double, now: Double) async throws -> Int {
        var query = SQLBuilder("")
        let (nowMark, sinceMark) = (query.bind(now), query.bind(since))
        query.sql = """
            UPDATE deliveries SET state = \(DeliveryState.pendingSQL), attempts = 0, next_attempt_at = \(nowMark), updated_at = \(nowMark)
            WHERE state IN \(DeliveryState.failedSQL) AND updated_at >= \(sinceMark)
            """
        if let sink {
            let sinkMark = query.bind(sink)
            query.sql += " AND sink = " + sinkMark
        }
        query.sql += " RETURNING id"
        return try await rows(query.query).count
    }

    static func delivery(from row: PGRow) throws -> Delivery { try Delivery(row: row) }

    // MARK: Retention

    /// See ``StorageMaintenance/pruneDeliveryAttempts(startedBefore:limit:)``.
    /// Another replica pruning at the same time (the `certwatch.retention` lock is taken): 0.
    package func pruneDeliveryAttempts(startedBefore cutoff: Double, limit: Int) async throws -> Int {
        try await transaction { connection in
            guard try await Self.tryLock("certwatch.retention", schema: self.schema, on: connection, logger: self.logger) else { return 0 }
            return try await connection.count(
                """
                DELETE FROM delivery_attempts WHERE id IN (SELECT id FROM delivery_attempts WHERE started_at < \(cutoff) LIMIT \(limit))
                RETURNING id
                """, logger: self.logger)
        }
    }

    /// See ``StorageMaintenance/pruneEvents(before:limit:)``: one transaction.
    /// Another replica pruning at the same time (the `certwatch.retention` lock is taken): 0.
    package func pruneEvents(before cutoff: Int64, limit: Int) async throws -> Int {
        try await transaction { connection in
            guard try await Self.tryLock("certwatch.retention", schema: self.schema, on: connection, logger: self.logger) else { return 0 }
            let ids = try await connection.rows(
                """
                SELECT e.id FROM events e WHERE e.time < \(cutoff)
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.state IN \(unescaped: DeliveryState.openSQL))
                ORDER BY e.sequence LIMIT \(limit)
                """, logger: self.logger
            ).map { try $0.string("id") }
            guard !ids.isEmpty else { return 0 }
            try await connection.query(
                "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ANY(\(ids)))",
                logger: self.logger)
            try await connection.query("DELETE FROM deliveries WHERE event_id = ANY(\(ids))", logger: self.logger)
            try await connection.query("DELETE FROM events WHERE id = ANY(\(ids))", logger: self.logger)
            return ids.count
        }
    }

    // MARK: Health

    /// See ``StorageMaintenance/checkWritable()``: throws ``PostgresStoreError`` when the server takes
    /// no writes (a read-only standby or a read-only transaction default).
    package func checkWritable() async throws {
        let readOnly = try await rows("SELECT current_setting('transaction_read_only') AS ro").first?.string("ro")
        if readOnly != "off" {
            throw PostgresStoreError.readOnly("\(location) takes no writes (transaction_read_only = \(readOnly ?? "unknown"))")
        }
    }

    /// See ``ReplicaRegistry/releaseOrphanedLeases()``: releases nothing (0). Another replica may hold
    /// the leases; a dead one's run out, or its heartbeat is reaped.
    package func releaseOrphanedLeases() async throws -> Int { 0 }

    /// Ends every watch lease (see ``Store/releaseAllLeases()``): only safe while no other instance
    /// polls this database. Returns how many there were.
    package func releaseAllLeases() async throws -> Int {
        try await rows("UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE leased_until IS NOT NULL RETURNING id").count
    }
}
