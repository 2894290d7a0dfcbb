import CertWatchCore

// SQL text derived from certwatch's enums, for both backends: a state is never spelled twice. A
// partial index's `WHERE` clause and the query that should use it must have the same text, so
// states go into statements as literals (PostgreSQL: `\(unescaped:)`), never as binds.

extension RawRepresentable where RawValue == String {
    /// The raw value as an SQL string literal, e.g. `'active'`, for interpolating a state into a
    /// query (the partial indexes' `WHERE` clauses must match the query's text).
    var sql: String { "'" + rawValue.replacingOccurrences(of: "'", with: "''") + "'" }
}

extension Sequence where Element: RawRepresentable, Element.RawValue == String {
    /// The raw values as an SQL list, e.g. `('pending', 'retrying')`.
    var sqlList: String { "(" + map(\.sql).joined(separator: ", ") + ")" }
}

extension DeliveryState {
    /// The states the dispatcher still works on, as an SQL list: `('pending', 'retrying')`.
    static let openSQL = DeliveryState.allCases.filter(\.isOpen).sqlList
    /// The states a bulk replay starts from: `('dead', 'cancelled')`.
    static let failedSQL = [DeliveryState.dead, .cancelled].sqlList
    /// The state a replayed delivery starts in: `'pending'`.
    static let pendingSQL = DeliveryState.pending.sql
}

extension Watch.State {
    /// `'active'`.
    static let activeSQL = Watch.State.active.sql
    /// The states a hint takes a watch from: `('active', 'done')`.
    static let hintableSQL = [Watch.State.active, .done].sqlList
}
