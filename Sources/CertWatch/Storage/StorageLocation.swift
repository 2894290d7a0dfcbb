import Foundation
import Logging

/// Where certwatch keeps its state, read from the `database` setting: a `postgres://` (or
/// `postgresql://`) URL selects PostgreSQL (``PostgresStore``); any other value is the path of a
/// SQLite file (``Store``), as it always was.
public enum StorageLocation: Sendable, Hashable, CustomStringConvertible {
    /// A SQLite database file (`:memory:` for one in memory).
    case sqlite(path: String)
    /// A PostgreSQL database.
    case postgres(PostgresLocation)

    /// Reads a `database` value. Throws ``ConfigurationError`` at `location` (e.g. `certwatch.yaml:3:11`)
    /// for a PostgreSQL URL it cannot use, naming what is wrong (the password is never shown).
    public init(database: String, location: String = "configuration") throws(ConfigurationError) {
        if PostgresLocation.isURL(database) {
            self = .postgres(try PostgresLocation(url: database, location: location))
        } else {
            self = .sqlite(path: database)
        }
    }

    /// Whether this is a PostgreSQL database.
    public var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// The path, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }

    /// Opens the store: a SQLite file is created if needed; a PostgreSQL database is connected to.
    /// Both run their pending migrations. Throws GRDB's `DatabaseError` for a SQLite file that
    /// cannot be opened or migrated, ``PostgresStoreError`` for a PostgreSQL server that cannot be
    /// reached (within `connectTimeout`, seconds) or migrated.
    public func open(logger: Logger = Logger(label: "certwatch.storage"), connectTimeout: Double = 15) async throws
        -> any CertWatchStorage
    {
        switch self {
        case .sqlite(let path): try Store(path: path)
        case .postgres(let location): try await PostgresStore.connect(location: location, logger: logger, timeout: connectTimeout)
        }
    }
}
