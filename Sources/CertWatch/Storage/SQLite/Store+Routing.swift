import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// Writes a ``Routing`` inside an open write transaction: the outbox's deliveries and the rules'
/// grouping state.
///
/// Also owns the `rule_groups` table: the rules' ``GroupingState`` (Alertmanager-style groups of
/// chat-sink events) in one row, read and written inside the transactions that change it, so a
/// restart neither loses nor repeats a summary. SQLite has one writer, so a read-modify-write of
/// the row needs no further lock.
extension Store {
    static func registerRuleGroupMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-rule-groups") { db in
            try db.execute(sql: "CREATE TABLE rule_groups (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)")
        }
    }

    /// Writes `routing` in the caller's transaction. Returns how many deliveries were written.
    @discardableResult
    static func write(_ routing: Routing, db: Database) throws -> Int {
        var written = try enqueueDeliveries(routing.deliveries, now: routing.now, db: db)
        if let update = routing.groups {
            let stored = try groupingState(db: db)
            var state = stored
            let summaries = try update(&state)
            if state != stored { try saveGroupingState(state, db: db) }
            written += try enqueueDeliveries(summaries, now: routing.now, db: db)
        }
        return written
    }

    /// Writes one pending delivery per item, due at `now`; one already stored for the same event
    /// and sink is kept. Returns how many were written.
    private static func enqueueDeliveries(_ items: [PlannedDelivery], now: Double, db: Database) throws -> Int {
        guard !items.isEmpty else { return 0 }
        var written = 0
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO deliveries (event_id, event_sequence, event_type, subject, sink, rule, body, state,
                                        next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, \(DeliveryState.pending.sql), ?, ?, ?)
                ON CONFLICT (event_id, sink) DO NOTHING
                """)
        for item in items {
            let (event, decision) = (item.event, item.decision)
            try statement.execute(arguments: [
                event.id, event.sequence ?? 0, event.type.rawValue, event.subject, decision.sink, decision.rule,
                decision.body, now, now, now,
            ])
            written += db.changesCount
        }
        return written
    }

    /// The stored state (empty when none). A state that no longer decodes is reset, not fatal.
    private static func groupingState(db: Database) throws -> GroupingState {
        guard let text = try String.fetchOne(db, sql: "SELECT state FROM rule_groups WHERE id = 1") else {
            return GroupingState()
        }
        return (try? JSONDecoder().decode(GroupingState.self, from: Data(text.utf8))) ?? GroupingState()
    }

    private static func saveGroupingState(_ state: GroupingState, db: Database) throws {
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO rule_groups (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            arguments: [text])
    }
}
