import CertWatchCore
import DouyinOpenAPI
import GRDB

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
}

extension Row: StorageRow {
    func string(_ column: String) throws -> String { try decode(String.self, column) }
    func optionalString(_ column: String) throws -> String? { self[column] }
    func int64(_ column: String) throws -> Int64 { try decode(Int64.self, column) }
    func optionalInt64(_ column: String) throws -> Int64? { self[column] }
    func bool(_ column: String) throws -> Bool { try decode(Bool.self, column) }

    /// A non-NULL value of `column`: a NULL is a ``StorageError`` naming the column, never a crash.
    private func decode<T: DatabaseValueConvertible>(_ type: T.Type, _ column: String) throws -> T {
        guard let value: T = self[column] else { throw StorageError.unknownValue(table: "row", column: column, value: "NULL") }
        return value
    }

    /// The value of `column` as `T`. Throws ``StorageError/unknownValue(table:column:value:)`` for a
    /// value `T` does not know: a stored state is never defaulted.
    func decoded<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String) throws -> T
    where T.RawValue == String {
        let text: String = self[column]
        guard let value = T(rawValue: text) else {
            throw StorageError.unknownValue(table: table, column: column, value: text)
        }
        return value
    }

    /// ``decoded(_:_:table:)`` for a nullable column: `nil` for NULL.
    func decodedIfPresent<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String) throws -> T?
    where T.RawValue == String {
        guard let text: String = self[column] else { return nil }
        guard let value = T(rawValue: text) else {
            throw StorageError.unknownValue(table: table, column: column, value: text)
        }
        return value
    }
}
