/// A stored value certwatch cannot read, e.g. a row whose `state` is not a state certwatch knows
/// (written by a newer version, or by hand). Never defaulted: the read fails, naming where.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case unknownValue
    }

    private let code: Code
    /// The table, e.g. `watches`.
    public let table: String
    /// The column, e.g. `state`.
    public let column: String
    /// The stored value, as text.
    public let value: String

    private init(code: Code, table: String, column: String, value: String) {
        self.code = code
        self.table = table
        self.column = column
        self.value = value
    }

    /// A value of `table.column` that is not one certwatch knows.
    public static func unknownValue(table: String, column: String, value: String) -> StorageError {
        StorageError(code: .unknownValue, table: table, column: column, value: value)
    }

    /// Whether this is an unknown stored value (the only kind so far).
    public var isUnknownValue: Bool { code == .unknownValue }

    public var description: String {
        switch code {
        case .unknownValue: "unknown value '\(value)' in \(table).\(column)"
        }
    }
}
