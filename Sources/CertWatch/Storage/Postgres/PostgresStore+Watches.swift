import CertWatchCore
import DouyinOpenAPI
import Foundation
import PostgresNIO

/// Watches, scheduling (claims with `FOR UPDATE SKIP LOCKED`), push hints, polls and events.
extension PostgresStore {
    // MARK: Watches

    /// See ``WatchRegistry/register(_:now:firstPollAt:)``: one transaction of two or three
    /// statements (``registerMany(_:now:firstPollAt:)`` with one item).
    package func register(_ registration: WatchRegistration, now: Int64, firstPollAt: Int64) async throws -> (watch: Watch, created: Bool) {
        let registration = try registration.validated()
        return try await transaction { connection in
            try await self.register([registration], on: connection, now: now, firstPollAt: firstPollAt)[0]
        }
    }

    /// See ``WatchRegistry/registerMany(_:now:firstPollAt:)``: one transaction of a few
    /// statements whatever the number of registrations (array binds, `unnest`): one that locks
    /// the existing watches of every target, one multi-row insert of the new ones, one multi-row
    /// update of the existing ones. Each valid item gets the result it would get registered alone,
    /// in input order (a target named twice: created by the first, merged by the second).
    package func registerMany(_ registrations: [WatchRegistration], now: Int64, firstPollAt: Int64) async throws
        -> [Result<(watch: Watch, created: Bool), ValidationError>]
    {
        var results = [Result<(watch: Watch, created: Bool), ValidationError>?](repeating: nil, count: registrations.count)
        var valid: [(index: Int, registration: WatchRegistration)] = []
        for (index, registration) in registrations.enumerated() {
            do {
                valid.append((index, try registration.validated()))
            } catch {
                results[index] = .failure(error)
            }
        }
        if !valid.isEmpty {
            let items = valid.map(\.registration)
            let registered = try await transaction { connection in
                try await self.register(items, on: connection, now: now, firstPollAt: firstPollAt)
            }
            for (item, result) in zip(valid, registered) { results[item.index] = .success(result) }
        }
        return results.map { $0! }
    }

    /// A registration's target: `(api, order_id)` or `(api, encrypted_code)` (exactly one is set).
    private struct Target: Hashable {
        var api: String
        var orderID: String?
        var encryptedCode: String?

        init(_ registration: WatchRegistration) {
            api = (registration.api ?? .compreRetail).rawValue
            orderID = registration.orderID
            encryptedCode = registration.encryptedCode
        }
    }

    /// What registering every item of one target does to its watch.
    private struct Folded {
        /// Per item of the target, in input order: the watch as registering it alone would return it.
        var results: [(watch: Watch, created: Bool)]
        /// The watch after the last item: the row to insert (`created`) or to update.
        var final: Watch
        var created: Bool
    }

    /// Registers validated registrations in the caller's transaction, in statements whose number
    /// does not grow with the input; returns one result per registration, in order. A target
    /// another replica inserts between the lock and the insert (the unique index refuses ours) is
    /// read again and merged into, as if it had existed.
    private func register(_ registrations: [WatchRegistration], on connection: PostgresConnection, now: Int64, firstPollAt: Int64)
        async throws -> [(watch: Watch, created: Bool)]
    {
        // One registration at a time per database: two replicas inserting overlapping targets
        // otherwise wait on each other's unique-index entries and deadlock (seen in the racing
        // test under load, despite inserting in one order).
        try await Self.lock("certwatch.registrations", schema: schema, on: connection, logger: logger)
        var items: [Target: [Int]] = [:]
        var targets: [Target] = []
        for (index, registration) in registrations.enumerated() {
            let target = Target(registration)
            if items[target] == nil { targets.append(target) }
            items[target, default: []].append(index)
        }
        var folded: [Target: Folded] = [:]
        var pending = targets
        for _ in 0..<5 where !pending.isEmpty {
            let existing = try await lockWatches(of: pending, on: connection)
            for target in pending {
                folded[target] = Self.fold(
                    items[target]!.map { registrations[$0] }, into: existing[target], now: now, firstPollAt: firstPollAt)
            }
            // Inserted in one order by every replica (by target), so two registrations inserting
            // overlapping targets wait for each other at most one way round, never in a cycle.
            let inserts = pending.sorted { ($0.api, $0.orderID ?? "", $0.encryptedCode ?? "") < ($1.api, $1.orderID ?? "", $1.encryptedCode ?? "") }
                .compactMap { folded[$0]!.created ? folded[$0]!.final : nil }
            let inserted = try await insertWatches(inserts, on: connection, now: now)
            // Refused by the unique index (another replica's insert won): read again and merge.
            pending = pending.filter { folded[$0]!.created && !inserted.contains(folded[$0]!.final.id) }
        }
        guard pending.isEmpty else {
            throw PostgresStoreError.conflict("registering \(pending.count) watches on \(location): their inserts kept conflicting")
        }
        try await updateWatches(targets.compactMap { folded[$0]!.created ? nil : folded[$0]!.final }, on: connection, now: now)
        var results = [(watch: Watch, created: Bool)?](repeating: nil, count: registrations.count)
        for target in targets {
            for (index, result) in zip(items[target]!, folded[target]!.results) { results[index] = result }
        }
        return results.map { $0! }
    }

    /// Registers one target's items in order against its stored watch (`nil`: none yet), as
    /// ``Store`` does one by one: the first item of a new target creates the watch; each later
    /// item (or every item of a stored watch) merges its labels and account id, and makes a
    /// removed or failed watch active again, due at `firstPollAt` with no failures.
    private static func fold(_ registrations: [WatchRegistration], into stored: Watch?, now: Int64, firstPollAt: Int64) -> Folded {
        var watch = stored
        var results: [(watch: Watch, created: Bool)] = []
        for registration in registrations {
            guard var current = watch else {
                let created = Watch(
                    id: "w_" + randomHex(8), orderID: registration.orderID, encryptedCode: registration.encryptedCode,
                    api: registration.api ?? .compreRetail, accountID: registration.accountID, labels: registration.labels ?? [:],
                    state: .active, createdAt: now, nextPollAt: firstPollAt, lastPolledAt: nil, pollCount: 0, consecutiveFailures: 0,
                    lastError: nil)
                results.append((created, true))
                watch = created
                continue
            }
            current.labels.merge(registration.labels ?? [:]) { $1 }
            if let accountID = registration.accountID { current.accountID = accountID }
            if current.state == .removed || current.state == .failed {
                // Asked for again: polled again, from a clean failure count.
                current.state = .active
                current.consecutiveFailures = 0
                current.nextPollAt = firstPollAt
            }
            results.append((current, false))
            watch = current
        }
        return Folded(results: results, final: watch!, created: stored == nil)
    }

    /// The stored watches of `targets`, locked (`FOR UPDATE`, in id order) until the transaction
    /// ends: one statement for any number of targets.
    private func lockWatches(of targets: [Target], on connection: PostgresConnection) async throws -> [Target: Watch] {
        let byOrder = targets.filter { $0.orderID != nil }
        let byCode = targets.filter { $0.encryptedCode != nil }
        let rows = try await connection.rows(
            """
            WITH by_order AS (
                SELECT w.* FROM watches w
                JOIN unnest(\(byOrder.map(\.api))::text[], \(byOrder.map { $0.orderID! })::text[]) AS t(api, order_id)
                  ON w.api = t.api AND w.order_id = t.order_id
                WHERE w.order_id IS NOT NULL
                ORDER BY w.id FOR UPDATE OF w
            ), by_code AS (
                SELECT w.* FROM watches w
                JOIN unnest(\(byCode.map(\.api))::text[], \(byCode.map { $0.encryptedCode! })::text[]) AS t(api, encrypted_code)
                  ON w.api = t.api AND w.encrypted_code = t.encrypted_code
                WHERE w.encrypted_code IS NOT NULL
                ORDER BY w.id FOR UPDATE OF w
            )
            SELECT * FROM by_order UNION ALL SELECT * FROM by_code
            """, logger: logger)
        var watches: [Target: Watch] = [:]
        for row in rows {
            let watch = try Self.watch(from: row)
            let byOrderID = Target(WatchRegistration(orderID: watch.orderID, api: watch.api))
            let byEncryptedCode = Target(WatchRegistration(encryptedCode: watch.encryptedCode, api: watch.api))
            // A watch stored with both an order id and a code answers either target.
            if watch.orderID != nil { watches[byOrderID] = watch }
            if watch.encryptedCode != nil { watches[byEncryptedCode] = watch }
        }
        return watches
    }

    /// Inserts new watches in one statement; returns the ids inserted (a watch whose target, or id,
    /// is already stored is left out: `ON CONFLICT DO NOTHING`).
    private func insertWatches(_ watches: [Watch], on connection: PostgresConnection, now: Int64) async throws -> Set<String> {
        guard !watches.isEmpty else { return [] }
        let rows = try await connection.rows(
            """
            INSERT INTO watches (id, order_id, encrypted_code, api, account_id, labels, state, created_at, updated_at, next_poll_at)
            SELECT n.id, n.order_id, n.encrypted_code, n.api, n.account_id, n.labels, \(Watch.State.active.rawValue), \(now), \(now),
                   n.next_poll_at
            FROM unnest(\(watches.map(\.id))::text[], \(PostgresNullableArray(watches.map(\.orderID)))::text[],
                        \(PostgresNullableArray(watches.map(\.encryptedCode)))::text[], \(watches.map(\.api.rawValue))::text[],
                        \(PostgresNullableArray(watches.map(\.accountID)))::text[], \(watches.map { StoredEvent.labelsJSON($0.labels) })::text[],
                        \(PostgresNullableArray(watches.map(\.nextPollAt)))::bigint[])
                 AS n(id, order_id, encrypted_code, api, account_id, labels, next_poll_at)
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger)
        return Set(try rows.map { try $0.string("id") })
    }

    /// Writes registrations into stored watches (labels, account id, state, next poll, failure
    /// count; `updated_at` = `now`) in one statement.
    private func updateWatches(_ watches: [Watch], on connection: PostgresConnection, now: Int64) async throws {
        guard !watches.isEmpty else { return }
        try await connection.query(
            """
            UPDATE watches SET labels = u.labels, account_id = u.account_id, state = u.state, next_poll_at = u.next_poll_at,
                consecutive_failures = u.consecutive_failures, updated_at = \(now)
            FROM unnest(\(watches.map(\.id))::text[], \(watches.map { StoredEvent.labelsJSON($0.labels) })::text[],
                        \(PostgresNullableArray(watches.map(\.accountID)))::text[], \(watches.map(\.state.stored))::text[],
                        \(PostgresNullableArray(watches.map(\.nextPollAt)))::bigint[], \(watches.map(\.consecutiveFailures))::bigint[])
                 AS u(id, labels, account_id, state, next_poll_at, consecutive_failures)
            WHERE watches.id = u.id
            """, logger: logger)
    }

    /// See ``WatchRegistry/watch(id:)``.
    package func watch(id: String) async throws -> Watch? {
        try await rows("SELECT * FROM watches WHERE id = \(id)").first.map(Self.watch(from:))
    }

    /// See ``WatchRegistry/watches(matching:)``.
    package func watches(matching reference: String) async throws -> [Watch] {
        try await client.withConnection { connection in
            var ids = try await self.watchIDs(
                naming: HintTargets(orderIDs: [reference], certificateIDs: [reference], encryptedCodes: [reference]), on: connection)
            ids.insert(reference)
            return try await connection.rows("SELECT * FROM watches WHERE id = ANY(\(Array(ids))) ORDER BY id", logger: self.logger)
                .map(Self.watch(from:))
        }
    }

    /// See ``WatchRegistry/watches(state:labels:after:limit:)``.
    package func watches(state: Watch.State?, labels: [String: String], accountID: String?, after: String?, limit: Int) async throws
        -> [Watch]
    {
        var query = SQLBuilder("SELECT * FROM watches")
        var clauses: [String] = []
        switch state {
        case .stalled?: clauses.append("state = \(Watch.State.activeSQL) AND stalled_since IS NOT NULL")
        case .active?: clauses.append("state = \(Watch.State.activeSQL) AND stalled_since IS NULL")
        case let state?: clauses.append("state = \(query.bind(state.stored))")
        case nil: break
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            clauses.append("(labels::jsonb ->> \(query.bind(key))) = \(query.bind(value))")
        }
        if let accountID { clauses.append("account_id = \(query.bind(accountID))") }
        if let after { clauses.append("id > \(query.bind(after))") }
        if !clauses.isEmpty { query.sql += " WHERE " + clauses.joined(separator: " AND ") }
        let limitMark = query.bind(limit)
        query.sql += " ORDER BY id LIMIT " + limitMark
        return try await rows(query.query).map(Self.watch(from:))
    }

    /// See ``WatchRegistry/watchCounts()``.
    package func watchCounts() async throws -> [Watch.State: Int] {
        var counts: [Watch.State: Int] = [:]
        for row in try await rows(
            """
            SELECT CASE WHEN state = \(unescaped: Watch.State.activeSQL) AND stalled_since IS NOT NULL THEN \(unescaped: Watch.State.stalled.sql) ELSE state END AS shown, COUNT(*) AS n
            FROM watches GROUP BY shown
            """)
        {
            counts[try row.decoded(Watch.State.self, "shown", table: "watches", reportedAs: "state")] = Int(try row.int64("n"))
        }
        return counts
    }

    /// See ``WatchRegistry/activeWatchCount()``.
    package func activeWatchCount() async throws -> Int {
        Int(try await rows("SELECT COUNT(*) AS n FROM watches WHERE state = \(unescaped: Watch.State.activeSQL)").first?.int64("n") ?? 0)
    }

    /// See ``WatchRegistry/remove(id:now:)``.
    package func remove(id: String, now: Int64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.count(
                "UPDATE watches SET state = 'removed', next_poll_at = NULL, updated_at = \(now) WHERE id = \(id) RETURNING id",
                logger: self.logger) > 0
        }
    }

    /// See ``WatchRegistry/pollSoon(id:at:)``.
    package func pollSoon(id: String, at: Int64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.count(
                """
                UPDATE watches SET next_poll_at = LEAST(COALESCE(next_poll_at, \(at)), \(at))
                WHERE id = \(id) AND state = \(unescaped: Watch.State.activeSQL) RETURNING id
                """, logger: self.logger) > 0
        }
    }

    // MARK: Scheduling

    /// See ``PollSchedule/claimDue(now:limit:lease:targetedLead:)``: one transaction; the rows are
    /// locked with `FOR UPDATE SKIP LOCKED`, so a claim running at the same time (another worker,
    /// another replica) takes other watches instead of waiting or taking the same ones.
    package func claimDue(now: Int64, limit: Int, lease: Int64, targetedLead: Int64) async throws -> [Watch] {
        try await transaction { connection in
            let hinted = try await self.claimHinted(on: connection, now: now, limit: limit, lease: lease)
            guard hinted.count < limit else { return hinted }
            let remaining = limit - hinted.count
            func due(targeted: Bool) async throws -> [Watch] {
                try await connection.rows(
                    """
                    SELECT * FROM watches
                    WHERE state = \(unescaped: Watch.State.activeSQL) AND next_poll_targeted = \(targeted) AND next_poll_at <= \(now)
                      AND (leased_until IS NULL OR leased_until <= \(now))
                    ORDER BY next_poll_at LIMIT \(remaining) FOR UPDATE SKIP LOCKED
                    """, logger: self.logger
                ).map { row in
                    var watch = try Self.watch(from: row)
                    watch.hintedAt = nil
                    return watch
                }
            }
            let merged = ClaimOrder.merge(
                targeted: try await due(targeted: true), routine: try await due(targeted: false), limit: remaining,
                targetedLead: targetedLead, now: now)
            if !merged.isEmpty {
                try await connection.query(
                    "UPDATE watches SET leased_until = \(now + lease), leased_by = \(self.instanceID) WHERE id = ANY(\(merged.map(\.id)))",
                    logger: self.logger)
            }
            return hinted + merged
        }
    }

    /// See ``PollSchedule/claimHinted(now:limit:lease:)``: one transaction, `FOR UPDATE SKIP LOCKED`.
    package func claimHinted(now: Int64, limit: Int, lease: Int64) async throws -> [Watch] {
        guard limit > 0 else { return [] }
        return try await transaction { connection in try await self.claimHinted(on: connection, now: now, limit: limit, lease: lease) }
    }

    private func claimHinted(on connection: PostgresConnection, now: Int64, limit: Int, lease: Int64) async throws -> [Watch] {
        guard limit > 0 else { return [] }
        let watches = try await connection.rows(
            """
            SELECT * FROM watches
            WHERE state = \(unescaped: Watch.State.activeSQL) AND hinted_at IS NOT NULL AND hinted_at <= \(now) AND (leased_until IS NULL OR leased_until <= \(now))
            ORDER BY hinted_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """, logger: logger
        ).map(Self.watch(from:))
        if !watches.isEmpty {
            try await connection.query(
                "UPDATE watches SET leased_until = \(now + lease), leased_by = \(instanceID), hinted_at = NULL WHERE id = ANY(\(watches.map(\.id)))",
                logger: logger)
        }
        return watches
    }

    /// See ``PollSchedule/releaseLeases(watchIDs:)``.
    package func releaseLeases(watchIDs: [String]) async throws {
        guard !watchIDs.isEmpty else { return }
        _ = try await rows("UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE id = ANY(\(watchIDs)) RETURNING id")
    }

    /// See ``PollSchedule/nextDue(now:)``.
    package func nextDue(now: Int64) async throws -> Int64? {
        try await rows(
            """
            SELECT MIN(at) AS at FROM (
                SELECT MIN(next_poll_at) AS at FROM watches
                WHERE state = \(unescaped: Watch.State.activeSQL) AND (leased_until IS NULL OR leased_until <= \(now))
                UNION ALL
                SELECT MIN(hinted_at) FROM watches
                WHERE state = \(unescaped: Watch.State.activeSQL) AND hinted_at IS NOT NULL AND (leased_until IS NULL OR leased_until <= \(now))
            ) due
            """
        ).first?.optionalInt64("at")
    }

    /// See ``PollSchedule/nextHint(now:)``.
    package func nextHint(now: Int64) async throws -> Int64? {
        try await rows(
            """
            SELECT MIN(hinted_at) AS at FROM watches
            WHERE state = \(unescaped: Watch.State.activeSQL) AND hinted_at IS NOT NULL AND (leased_until IS NULL OR leased_until <= \(now))
            """
        ).first?.optionalInt64("at")
    }

    // MARK: Hints

    /// See ``PollSchedule/hint(_:now:)``: one transaction, the same rules as ``Store/hint(_:now:)``.
    package func hint(_ targets: HintTargets, now: Int64) async throws -> [String] {
        guard !targets.isEmpty else { return [] }
        let hinted = try await transaction { connection -> [String] in
            let ids = try await self.watchIDs(naming: targets, on: connection)
            guard !ids.isEmpty else { return [] }
            // Due now, or in the next second when the watch was polled this second or has a poll in flight.
            let due = "(CASE WHEN leased_until > $1 OR last_polled_at >= $1 THEN $1 + 1 ELSE $1 END)"
            var binds = PostgresBindings()
            binds.append(now)
            binds.append(ids.sorted())
            binds.append(targets.source.rawValue)
            return try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE watches SET
                            state = \(Watch.State.activeSQL),
                            hinted_by = CASE WHEN hinted_at IS NULL THEN $3 ELSE COALESCE(hinted_by, $3) END,
                            hinted_at = LEAST(COALESCE(hinted_at, \(due)), \(due)),
                            next_poll_at = LEAST(COALESCE(next_poll_at, \(due)), \(due)),
                            updated_at = $1
                        WHERE id = ANY($2) AND state IN \(Watch.State.hintableSQL)
                        RETURNING id
                        """, binds: binds), logger: self.logger
            ).map { try $0.string("id") }.sorted()
        }
        return hinted
    }

    /// The ids of the watches `targets` name: by order id, by the watch's encrypted code, and by a
    /// certificate id or encrypted code seen in a watch's stored snapshots.
    private func watchIDs(naming targets: HintTargets, on connection: PostgresConnection) async throws -> Set<String> {
        var ids = Set<String>()
        func collect(_ query: PostgresQuery, when values: [String]) async throws {
            guard !values.isEmpty else { return }
            ids.formUnion(try await connection.rows(query, logger: logger).map { try $0.string("id") })
        }
        try await collect("SELECT id FROM watches WHERE order_id = ANY(\(targets.orderIDs))", when: targets.orderIDs)
        try await collect("SELECT id FROM watches WHERE encrypted_code = ANY(\(targets.encryptedCodes))", when: targets.encryptedCodes)
        try await collect(
            "SELECT watch_id AS id FROM certificates WHERE certificate_id = ANY(\(targets.certificateIDs))", when: targets.certificateIDs)
        try await collect(
            "SELECT watch_id AS id FROM certificates WHERE ((snapshot::jsonb) ->> 'encrypted_code') = ANY(\(targets.encryptedCodes))",
            when: targets.encryptedCodes)
        return ids
    }

    // MARK: Polls

    /// See ``PollSchedule/snapshots(watchIDs:)``.
    package func snapshots(watchIDs: [String]) async throws -> [String: [String: CertificateSnapshot]] {
        guard !watchIDs.isEmpty else { return [:] }
        var result: [String: [String: CertificateSnapshot]] = [:]
        for row in try await rows("SELECT watch_id, snapshot FROM certificates WHERE watch_id = ANY(\(watchIDs))") {
            let snapshot = try DouyinJSON.decode(CertificateSnapshot.self, from: Data(try row.string("snapshot").utf8))
            result[try row.string("watch_id"), default: [:]][snapshot.certificateID] = snapshot
        }
        return result
    }

    /// See ``PollSchedule/commitPoll(_:route:)``. A poll without events is one statement (the
    /// snapshots' upsert and the watch's update, no transaction around it); a poll with events is one
    /// transaction: the events lock (sequences in commit order), then one statement that upserts
    /// the snapshots, updates the watch and appends the events, then the routing.
    @discardableResult
    package func commitPoll(_ poll: PollCommit, route: EventRouter?) async throws -> [CertWatchEvent] {
        var query = SQLBuilder("")
        let watchID = query.bind(poll.watchID)
        var parts: [String] = []
        if let upsert = try Self.upsertCertificates(poll.certificates, watchID: watchID, into: &query) {
            parts.append("upserted AS (\(upsert))")
        }
        let state: Watch.State = poll.nextPollAt == nil ? poll.finalState : .active
        let update = """
            UPDATE watches SET state = \(query.bind(state.stored)), next_poll_at = \(query.bind(poll.nextPollAt)),
                next_poll_targeted = \(query.bind(poll.nextPollTargeted)), leased_until = NULL, leased_by = NULL,
                last_polled_at = \(query.bind(poll.polledAt)), poll_count = poll_count + 1,
                consecutive_failures = \(query.bind(poll.consecutiveFailures)), last_error = \(query.bind(poll.lastError)),
                updated_at = \(query.bind(poll.polledAt)), failing_since = \(query.bind(poll.failingSince)),
                stalled_since = \(query.bind(poll.stalledSince))
            WHERE id = \(watchID) AND state = \(Watch.State.activeSQL)
            """
        let events = Self.distinct(StoredEvent.encoded(poll.events))
        guard !events.isEmpty else {
            // Nothing appended, so nothing routed: one statement is atomic without a transaction.
            query.sql = (parts.isEmpty ? "" : "WITH " + parts.joined(separator: ", ") + " ") + update
            let statement = query.query
            try await client.withConnection { connection in
                _ = try await connection.query(statement, logger: self.logger)
            }
            return []
        }
        parts.append("polled AS (\(update) RETURNING 1)")
        let insert = Self.insertEvents(events, detectedBy: poll.detectedBy, into: &query)
        query.sql = "WITH " + parts.joined(separator: ", ") + " " + insert
        let statement = query.query
        return try await transaction { connection in
            try await Self.lock("certwatch.events", on: connection, logger: self.logger)
            let appended = try self.appended(events, rows: try await connection.rows(statement, logger: self.logger))
            if let route, !appended.isEmpty { try await self.write(route(appended), on: connection) }
            return appended
        }
    }

    /// See ``EventLog/append(_:route:)``: one transaction: the events lock, one insert for
    /// all the events, the routing.
    @discardableResult
    package func append(_ events: [CertWatchEvent], route: EventRouter?) async throws -> [CertWatchEvent] {
        let encoded = Self.distinct(StoredEvent.encoded(events))
        guard !encoded.isEmpty else { return [] }
        var query = SQLBuilder("")
        let insert = Self.insertEvents(encoded, detectedBy: nil, into: &query)
        query.sql = insert
        let statement = query.query
        return try await transaction { connection in
            try await Self.lock("certwatch.events", on: connection, logger: self.logger)
            let appended = try self.appended(encoded, rows: try await connection.rows(statement, logger: self.logger))
            if let route, !appended.isEmpty { try await self.write(route(appended), on: connection) }
            return appended
        }
    }

    /// The `INSERT … ON CONFLICT DO UPDATE` of a poll's snapshots as one multi-row statement, its
    /// values bound into `query` (`watchID`: the placeholder of the watch id), or `nil` when there
    /// are none. An older observation never overwrites a newer one: a certificate listed twice is
    /// reduced first to what upserting its entries one by one would leave.
    private static func upsertCertificates(_ certificates: [StoredCertificate], watchID: String, into query: inout SQLBuilder) throws
        -> String?
    {
        var order: [String] = []
        var latest: [String: StoredCertificate] = [:]
        for certificate in certificates {
            let id = certificate.snapshot.certificateID
            guard let kept = latest[id] else {
                order.append(id)
                latest[id] = certificate
                continue
            }
            if certificate.snapshot.observedAt > kept.snapshot.observedAt { latest[id] = certificate }
        }
        guard !order.isEmpty else { return nil }
        let snapshots = order.map { latest[$0]!.snapshot }
        let snapshotTexts = try snapshots.map { String(decoding: try DouyinJSON.normalizedEncoded($0), as: UTF8.self) }
        let rawTexts = order.map { String(decoding: latest[$0]!.raw.encoded(), as: UTF8.self) }
        return """
            INSERT INTO certificates (watch_id, certificate_id, state, status, expire_time, snapshot, raw, observed_at)
            SELECT \(watchID), c.* FROM unnest(\(query.bind(order))::text[], \(query.bind(snapshots.map(\.state.rawValue)))::text[],
                \(query.bind(PostgresNullableArray(snapshots.map(\.status))))::bigint[],
                \(query.bind(PostgresNullableArray(snapshots.map(\.expireTime))))::bigint[],
                \(query.bind(snapshotTexts))::text[], \(query.bind(rawTexts))::text[], \(query.bind(snapshots.map(\.observedAt)))::bigint[])
                AS c(certificate_id, state, status, expire_time, snapshot, raw, observed_at)
            ON CONFLICT (watch_id, certificate_id) DO UPDATE SET
                state = excluded.state, status = excluded.status, expire_time = excluded.expire_time,
                snapshot = excluded.snapshot, raw = excluded.raw, observed_at = excluded.observed_at
            WHERE excluded.observed_at > certificates.observed_at
            """
    }

    /// The one `INSERT` of encoded events (ids distinct), bound into `query`: sequences are taken
    /// in the events' order, an id already stored is skipped (`ON CONFLICT DO NOTHING`), and it
    /// returns the `id` and `sequence` of each appended event. Run it under the events lock.
    private static func insertEvents(_ events: [(event: CertWatchEvent, body: String)], detectedBy: Detection?, into query: inout SQLBuilder)
        -> String
    {
        """
        INSERT INTO events (id, type, subject, watch_id, order_id, time, body, detected_by)
        SELECT e.id, e.type, e.subject, e.watch_id, e.order_id, e.time, e.body, e.detected_by
        FROM unnest(\(query.bind(events.map(\.event.id)))::text[], \(query.bind(events.map(\.event.type.rawValue)))::text[],
                    \(query.bind(events.map(\.event.subject)))::text[], \(query.bind(events.map(\.event.data.watch.id)))::text[],
                    \(query.bind(PostgresNullableArray(events.map(\.event.data.watch.orderID))))::text[],
                    \(query.bind(events.map(\.event.time)))::bigint[], \(query.bind(events.map(\.body)))::text[],
                    \(query.bind(PostgresNullableArray(events.map { (detectedBy ?? $0.event.data.detectedBy)?.rawValue })))::text[])
             WITH ORDINALITY AS e(id, type, subject, watch_id, order_id, time, body, detected_by, position)
        ORDER BY e.position
        ON CONFLICT (id) DO NOTHING RETURNING id, sequence
        """
    }

    /// The events the insert appended (`rows`: its `id`, `sequence`), in the order given, each with its sequence.
    private func appended(_ events: [(event: CertWatchEvent, body: String)], rows: [PGRow]) throws -> [CertWatchEvent] {
        var sequences: [String: Int64] = [:]
        for row in rows { sequences[try row.string("id")] = try row.int64("sequence") }
        return events.compactMap { item in
            guard let sequence = sequences[item.event.id] else { return nil }
            var event = item.event
            event.sequence = sequence
            return event
        }
    }

    /// Encoded events without a repeated id (the first one kept, as appending them one by one would).
    private static func distinct(_ events: [(event: CertWatchEvent, body: String)]) -> [(event: CertWatchEvent, body: String)] {
        var seen = Set<String>()
        return events.filter { seen.insert($0.event.id).inserted }
    }

    // MARK: Events

    /// See ``EventLog/events(after:type:orderID:limit:)``.
    package func events(after sequence: Int64, type: EventType?, orderID: String?, limit: Int) async throws -> [CertWatchEvent] {
        var query = SQLBuilder("")
        var clauses = ["sequence > " + query.bind(sequence)]
        if let type { clauses.append("type = " + query.bind(type.rawValue)) }
        if let orderID { clauses.append("order_id = " + query.bind(orderID)) }
        let limitMark = query.bind(limit)
        query.sql = "SELECT sequence, body FROM events WHERE " + clauses.joined(separator: " AND ") + " ORDER BY sequence LIMIT " + limitMark
        return try await rows(query.query).map { row in
            var event = try DouyinJSON.decode(CertWatchEvent.self, from: Data(try row.string("body").utf8))
            event.sequence = try row.int64("sequence")
            return event
        }
    }

    /// See ``EventLog/lastSequence()``.
    package func lastSequence() async throws -> Int64 {
        try await rows("SELECT COALESCE(MAX(sequence), 0) AS n FROM events").first?.int64("n") ?? 0
    }

    /// See ``EventLog/storedEventIDs(among:)``.
    package func storedEventIDs(among ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(try await rows("SELECT id FROM events WHERE id = ANY(\(ids))").map { try $0.string("id") })
    }

    /// See ``EventLog/detections(after:limit:)``.
    package func detections(after sequence: Int64, limit: Int) async throws -> [EventDetection] {
        try await rows(
            "SELECT sequence, type, subject, time, detected_by FROM events WHERE sequence > \(sequence) ORDER BY sequence LIMIT \(limit)"
        ).map { row in
            EventDetection(
                sequence: try row.int64("sequence"), type: try row.string("type"), subject: try row.string("subject"),
                time: try row.int64("time"), detectedBy: try row.decodedIfPresent(Detection.self, "detected_by", table: "events"))
        }
    }

    /// See ``EventLog/eventCountsByType()``.
    package func eventCountsByType() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await rows("SELECT type, COUNT(*) AS n FROM events GROUP BY type") {
            counts[try row.string("type")] = Int(try row.int64("n"))
        }
        return counts
    }

    // MARK: Rows

    static func watch(from row: PGRow) throws -> Watch { try Watch(row: row) }

}
