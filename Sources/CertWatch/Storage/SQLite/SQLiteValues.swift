import CertWatchCore
import DouyinOpenAPI
import GRDB

extension Row: StorageRow {
    func string(_ column: String) throws -> String { try decode(String.self, column) }
    func optionalString(_ column: String) throws -> String? { self[column] }
    func int64(_ column: String) throws -> Int64 { try decode(Int64.self, column) }
    func optionalInt64(_ column: String) throws -> Int64? { self[column] }
    func bool(_ column: String) throws -> Bool { try decode(Bool.self, column) }
    func double(_ column: String) throws -> Double { try decode(Double.self, column) }
    func optionalDouble(_ column: String) throws -> Double? { self[column] }

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
