import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// A ``StorageTransaction`` over an open GRDB write transaction: valid only inside the closure of
/// ``Store/commitPoll(_:afterAppend:)`` or ``Store/transaction(_:)`` that hands it out.
///
/// Also owns the `rule_groups` table: the rules' ``GroupingState`` (Alertmanager-style groups of
/// chat-sink events) in one row, read and written inside the transactions that change it, so a
/// restart neither loses nor repeats a summary.
struct SQLiteTransaction: StorageTransaction {
    let db: Database

    static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-rule-groups") { db in
            try db.execute(sql: "CREATE TABLE rule_groups (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)")
        }
    }

    func append(_ events: [CertWatchEvent]) throws -> [CertWatchEvent] {
        try Store.append(Store.encoded(events), db: db)
    }

    @discardableResult
    func enqueueDeliveries(_ items: [(event: CertWatchEvent, decision: RouteDecision)], now: Double) throws -> Int {
        var written = 0
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO deliveries (event_id, event_sequence, event_type, subject, sink, rule, body, state,
                                        next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, \(DeliveryState.pending.sql), ?, ?, ?)
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

    /// The stored state (empty when none). A state that no longer decodes is reset, not fatal.
    func groupingState() throws -> GroupingState {
        guard let text = try String.fetchOne(db, sql: "SELECT state FROM rule_groups WHERE id = 1") else {
            return GroupingState()
        }
        return (try? JSONDecoder().decode(GroupingState.self, from: Data(text.utf8))) ?? GroupingState()
    }

    func saveGroupingState(_ state: GroupingState) throws {
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO rule_groups (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            arguments: [text])
    }
}
