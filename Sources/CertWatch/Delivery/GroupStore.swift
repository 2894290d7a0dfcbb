import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// Persists the rules' ``GroupingState`` (Alertmanager-style groups of chat-sink events) in one row,
/// read and written inside the transactions that change it, so a restart neither loses nor repeats
/// a summary.
enum GroupStore {
    static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-rule-groups") { db in
            try db.execute(sql: "CREATE TABLE rule_groups (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)")
        }
    }

    /// The stored state (empty when none). A state that no longer decodes is reset, not fatal.
    static func load(_ db: Database) throws -> GroupingState {
        guard let text = try String.fetchOne(db, sql: "SELECT state FROM rule_groups WHERE id = 1") else {
            return GroupingState()
        }
        return (try? JSONDecoder().decode(GroupingState.self, from: Data(text.utf8))) ?? GroupingState()
    }

    static func save(_ state: GroupingState, _ db: Database) throws {
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO rule_groups (id, state) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            arguments: [text])
    }

    /// Flushes the groups due at `now`: each summary becomes one delivery per sink, carried by the
    /// group's latest event (so ordering per certificate still holds) with the rendered summary as
    /// its body. Returns the summaries flushed.
    @discardableResult
    static func flush(rules: RuleSet, now: Double, db: Database) throws -> [GroupSummary] {
        var state = try load(db)
        let summaries = state.flush(now: Int64(now))
        guard !summaries.isEmpty else { return [] }
        var items: [(event: CertWatchEvent, decision: RouteDecision)] = []
        for summary in summaries {
            guard let carrier = summary.events.max(by: { ($0.sequence ?? 0) < ($1.sequence ?? 0) }) else { continue }
            let body = rules.render(summary)
            for sink in summary.sinks {
                items.append((carrier, RouteDecision(sink: sink, rule: summary.key.rule, body: body)))
            }
        }
        try DeliveryStore.enqueue(items, now: now, db: db)
        try save(state, db)
        return summaries
    }
}
