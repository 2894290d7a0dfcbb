import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// The delivery tables of the ``Store``: `deliveries` (the outbox: one row per event × sink),
/// `delivery_attempts` (the attempt log) and `sink_states` (sinks disabled by 410 Gone).
///
/// Ordering is enforced by the claim query: a delivery is eligible only when no earlier delivery
/// (lower event sequence) of the same certificate to the same sink is still open.
public struct DeliveryStore: Sendable {
    /// The store.
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Registers the delivery migrations (called from ``Store/migrator``).
    static func registerMigrations(_ migrator: inout DatabaseMigrator) {
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

    // MARK: Outbox

    /// Writes one pending delivery per (event, decision) inside the caller's transaction; a
    /// delivery already stored for the same event and sink is kept. Returns how many were written.
    @discardableResult
    public static func enqueue(_ items: [(event: CertWatchEvent, decision: RouteDecision)], now: Double, db: Database)
        throws -> Int
    {
        var written = 0
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO deliveries (event_id, event_sequence, event_type, subject, sink, rule, body, state,
                                        next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                ON CONFLICT (event_id, sink) DO NOTHING
                """)
        for (event, decision) in items {
            try statement.execute(arguments: [
                event.id, event.sequence ?? 0, event.type.rawValue, event.subject, decision.sink, decision.rule,
                decision.body, now, now, now,
            ])
            written += db.changesCount
        }
        return written
    }

    // MARK: Dispatcher

    /// A claimed delivery with its event.
    public struct Claimed: Sendable {
        /// The delivery.
        public var delivery: Delivery
        /// The event (with its sequence).
        public var event: CertWatchEvent
    }

    /// A due delivery with its event as stored, not decoded: the dispatcher sends the stored JSON
    /// with the sequence added (``EventJSON``), and only sinks that need the event's fields decode it.
    public struct Due: Sendable {
        /// The delivery.
        public var delivery: Delivery
        /// The event as stored (its JSON without `sequence`).
        public var eventBody: String

        /// What the sink is asked to deliver for the next attempt, at `now`: the stored JSON with
        /// the sequence added, or (for a body of another shape) the decoded event. Throws when the
        /// stored body is not an event.
        public func outbound(now: Double) throws -> OutboundDelivery {
            let attempt = delivery.attempts + 1
            if let json = EventJSON.withSequence(eventBody, eventID: delivery.eventID, sequence: delivery.eventSequence) {
                return OutboundDelivery(
                    deliveryID: delivery.id, attempt: attempt, eventID: delivery.eventID, eventJSON: json, body: delivery.body,
                    now: now)
            }
            return OutboundDelivery(deliveryID: delivery.id, attempt: attempt, event: try decoded().event, body: delivery.body, now: now)
        }

        /// The delivery with its event decoded. Throws when the stored body is not an event.
        public func decoded() throws -> Claimed {
            var event = try DeliveryStore.event(fromBody: Data(eventBody.utf8))
            event.sequence = delivery.eventSequence
            return Claimed(delivery: delivery, event: event)
        }
    }

    /// Up to `limit` deliveries of `sink` due at `now`, each the earliest open one of its
    /// certificate for this sink, excluding `inFlight` ids. Oldest due first (then in outbox order).
    public func due(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64> = []) async throws -> [Claimed] {
        try await store.pool.read { db in
            try Self.due(sink: sink, now: now, limit: limit, excluding: inFlight, db: db).map { try $0.decoded() }
        }
    }

    /// What ``due(sink:now:limit:excluding:)`` returns, undecoded, in one read that first checks
    /// the sink is enabled: nothing is claimed for a disabled sink.
    public func claim(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64> = []) async throws -> [Due] {
        try await store.pool.read { db in
            let disabled = try Bool.fetchOne(
                db, sql: "SELECT 1 FROM sink_states WHERE name = ? AND disabled_at IS NOT NULL", arguments: [sink]) ?? false
            return disabled ? [] : try Self.due(sink: sink, now: now, limit: limit, excluding: inFlight, db: db)
        }
    }

    /// The claim query (sink, now, limit): due deliveries, each the earliest open one of its
    /// certificate. It walks `deliveries_due` in index order (`next_attempt_at`, then row id, the
    /// index's last column) and stops at the limit: no sort of every due delivery per claim.
    static let dueSQL = """
        SELECT d.*, e.body AS event_body FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.sink = ? AND d.state IN ('pending', 'retrying') AND d.next_attempt_at <= ?
          AND NOT EXISTS (
            SELECT 1 FROM deliveries p
            WHERE p.sink = d.sink AND p.subject = d.subject AND p.state IN ('pending', 'retrying')
              AND p.event_sequence < d.event_sequence)
        ORDER BY d.next_attempt_at, d.id LIMIT ?
        """

    /// Runs ``dueSQL`` for `limit` + `inFlight.count` rows and skips the `inFlight` ones.
    static func due(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64>, db: Database) throws -> [Due] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: dueSQL), arguments: [sink, now, limit + inFlight.count])
        var due: [Due] = []
        while due.count < limit, let row = try rows.next() {
            let delivery = Self.delivery(from: row)
            guard !inFlight.contains(delivery.id) else { continue }
            due.append(Due(delivery: delivery, eventBody: row["event_body"]))
        }
        return due
    }

    /// Decodes a stored event body (one parse, see ``DouyinJSON``). Throws ``DouyinDecodingError``
    /// naming the bad JSON path.
    static func event(fromBody body: Data) throws -> CertWatchEvent {
        try DouyinJSON.decode(CertWatchEvent.self, from: body)
    }

    /// The earliest `next_attempt_at` of an open delivery of an enabled sink, or `nil`.
    public func nextDue(sinks: [String]) async throws -> Double? {
        guard !sinks.isEmpty else { return nil }
        let placeholders = Array(repeating: "?", count: sinks.count).joined(separator: ",")
        return try await store.pool.read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT MIN(next_attempt_at) FROM deliveries
                    WHERE state IN ('pending', 'retrying') AND sink IN (\(placeholders))
                    """, arguments: StatementArguments(sinks))
        }
    }

    /// The result of one attempt, to record.
    public struct Recorded: Sendable {
        /// The delivery attempted.
        public var delivery: Delivery
        /// The attempt.
        public var attempt: DeliveryAttempt
        /// What follows.
        public var plan: DeliveryPlan

        public init(delivery: Delivery, attempt: DeliveryAttempt, plan: DeliveryPlan) {
            self.delivery = delivery
            self.attempt = attempt
            self.plan = plan
        }
    }

    /// Records attempts and their plans in one transaction; disables sinks that answered 410.
    /// A delivery replayed or cancelled meanwhile (attempt count changed) still gets its attempt
    /// logged but keeps its new state.
    public func record(_ results: [Recorded], now: Double) async throws {
        guard !results.isEmpty else { return }
        try await store.pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO delivery_attempts (delivery_id, number, started_at, duration, status, response, error, outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let update = try db.cachedStatement(
                sql: """
                    UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, updated_at = ?, last_status = ?,
                        last_error = ?
                    WHERE id = ? AND attempts = ? AND state IN ('pending', 'retrying')
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
                    try db.execute(
                        sql: """
                            INSERT INTO sink_states (name, disabled_at, reason) VALUES (?, ?, ?)
                            ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason
                            """, arguments: [result.delivery.sink, now, "410 Gone from the receiver"])
                }
            }
        }
    }

    // MARK: Sinks

    /// Disabled sinks with when and why.
    public func disabledSinks() async throws -> [String: (at: Double, reason: String)] {
        try await store.pool.read { db in
            var result: [String: (at: Double, reason: String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM sink_states WHERE disabled_at IS NOT NULL") {
                result[row["name"]] = (row["disabled_at"], row["reason"] ?? "")
            }
            return result
        }
    }

    /// Re-enables a sink; its open deliveries become due at `now`. Returns whether it was disabled.
    @discardableResult
    public func enableSink(_ name: String, now: Double) async throws -> Bool {
        try await store.pool.write { db in
            try db.execute(sql: "DELETE FROM sink_states WHERE name = ?", arguments: [name])
            let wasDisabled = db.changesCount > 0
            try db.execute(
                sql: """
                    UPDATE deliveries SET next_attempt_at = MIN(next_attempt_at, ?), updated_at = ?
                    WHERE sink = ? AND state IN ('pending', 'retrying')
                    """, arguments: [now, now, name])
            return wasDisabled
        }
    }

    /// Disables a sink by hand (its deliveries wait).
    public func disableSink(_ name: String, reason: String, now: Double) async throws {
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sink_states (name, disabled_at, reason) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason
                    """, arguments: [name, now, reason])
        }
    }

    // MARK: Operators

    /// Deliveries newest first, filtered by state and sink, before the id `before`, at most `limit`.
    public func list(state: DeliveryState? = nil, sink: String? = nil, before: Int64? = nil, limit: Int = 100)
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
        return try await store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deliveries \(filter) ORDER BY id DESC LIMIT ?", arguments: finalArguments)
                .map(Self.delivery(from:))
        }
    }

    /// The delivery with `id`, or `nil`.
    public func delivery(id: Int64) async throws -> Delivery? {
        try await store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM deliveries WHERE id = ?", arguments: [id]).map(Self.delivery(from:))
        }
    }

    /// The attempts of a delivery, oldest first.
    public func attempts(deliveryID: Int64) async throws -> [DeliveryAttempt] {
        try await store.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY number, id", arguments: [deliveryID]
            ).map { row in
                DeliveryAttempt(
                    deliveryID: row["delivery_id"], number: row["number"], startedAt: row["started_at"],
                    duration: row["duration"], status: row["status"], response: row["response"], error: row["error"],
                    outcome: DeliveryState(rawValue: row["outcome"]) ?? .pending)
            }
        }
    }

    /// Counts by state (and sink).
    public func counts() async throws -> [String: [DeliveryState: Int]] {
        try await store.pool.read { db in
            var result: [String: [DeliveryState: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sink, state, COUNT(*) AS n FROM deliveries GROUP BY sink, state") {
                if let state = DeliveryState(rawValue: row["state"]) { result[row["sink"], default: [:]][state] = row["n"] }
            }
            return result
        }
    }

    /// Replays one dead or cancelled delivery (or a delivered one, to re-send it): it becomes
    /// `pending`, due at `now`, with a fresh attempt budget. Returns `false` when there is no such
    /// delivery or it is still open.
    public func replay(id: Int64, now: Double) async throws -> Bool {
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
                    WHERE id = ? AND state IN ('dead', 'cancelled', 'delivered')
                    """, arguments: [now, now, id])
            return db.changesCount > 0
        }
    }

    /// Replays every dead or cancelled delivery of `sink` (all sinks when nil) that reached that
    /// state at or after `since` (Unix seconds). Returns how many.
    public func replay(sink: String?, since: Double, now: Double) async throws -> Int {
        try await store.pool.write { db in
            var sql = """
                UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
                WHERE state IN ('dead', 'cancelled') AND updated_at >= ?
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

    static func delivery(from row: Row) -> Delivery {
        Delivery(
            id: row["id"], eventID: row["event_id"], eventSequence: row["event_sequence"], eventType: row["event_type"],
            subject: row["subject"], sink: row["sink"], rule: row["rule"], body: row["body"],
            state: DeliveryState(rawValue: row["state"]) ?? .pending, attempts: row["attempts"],
            nextAttemptAt: row["next_attempt_at"], createdAt: row["created_at"], updatedAt: row["updated_at"],
            lastStatus: row["last_status"], lastError: row["last_error"])
    }
}
