import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// certwatch's SQLite storage: the ``CertWatchStorage`` implementation over GRDB (a `DatabasePool`
/// in WAL mode: one writer, readers alongside, so `events tail` and `watch list` work while
/// `serve` runs). Every GRDB type and every SQL statement of certwatch lives in this folder.
///
/// Tables: `watches`, `certificates` (last snapshot + raw JSON per watch × certificate), `events`
/// (append-only; `sequence` is the cursor, `id` is unique). A poll commits its snapshots, events and
/// the watch's next poll time in one transaction (``commitPoll(_:route:)``): a crash loses the whole poll
/// or none of it, and a redone poll yields the same event ids, which are stored once.
///
/// The rest of certwatch sees ``CertWatchStorage``, never the database, so the store can move to
/// PostgreSQL (leases with `FOR UPDATE SKIP LOCKED`) without touching the engine.
package final class Store: CertWatchStorage {
    /// The database (internal only for the `Store` extensions in `Storage/SQLite/`).
    let writer: any DatabaseWriter
    /// The database file.
    package let path: String
    /// See ``ReplicaRegistry/instanceID``.
    package let instanceID: String

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    /// Throws GRDB's `DatabaseError` when the file cannot be opened or migrated.
    package init(path: String, instanceID: String = InstanceID.make()) throws {
        self.instanceID = instanceID
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        self.path = path
        writer = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(writer)
    }

    /// The named migrations, in order. Never edit a shipped migration; add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-watches-certificates-events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE watches (
                        id TEXT PRIMARY KEY,
                        order_id TEXT,
                        encrypted_code TEXT,
                        api TEXT NOT NULL,
                        account_id TEXT,
                        labels TEXT NOT NULL DEFAULT '{}',
                        state TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        next_poll_at INTEGER,
                        leased_until INTEGER,
                        last_polled_at INTEGER,
                        poll_count INTEGER NOT NULL DEFAULT 0,
                        consecutive_failures INTEGER NOT NULL DEFAULT 0,
                        last_error TEXT
                    );
                    CREATE UNIQUE INDEX watches_order ON watches(api, order_id) WHERE order_id IS NOT NULL;
                    CREATE UNIQUE INDEX watches_code ON watches(api, encrypted_code) WHERE encrypted_code IS NOT NULL;
                    CREATE INDEX watches_due ON watches(next_poll_at) WHERE state = 'active';
                    CREATE INDEX watches_state ON watches(state, id);

                    CREATE TABLE certificates (
                        watch_id TEXT NOT NULL REFERENCES watches(id),
                        certificate_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        status INTEGER,
                        expire_time INTEGER,
                        snapshot TEXT NOT NULL,
                        raw TEXT NOT NULL,
                        observed_at INTEGER NOT NULL,
                        PRIMARY KEY (watch_id, certificate_id)
                    );

                    CREATE TABLE events (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        type TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        watch_id TEXT NOT NULL,
                        order_id TEXT,
                        time INTEGER NOT NULL,
                        body TEXT NOT NULL
                    );
                    CREATE INDEX events_type ON events(type, sequence);
                    CREATE INDEX events_order ON events(order_id, sequence);
                    CREATE INDEX events_subject ON events(subject, sequence);
                    """)
        }
        // Delivery outbox, attempt log, sink states (Store+Deliveries.swift).
        registerDeliveryMigrations(&migrator)
        // The rules' grouping state (Store+Routing.swift).
        registerRuleGroupMigrations(&migrator)
        // Push hints: hinted_at, certificate lookups, events.detected_by (Store+Hints.swift).
        registerHintMigrations(&migrator)
        migrator.registerMigration("v5-watch-stalls") { db in
            // failing_since: first failure of the current run of failed polls; stalled_since: set
            // (to failing_since) when watch.stalled was emitted, cleared by watch.recovered.
            try db.execute(
                sql: """
                    ALTER TABLE watches ADD COLUMN failing_since INTEGER;
                    ALTER TABLE watches ADD COLUMN stalled_since INTEGER;
                    """)
        }
        migrator.registerMigration("v6-targeted-polls") { db in
            // next_poll_targeted: 1 when next_poll_at is a cancel-window or deadline poll
            // (PollPolicy.Plan.targeted), claimed ahead of routine polls from its own partial index.
            try db.execute(
                sql: """
                    ALTER TABLE watches ADD COLUMN next_poll_targeted INTEGER NOT NULL DEFAULT 0;
                    CREATE INDEX watches_targeted ON watches(next_poll_at) WHERE state = 'active' AND next_poll_targeted = 1;
                    """)
        }
        migrator.registerMigration("v7-leased-index") { db in
            // The few leased watches, for releaseAllLeases at start: without it, a scan of every
            // watch (250 ms at 1 M watches, measured) before serve answers /healthz.
            try db.execute(sql: "CREATE INDEX watches_leased ON watches(leased_until) WHERE leased_until IS NOT NULL")
        }
        migrator.registerMigration("v8-replicas") { db in
            // instances: one row per live certwatch process (heartbeat_at, Unix seconds); the owner
            // of a lease (leased_by) is one of them. deliveries.leased_until/leased_by: a claimed
            // delivery's lease (PostgreSQL; SQLite has one instance and keeps the claim in memory).
            // push_messages: the Msg-Ids handled, so a repeat is skipped by any instance.
            try db.execute(
                sql: """
                    CREATE TABLE instances (
                        id TEXT PRIMARY KEY,
                        started_at REAL NOT NULL,
                        heartbeat_at REAL NOT NULL,
                        slowed_at REAL
                    );
                    ALTER TABLE watches ADD COLUMN leased_by TEXT;
                    CREATE INDEX watches_leased_by ON watches(leased_by) WHERE leased_by IS NOT NULL;
                    ALTER TABLE deliveries ADD COLUMN leased_until REAL;
                    ALTER TABLE deliveries ADD COLUMN leased_by TEXT;
                    CREATE INDEX deliveries_leased_by ON deliveries(leased_by) WHERE leased_by IS NOT NULL;
                    CREATE TABLE push_messages (msg_id TEXT PRIMARY KEY, handled_at REAL NOT NULL);
                    CREATE INDEX push_messages_handled_at ON push_messages(handled_at);
                    """)
        }
        migrator.registerMigration("v9-accounts") { db in
            // accounts: the merchant accounts (Account), their detectors' state as JSON. A watch's
            // account_id is its account: the index pauses and resumes them together.
            try db.execute(
                sql: """
                    CREATE TABLE accounts (
                        account_id TEXT PRIMARY KEY,
                        name TEXT,
                        poi_ids TEXT NOT NULL,
                        app TEXT,
                        feed_enabled INTEGER NOT NULL,
                        feed_interval INTEGER NOT NULL,
                        sweep_enabled INTEGER NOT NULL,
                        sweep_interval INTEGER NOT NULL,
                        source TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        authorization_status TEXT NOT NULL,
                        unauthorized_since INTEGER,
                        authorization_reason TEXT,
                        feed_state TEXT,
                        sweep_state TEXT
                    );
                    CREATE INDEX watches_account ON watches(account_id, state) WHERE account_id IS NOT NULL;
                    ALTER TABLE watches ADD COLUMN hinted_by TEXT;
                    """)
        }
        return migrator
    }

    // MARK: Watches

    /// Registers a watch, idempotently: the same `(api, order_id)` or `(api, encrypted_code)` returns
    /// the existing watch with the new labels merged in (a removed or failed watch becomes active again).
    /// Returns the watch and whether it was created. Throws ``ValidationError`` for bad input.
    package func register(_ registration: WatchRegistration, now: Int64, firstPollAt: Int64) async throws -> (
        watch: Watch, created: Bool
    ) {
        let registration = try registration.validated()
        return try await writer.write { db in try Self.register(registration, db: db, now: now, firstPollAt: firstPollAt) }
    }

    /// Registers many watches in one transaction; each item gets its own result (invalid items fail
    /// alone). Returns, per input, the watch and whether it was created, or the validation error.
    package func registerMany(_ registrations: [WatchRegistration], now: Int64, firstPollAt: Int64) async throws
        -> [Result<(watch: Watch, created: Bool), ValidationError>]
    {
        try await writer.write { db in
            registrations.map { registration in
                do {
                    let valid = try registration.validated()
                    return .success(try Self.register(valid, db: db, now: now, firstPollAt: firstPollAt))
                } catch let error as ValidationError {
                    return .failure(error)
                } catch {
                    return .failure(ValidationError(message: "\(error)"))
                }
            }
        }
    }

    private static func register(_ registration: WatchRegistration, db: Database, now: Int64, firstPollAt: Int64)
        throws -> (watch: Watch, created: Bool)
    {
        let api = registration.api ?? .compreRetail
        let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM watches WHERE api = ? AND (order_id = ? OR encrypted_code = ?)"),
            arguments: [api.rawValue, registration.orderID, registration.encryptedCode])
        if let existing {
            var watch = try Self.watch(from: existing)
            watch.labels.merge(registration.labels ?? [:]) { $1 }
            if let accountID = registration.accountID { watch.accountID = accountID }
            var nextPoll = watch.nextPollAt
            if watch.state == .removed || watch.state == .failed {
                // Asked for again: polled again, from a clean failure count.
                watch.state = .active
                watch.consecutiveFailures = 0
                nextPoll = firstPollAt
            }
            watch.nextPollAt = nextPoll
            try db.execute(
                sql: """
                    UPDATE watches SET labels = ?, account_id = ?, state = ?, next_poll_at = ?, consecutive_failures = ?,
                        updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    StoredEvent.labelsJSON(watch.labels), watch.accountID, watch.state.stored, nextPoll, watch.consecutiveFailures, now,
                    watch.id,
                ])
            return (watch, false)
        }
        let watch = Watch(
            id: "w_" + randomHex(8), orderID: registration.orderID, encryptedCode: registration.encryptedCode, api: api,
            accountID: registration.accountID, labels: registration.labels ?? [:], state: .active, createdAt: now,
            nextPollAt: firstPollAt, lastPolledAt: nil, pollCount: 0, consecutiveFailures: 0, lastError: nil)
        try db.cachedStatement(
            sql: """
                INSERT INTO watches (id, order_id, encrypted_code, api, account_id, labels, state, created_at, updated_at,
                                     next_poll_at)
                VALUES (?, ?, ?, ?, ?, ?, \(Watch.State.active.sql), ?, ?, ?)
                """
        ).execute(
            arguments: [
                watch.id, watch.orderID, watch.encryptedCode, api.rawValue, watch.accountID, StoredEvent.labelsJSON(watch.labels), now,
                now, firstPollAt,
            ])
        return (watch, true)
    }

    /// The watch with `id`, or `nil`.
    package func watch(id: String) async throws -> Watch? {
        try await writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM watches WHERE id = ?", arguments: [id]).map(Self.watch(from:)) }
    }

    /// The watches a person's reference names: the watch with that id (`w_…`), or else every watch
    /// a push naming it would hint — by `order_id` (one per endpoint family), `encrypted_code`, or a
    /// certificate id or encrypted code seen in its certificates — by id. Empty when none.
    package func watches(matching reference: String) async throws -> [Watch] {
        try await writer.read { db in
            var ids = try Self.watchIDs(
                naming: HintTargets(orderIDs: [reference], certificateIDs: [reference], encryptedCodes: [reference]), db: db)
            ids.insert(reference)
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM watches WHERE id IN (\(marks)) ORDER BY id", arguments: StatementArguments(Array(ids))
            ).map(Self.watch(from:))
        }
    }

    /// Watches ordered by id, filtered by state and labels, after the cursor `after` (an id), at most `limit`.
    package func watches(
        state: Watch.State? = nil, labels: [String: String] = [:], accountID: String? = nil, after: String? = nil, limit: Int = 100
    ) async throws -> [Watch] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        switch state {
        case .stalled?: clauses.append("state = \(Watch.State.active.sql) AND stalled_since IS NOT NULL")
        case .active?: clauses.append("state = \(Watch.State.active.sql) AND stalled_since IS NULL")
        case let state?:
            clauses.append("state = ?")
            arguments += [state.stored]
        case nil: break
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            // By key, not by a JSON path built from it: any key (quotes, NUL, dots) is just a value.
            clauses.append("EXISTS (SELECT 1 FROM json_each(watches.labels) AS label WHERE label.key = ? AND label.value = ?)")
            arguments += [key, value]
        }
        if let accountID {
            clauses.append("account_id = ?")
            arguments += [accountID]
        }
        if let after {
            clauses.append("id > ?")
            arguments += [after]
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments += [limit]
        let finalArguments = arguments
        return try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM watches \(filter) ORDER BY id LIMIT ?", arguments: finalArguments)
                .map(Self.watch(from:))
        }
    }

    /// Counts watches by state.
    package func watchCounts() async throws -> [Watch.State: Int] {
        try await writer.read { db in
            var counts: [Watch.State: Int] = [:]
            let sql = """
                SELECT CASE WHEN state = \(Watch.State.active.sql) AND stalled_since IS NOT NULL
                            THEN \(Watch.State.stalled.sql) ELSE state END AS shown,
                       COUNT(*) AS n
                FROM watches GROUP BY shown
                """
            for row in try Row.fetchAll(db, sql: sql) {
                let shown: String = row["shown"]
                guard let state = Watch.State(rawValue: shown) else {
                    throw StorageError.unknownValue(table: "watches", column: "state", value: shown)
                }
                counts[state] = row["n"]
            }
            return counts
        }
    }

    /// The number of active watches (counted on the due index).
    package func activeWatchCount() async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM watches INDEXED BY watches_due WHERE state = \(Watch.State.active.sql)") ?? 0
        }
    }

    /// Marks a watch removed (it is no longer polled; its certificates and events are kept).
    /// Returns `false` when there is no such watch.
    package func remove(id: String, now: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE watches SET state = \(Watch.State.removed.sql), next_poll_at = NULL, updated_at = ? WHERE id = ?
                    """,
                arguments: [now, id])
            return db.changesCount > 0
        }
    }

    /// Makes an active watch due at `at` (poll as soon as the budget allows). Returns `false` when
    /// there is no such active watch.
    package func pollSoon(id: String, at: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE watches SET next_poll_at = MIN(COALESCE(next_poll_at, ?), ?)
                    WHERE id = ? AND state = \(Watch.State.active.sql)
                    """,
                arguments: [at, at, id])
            return db.changesCount > 0
        }
    }

    // MARK: Scheduling

    /// Takes up to `limit` due watches (active, `next_poll_at <= now`, not leased) and leases them
    /// until `now + lease` so a poll in flight is never taken twice. Watches a push hinted come
    /// first (earliest hint first, see ``claimHinted(now:limit:lease:)``); then targeted polls
    /// (cancel window, deadlines: ``Watch/targeted``) and routine ones, earliest `next_poll_at`
    /// first, a targeted poll counted `targetedLead` seconds earlier than it is due
    /// (``PollPolicy/targetedLead``).
    package func claimDue(now: Int64, limit: Int, lease: Int64 = 120, targetedLead: Int64 = PollPolicy().targetedLead)
        async throws -> [Watch]
    {
        try await writer.write { db in
            let hinted = try Self.claimHinted(db: db, now: now, limit: limit, lease: lease, owner: self.instanceID)
            guard hinted.count < limit else { return hinted }
            let remaining = limit - hinted.count
            // Not hinted polls, even of a watch hinted for the next second.
            func due(_ sql: String) throws -> [Watch] {
                try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [now, now, remaining]).map { row in
                    var watch = try Self.watch(from: row)
                    watch.hintedAt = nil
                    return watch
                }
            }
            let targeted = try due(Self.claimTargetedSQL)
            let routine = try due(Self.claimDueSQL)
            let merged = ClaimOrder.merge(
                targeted: targeted, routine: routine, limit: remaining, targetedLead: targetedLead, now: now)
            let update = try db.cachedStatement(sql: "UPDATE watches SET leased_until = ?, leased_by = ? WHERE id = ?")
            for watch in merged { try update.execute(arguments: [now + lease, self.instanceID, watch.id]) }
            return hinted + merged
        }
    }

    /// Ends the leases of claimed watches that were not polled (due again at once).
    package func releaseLeases(watchIDs: [String]) async throws {
        guard !watchIDs.isEmpty else { return }
        let marks = Array(repeating: "?", count: watchIDs.count).joined(separator: ",")
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE id IN (\(marks))",
                arguments: StatementArguments(watchIDs))
        }
    }

    /// Ends every watch and delivery lease and forgets every other instance, returning how many
    /// watch leases there were: what an instance that holds the database alone (``InstanceLock``) does at start, since
    /// the leases and instance rows are left by a process that is gone (a crash or `kill -9`
    /// mid-poll); those watches are due again at once instead of after their lease.
    package func releaseAllLeases() async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: Self.releaseAllLeasesSQL)
            let released = db.changesCount
            try db.execute(sql: "UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE leased_by IS NOT NULL")
            try db.execute(sql: "DELETE FROM instances WHERE id <> ?", arguments: [self.instanceID])
            return released
        }
    }

    /// See ``ReplicaRegistry/releaseOrphanedLeases()``: a SQLite file has one `serve` (``InstanceLock``),
    /// so every lease left is a dead process's: ``releaseAllLeases()``.
    package func releaseOrphanedLeases() async throws -> Int { try await releaseAllLeases() }

    /// ``releaseAllLeases()``'s statement: it finds the leased watches on `watches_leased`.
    static let releaseAllLeasesSQL = "UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE leased_until IS NOT NULL"

    /// The earliest `next_poll_at` of an active, unleased watch, or `nil` when none.
    package func nextDue(now: Int64) async throws -> Int64? {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: Self.nextDueSQL, arguments: [now, now])
        }
    }

    /// The due targeted polls, earliest first (arguments: now, now, limit), on their partial index.
    static let claimTargetedSQL = """
        SELECT * FROM watches INDEXED BY watches_targeted
        WHERE state = \(Watch.State.active.sql) AND next_poll_targeted = 1 AND next_poll_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
        ORDER BY next_poll_at LIMIT ?
        """

    /// The due routine watches, earliest first (arguments: now, now, limit). Names the partial index
    /// so SQLite walks `next_poll_at` instead of sorting every active watch.
    static let claimDueSQL = """
        SELECT * FROM watches INDEXED BY watches_due
        WHERE state = \(Watch.State.active.sql) AND next_poll_targeted = 0 AND next_poll_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
        ORDER BY next_poll_at LIMIT ?
        """

    /// The earliest `next_poll_at` or `hinted_at` of an unleased active watch (arguments: now, now).
    static let nextDueSQL = """
        SELECT MIN(at) FROM (
            SELECT MIN(next_poll_at) AS at FROM watches INDEXED BY watches_due
            WHERE state = \(Watch.State.active.sql) AND (leased_until IS NULL OR leased_until <= ?)
            UNION ALL
            SELECT MIN(hinted_at) FROM watches INDEXED BY watches_hinted
            WHERE state = \(Watch.State.active.sql) AND hinted_at IS NOT NULL AND (leased_until IS NULL OR leased_until <= ?)
        )
        """

    // MARK: Polls

    /// The last stored snapshots of several watches in one read: watch id → certificate id → snapshot
    /// (watches without certificates are absent).
    package func snapshots(watchIDs: [String]) async throws -> [String: [String: CertificateSnapshot]] {
        guard !watchIDs.isEmpty else { return [:] }
        return try await writer.read { db in
            var result: [String: [String: CertificateSnapshot]] = [:]
            let marks = Array(repeating: "?", count: watchIDs.count).joined(separator: ",")
            let rows = try Row.fetchCursor(
                db, sql: "SELECT watch_id, snapshot FROM certificates WHERE watch_id IN (\(marks))",
                arguments: StatementArguments(watchIDs))
            while let row = try rows.next() {
                let text: String = row[1]
                let snapshot = try DouyinJSON.decode(CertificateSnapshot.self, from: Data(text.utf8))
                result[row[0], default: [:]][snapshot.certificateID] = snapshot
            }
            return result
        }
    }

    /// Commits one successful poll in one transaction: upserts the snapshots, appends the events
    /// (an event whose id is already stored is skipped), and updates the watch's schedule and state.
    /// Returns the events actually appended, with their `sequence`. When events were appended,
    /// `route` runs inside the same transaction with them and its ``Routing`` is written there (the
    /// delivery outbox); when it throws, nothing of the poll is stored.
    @discardableResult
    package func commitPoll(_ poll: PollCommit, route: EventRouter? = nil) async throws -> [CertWatchEvent] {
        // JSON is written before taking the (single, serialized) writer.
        let texts = try poll.certificates.map { certificate in
            (
                snapshot: String(decoding: try DouyinJSON.normalizedEncoded(certificate.snapshot), as: UTF8.self),
                raw: String(decoding: certificate.raw.encoded(), as: UTF8.self)
            )
        }
        let events = StoredEvent.encoded(poll.events)
        return try await writer.write { db in
            for (certificate, text) in zip(poll.certificates, texts) {
                let snapshot = certificate.snapshot
                try db.cachedStatement(
                    sql: """
                        INSERT INTO certificates (watch_id, certificate_id, state, status, expire_time, snapshot, raw, observed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (watch_id, certificate_id) DO UPDATE SET
                            state = excluded.state, status = excluded.status, expire_time = excluded.expire_time,
                            snapshot = excluded.snapshot, raw = excluded.raw, observed_at = excluded.observed_at
                        WHERE excluded.observed_at > certificates.observed_at
                        """
                ).execute(
                    arguments: [
                        poll.watchID, snapshot.certificateID, snapshot.state.rawValue, snapshot.status, snapshot.expireTime,
                        text.snapshot, text.raw, snapshot.observedAt,
                    ])
            }
            let appended = try Self.append(events, db: db, detectedBy: poll.detectedBy)
            let state: Watch.State = poll.nextPollAt == nil ? poll.finalState : .active
            try db.cachedStatement(
                sql: """
                    UPDATE watches SET state = ?, next_poll_at = ?, next_poll_targeted = ?, leased_until = NULL, leased_by = NULL,
                        last_polled_at = ?,
                        poll_count = poll_count + 1, consecutive_failures = ?, last_error = ?, updated_at = ?,
                        failing_since = ?, stalled_since = ?
                    WHERE id = ? AND state = \(Watch.State.active.sql)
                    """
            ).execute(
                arguments: [
                    state.stored, poll.nextPollAt, poll.nextPollTargeted, poll.polledAt, poll.consecutiveFailures, poll.lastError, poll.polledAt,
                    poll.failingSince, poll.stalledSince, poll.watchID,
                ])
            if let route, !appended.isEmpty { try Self.write(route(appended), db: db) }
            return appended
        }
    }

    /// See ``EventLog/append(_:route:)``: one write transaction.
    @discardableResult
    package func append(_ events: [CertWatchEvent], route: EventRouter?) async throws -> [CertWatchEvent] {
        let encoded = StoredEvent.encoded(events)
        return try await writer.write { db in
            let appended = try Self.append(encoded, db: db)
            if let route, !appended.isEmpty { try Self.write(route(appended), db: db) }
            return appended
        }
    }

    /// See ``DeliveryQueue/enqueue(_:)``: one write transaction (none when `routing` is empty).
    @discardableResult
    package func enqueue(_ routing: Routing) async throws -> Int {
        guard !routing.isEmpty else { return 0 }
        return try await writer.write { db in try Self.write(routing, db: db) }
    }

    /// Nothing to release: the pool closes when the store is deallocated.
    package func close() async throws {}

    /// Appends encoded events inside the caller's transaction, skipping ids already stored; returns
    /// the appended ones with their sequence.
    static func append(_ events: [(event: CertWatchEvent, body: String)], db: Database, detectedBy: Detection? = nil) throws
        -> [CertWatchEvent]
    {
        var appended: [CertWatchEvent] = []
        for (var event, body) in events {
            try db.cachedStatement(
                sql: """
                    INSERT INTO events (id, type, subject, watch_id, order_id, time, body, detected_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO NOTHING
                    """
            ).execute(
                arguments: [
                    event.id, event.type.rawValue, event.subject, event.data.watch.id, event.data.watch.orderID, event.time,
                    body, (detectedBy ?? event.data.detectedBy)?.rawValue,
                ])
            if db.changesCount > 0 {
                event.sequence = db.lastInsertedRowID
                appended.append(event)
            }
        }
        return appended
    }

    // MARK: Events

    /// How many events are stored, by event type.
    package func eventCountsByType() async throws -> [String: Int] {
        try await writer.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT type, COUNT(*) AS n FROM events GROUP BY type") {
                counts[row["type"]] = row["n"]
            }
            return counts
        }
    }

    /// Events after `sequence` (exclusive), oldest first, optionally of one type or one order, at most `limit`.
    package func events(after sequence: Int64 = 0, type: EventType? = nil, orderID: String? = nil, limit: Int = 100)
        async throws -> [CertWatchEvent]
    {
        var sql = "SELECT sequence, body FROM events WHERE sequence > ?"
        var arguments: StatementArguments = [sequence]
        if let type {
            sql += " AND type = ?"
            arguments += [type.rawValue]
        }
        if let orderID {
            sql += " AND order_id = ?"
            arguments += [orderID]
        }
        sql += " ORDER BY sequence LIMIT ?"
        arguments += [limit]
        let finalSQL = sql
        let finalArguments = arguments
        return try await writer.read { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: finalArguments).map(Self.event(from:))
        }
    }

    /// The highest event sequence, 0 when there are none.
    package func lastSequence() async throws -> Int64 {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM events") ?? 0 }
    }

    static func event(from row: Row) throws -> CertWatchEvent { try StoredEvent.event(row: row) }

    // MARK: Rows

    static func watch(from row: Row) throws -> Watch { try Watch(row: row) }
}

/// `count` random bytes as lowercase hex.
func randomHex(_ count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(count * 2)
    for _ in 0..<count {
        let byte = UInt8.random(in: 0...255, using: &generator)
        text += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]]
    }
    return String(decoding: text, as: UTF8.self)
}
