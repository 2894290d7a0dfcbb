import CertWatchCore
import Foundation
import GRDB

extension Store {
    /// Adds the push-hint schema: `watches.hinted_at` (when a hinted poll is due, Unix seconds; the
    /// hinted watches are claimed before routine ones, from their own partial index), lookups of
    /// certificates by id and by encrypted code, and `events.detected_by` (`push`/`poll`).
    static func registerHintMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v4-push-hints") { db in
            try db.execute(
                sql: """
                    ALTER TABLE watches ADD COLUMN hinted_at INTEGER;
                    CREATE INDEX watches_hinted ON watches(hinted_at) WHERE state = 'active' AND hinted_at IS NOT NULL;
                    CREATE INDEX certificates_certificate ON certificates(certificate_id);
                    CREATE INDEX certificates_encrypted_code ON certificates(json_extract(snapshot, '$.encrypted_code'));
                    ALTER TABLE events ADD COLUMN detected_by TEXT;
                    """)
        }
    }

    /// Takes a push hint: every active or done watch that `targets` names — by order id, by
    /// encrypted code, or by a certificate id / encrypted code in its stored snapshots — becomes
    /// due for a hinted poll, which ``claimDue(now:limit:lease:)`` hands out before routine polls.
    /// A done watch becomes active again (the poll decides whether anything changed).
    ///
    /// Several hints coalesce: a watch already hinted keeps its earlier due time, and a watch
    /// polled in this second, or with a poll in flight, is hinted for the next second — so hints
    /// within a second make one poll, and a change that happened after a poll started is never
    /// missed. Returns the ids of the watches hinted (sorted). Throws GRDB's `DatabaseError`.
    package func hint(_ targets: HintTargets, now: Int64) async throws -> [String] {
        guard !targets.isEmpty else { return [] }
        let ids = try await writer.write { db -> [String] in
            let ids = try Self.watchIDs(naming: targets, db: db)
            var hinted: [String] = []
            let update = try db.cachedStatement(sql: Self.hintSQL)
            for id in ids.sorted() {
                try update.execute(arguments: ["now": now, "id": id, "by": targets.source.rawValue])
                if db.changesCount > 0 { hinted.append(id) }
            }
            return hinted
        }
        return ids
    }

    /// The ids of the watches `targets` name: by order id, by the watch's encrypted code, and by a
    /// certificate id or encrypted code seen in a watch's stored snapshots.
    static func watchIDs(naming targets: HintTargets, db: Database) throws -> Set<String> {
        var ids = Set<String>()
        func collect(_ sql: String, _ values: [String]) throws {
            guard !values.isEmpty else { return }
            let marks = Array(repeating: "?", count: values.count).joined(separator: ",")
            ids.formUnion(try String.fetchAll(db, sql: sql.replacingOccurrences(of: "%@", with: marks), arguments: StatementArguments(values)))
        }
        try collect("SELECT id FROM watches WHERE order_id IN (%@)", targets.orderIDs)
        try collect("SELECT id FROM watches WHERE encrypted_code IN (%@)", targets.encryptedCodes)
        try collect("SELECT watch_id FROM certificates WHERE certificate_id IN (%@)", targets.certificateIDs)
        try collect(
            "SELECT watch_id FROM certificates WHERE json_extract(snapshot, '$.encrypted_code') IN (%@)",
            targets.encryptedCodes)
        return ids
    }

    /// Makes one watch hinted (arguments `now`, `id`, `by`: the hint's source); see ``hint(_:now:)``.
    static let hintSQL = """
        UPDATE watches SET
            state = \(Watch.State.active.sql),
            hinted_by = CASE WHEN hinted_at IS NULL THEN :by ELSE COALESCE(hinted_by, :by) END,
            hinted_at = MIN(COALESCE(hinted_at, \(Store.due)), \(Store.due)),
            next_poll_at = MIN(COALESCE(next_poll_at, \(Store.due)), \(Store.due)),
            updated_at = :now
        WHERE id = :id AND state IN \([Watch.State.active, .done].sqlList)
        """

    /// When a hinted poll is due: now, or the next second when the watch was polled this second
    /// or has a poll in flight.
    private static let due = "(CASE WHEN leased_until > :now OR last_polled_at >= :now THEN :now + 1 ELSE :now END)"

    /// Takes up to `limit` watches whose hinted poll is due (earliest hint first), leases them
    /// until `now + lease` and clears their hint; each returned watch carries its ``Watch/hintedAt``.
    package func claimHinted(now: Int64, limit: Int, lease: Int64 = 120) async throws -> [Watch] {
        guard limit > 0 else { return [] }
        return try await writer.write { db in try Self.claimHinted(db: db, now: now, limit: limit, lease: lease, owner: self.instanceID) }
    }

    static func claimHinted(db: Database, now: Int64, limit: Int, lease: Int64, owner: String) throws -> [Watch] {
        guard limit > 0 else { return [] }
        let rows = try Row.fetchAll(db.cachedStatement(sql: Self.claimHintedSQL), arguments: [now, now, limit])
        let watches = try rows.map(Self.watch(from:))
        let update = try db.cachedStatement(sql: "UPDATE watches SET leased_until = ?, leased_by = ?, hinted_at = NULL WHERE id = ?")
        for watch in watches { try update.execute(arguments: [now + lease, owner, watch.id]) }
        return watches
    }

    /// The hinted watches due (arguments: now, now, limit), on the `watches_hinted` partial index.
    static let claimHintedSQL = """
        SELECT * FROM watches INDEXED BY watches_hinted
        WHERE state = \(Watch.State.active.sql) AND hinted_at IS NOT NULL AND hinted_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
        ORDER BY hinted_at LIMIT ?
        """

    /// The earliest `hinted_at` of an unleased active watch, or `nil` when none is hinted.
    package func nextHint(now: Int64) async throws -> Int64? {
        try await writer.read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT MIN(hinted_at) FROM watches INDEXED BY watches_hinted
                    WHERE state = \(Watch.State.active.sql) AND hinted_at IS NOT NULL
                      AND (leased_until IS NULL OR leased_until <= ?)
                    """, arguments: [now])
        }
    }


    /// Events after `sequence` with how each was detected, oldest first, at most `limit`.
    package func detections(after sequence: Int64 = 0, limit: Int = 100_000) async throws -> [EventDetection] {
        try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sequence, type, subject, time, detected_by FROM events WHERE sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [sequence, limit]
            ).map { row in
                EventDetection(
                    sequence: row["sequence"], type: row["type"], subject: row["subject"], time: row["time"],
                    detectedBy: try row.decodedIfPresent(Detection.self, "detected_by", table: "events"))
            }
        }
    }

    /// See ``EventLog/storedEventIDs(among:)``: by the primary key, 500 at a time.
    package func storedEventIDs(among ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await writer.read { db in
            var stored = Set<String>()
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                stored.formUnion(try String.fetchAll(db, sql: "SELECT id FROM events WHERE id IN (\(marks))", arguments: StatementArguments(chunk)))
            }
            return stored
        }
    }
}
