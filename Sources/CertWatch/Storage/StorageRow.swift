import Foundation

/// A database row read by column name, as both backends' rows adopt it (GRDB's `Row`, PostgresNIO's
/// through `PGRow`), so that a record type is mapped from a row in one place (e.g.
/// ``Account/init(row:)``) for SQLite and PostgreSQL alike. Integers are read as `Int64`, text as
/// `String`; a NULL read as a non-optional throws the backend's decoding error.
protocol StorageRow {
    /// The text of `column`.
    func string(_ column: String) throws -> String
    /// The text of `column`, `nil` for NULL.
    func optionalString(_ column: String) throws -> String?
    /// The integer of `column`.
    func int64(_ column: String) throws -> Int64
    /// The integer of `column`, `nil` for NULL.
    func optionalInt64(_ column: String) throws -> Int64?
    /// The truth value of `column` (SQLite: an integer, PostgreSQL: a `BOOLEAN`).
    func bool(_ column: String) throws -> Bool
    /// The floating-point number of `column` (fractional Unix seconds).
    func double(_ column: String) throws -> Double
    /// The floating-point number of `column`, `nil` for NULL.
    func optionalDouble(_ column: String) throws -> Double?
}

extension StorageRow {
    /// The value of `column` as `T`: ``StorageError/unknownValue(table:column:value:)`` for a value
    /// `T` does not know (a stored state is never defaulted).
    func decodedValue<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String) throws -> T
    where T.RawValue == String {
        let text = try string(column)
        guard let value = T(rawValue: text) else { throw StorageError.unknownValue(table: table, column: column, value: text) }
        return value
    }

    /// The JSON text of `column` decoded as `T` (`nil` for NULL). Throws ``StorageError`` naming the
    /// table and column for JSON certwatch cannot read.
    func json<T: Decodable>(_ type: T.Type, _ column: String, table: String) throws -> T? {
        guard let text = try optionalString(column) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw StorageError.unknownValue(table: table, column: column, value: String(text.prefix(200)))
        }
    }
}

/// JSON text for a column (sorted keys, so equal values store equal text).
func storedJSON(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
}
