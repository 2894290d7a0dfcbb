import CertWatchCore
import DouyinOpenAPI
import Foundation
import Logging
import PostgresNIO

/// certwatch's PostgreSQL storage: the ``CertWatchStorage`` implementation over PostgresNIO's
/// `PostgresClient` (a connection pool). The same tables, columns and named migrations as the
/// SQLite ``Store`` (integers as `BIGINT`, times of deliveries as `DOUBLE PRECISION`, JSON as
/// text, so what is stored reads back byte for byte).
///
/// - Migrations run in one transaction under a transaction-level advisory lock, so replicas that
///   start together migrate once; the applied names are kept in `certwatch_migrations`.
/// - Due watches are claimed with `FOR UPDATE SKIP LOCKED`: two claims running at once never take
///   the same watch, and neither waits for the other.
/// - Event sequences follow commit order: a transaction that appends events takes a
///   transaction-level advisory lock first, so a reader of `events(after:)` never sees sequence
///   `n + 1` committed before `n` (which it would skip for good).
/// - The rules' grouping state is read and written under its own advisory lock (taken after the
///   events lock, never before), so concurrent polls never lose a change to a group.
///
/// The pool runs for the store's lifetime (``close()`` ends it).
package final class PostgresStore: CertWatchStorage {
    /// The database.
    package let location: PostgresLocation
    /// The schema the tables live in (`nil`: the user's default `search_path`, usually `public`).
    package let schema: String?
    let client: PostgresClient
    let logger: Logger
    /// The pool's run loop. A task of its own, not a child of a task group: the pool lives as long
    /// as the store, which the CLI's commands and the daemon hold across scopes of their own.
    private let running: Task<Void, Never>
    /// See ``ReplicaRegistry/instanceID``.
    package let instanceID: String

    private init(location: PostgresLocation, schema: String?, instanceID: String, logger: Logger) {
        self.location = location
        self.instanceID = instanceID
        self.schema = schema
        self.logger = logger
        let tls: PostgresClient.Configuration.TLS =
            switch Self.tls(location.tls) {
            case nil: .disable
            case (let configuration, let required)?: required ? .require(configuration) : .prefer(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: tls)
        if let schema { configuration.options.additionalStartupParameters = [("search_path", schema)] }
        configuration.options.maximumConnections = 10
        // The pool retries a failed connection quietly; what fails reaches the caller as an error.
        var background = logger
        background.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.client = client
        running = Task { await client.run() }
    }

    deinit { running.cancel() }

    /// Connects to `location`, creates `schema` if it is given and missing (letters, digits and `_`),
    /// and runs the pending migrations. Throws ``PostgresStoreError`` naming the database (never
    /// its password) when the server cannot be reached within `timeout` seconds, refuses the
    /// login, or a migration fails.
    package static func connect(
        location: PostgresLocation, schema: String? = nil, instanceID: String = InstanceID.make(),
        logger: Logger = Logger(label: "certwatch.postgres"), timeout: Double = 15
    ) async throws -> PostgresStore {
        if let schema, schema.isEmpty || !schema.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            throw PostgresStoreError.usage("schema \(schema.debugDescription) for \(location): use letters, digits and _ only")
        }
        // One plain connection first, so that a refused connection or login is named at once
        // (the pool would retry it quietly until the timeout).
        do {
            try await probe(location, timeout: timeout)
        } catch {
            throw PostgresStoreError.unreachable("cannot connect to \(location): \(Self.describe(error))")
        }
        let store = PostgresStore(location: location, schema: schema, instanceID: instanceID, logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.prepare() }
                group.addTask {
                    try await Task.sleep(for: .seconds(timeout))
                    throw PostgresStoreError.timeout("no answer from \(location) within \(Int(timeout)) s")
                }
                _ = try await group.next()
                group.cancelAll()
            }
        } catch {
            try? await store.close()
            if let error = error as? PostgresStoreError { throw error }
            throw PostgresStoreError.unreachable("cannot open \(location): \(Self.describe(error))")
        }
        return store
    }

    /// Creates the schema when one is named, and migrates (``migrate()``).
    private func prepare() async throws {
        try await migrate()
    }

    /// Ends the pool: connections close, and the store must not be used afterwards.
    package func close() async throws {
        running.cancel()
        await running.value
    }

    /// The TLS settings of an `sslmode`: `nil` for none, else the configuration and whether TLS is
    /// required (`prefer` falls back to plain TCP when the server does not offer it).
    private static func tls(_ mode: PostgresLocation.TLSMode) -> (configuration: TLSConfiguration, required: Bool)? {
        switch mode {
        case .disable: return nil
        case .prefer, .require:
            // As libpq: `prefer` and `require` encrypt without checking the certificate.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return (configuration, mode == .require)
        case .verifyFull: return (.makeClientConfiguration(), true)
        }
    }

    /// Opens and closes one connection to `location` within `timeout` seconds; throws what the
    /// connection attempt threw (refused, unknown host, login failed, TLS refused).
    private static func probe(_ location: PostgresLocation, timeout: Double) async throws {
        let tls: PostgresConnection.Configuration.TLS =
            switch Self.tls(location.tls) {
            case nil: .disable
            case (let configuration, let required)?:
                required
                    ? .require(try NIOSSLContext(configuration: configuration)) : .prefer(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .milliseconds(Int64(timeout * 1_000))
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: Logger(label: "certwatch.postgres.probe"))
        try await connection.close()
    }

    /// An error as text, with the server's message when it sent one (`String(describing:)` of
    /// PostgresNIO's errors deliberately leaves it out).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            return String(reflecting: error)
        }
        if let error = error as? PostgresTransactionError, let inner = error.closureError ?? error.commitError ?? error.beginError {
            return describe(inner)
        }
        return "\(error)"
    }

    // MARK: Transactions and queries

    /// Runs `body` in one transaction on a pooled connection: it commits when `body` returns and
    /// rolls back when it throws, and the error `body` threw is rethrown as it was.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }

    /// The rows of one statement run outside a transaction.
    func rows(_ query: PostgresQuery) async throws -> [PGRow] {
        try await client.withConnection { connection in try await connection.rows(query, logger: logger) }
    }

    /// Takes the transaction-level advisory lock named `name` in `schema` (default: the current
    /// one), released at commit or rollback. Replicas on one schema share the lock; tests on
    /// schemas of their own do not.
    static func lock(_ name: String, schema: String? = nil, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtext(\(name) || ':' || COALESCE(\(schema)::text, current_schema()::text, '')))", logger: logger)
    }

    /// Takes the transaction-level advisory lock named `name` (as ``lock(_:schema:on:logger:)``) if
    /// no other transaction holds it; returns whether it did.
    static func tryLock(_ name: String, schema: String? = nil, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await connection.rows(
            """
            SELECT pg_try_advisory_xact_lock(hashtext(\(name) || ':' || COALESCE(\(schema)::text, current_schema()::text, ''))) AS taken
            """, logger: logger
        ).first?.value("taken", as: Bool.self) ?? false
    }

    /// Runs a statement the contract never runs (tests plant unknown states with it). Not for production code.
    package func testingExecute(_ sql: String, _ values: [String]) async throws {
        var binds = PostgresBindings()
        for value in values { binds.append(value) }
        _ = try await rows(PostgresQuery(unsafeSQL: sql, binds: binds))
    }

    // MARK: Migrations

    /// The named migrations, in order: the names of SQLite's (``Store/migrator``), each a list of
    /// statements. Never edit a shipped migration; add a new one.
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1-watches-certificates-events",
            [
                """
                CREATE TABLE watches (
                    id TEXT PRIMARY KEY,
                    order_id TEXT,
                    encrypted_code TEXT,
                    api TEXT NOT NULL,
                    account_id TEXT,
                    labels TEXT NOT NULL DEFAULT '{}',
                    state TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    next_poll_at BIGINT,
                    leased_until BIGINT,
                    last_polled_at BIGINT,
                    poll_count BIGINT NOT NULL DEFAULT 0,
                    consecutive_failures BIGINT NOT NULL DEFAULT 0,
                    last_error TEXT
                )
                """,
                "CREATE UNIQUE INDEX watches_order ON watches(api, order_id) WHERE order_id IS NOT NULL",
                "CREATE UNIQUE INDEX watches_code ON watches(api, encrypted_code) WHERE encrypted_code IS NOT NULL",
                "CREATE INDEX watches_due ON watches(next_poll_at) WHERE state = \(Watch.State.activeSQL)",
                "CREATE INDEX watches_state ON watches(state, id)",
                """
                CREATE TABLE certificates (
                    watch_id TEXT NOT NULL REFERENCES watches(id),
                    certificate_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    status BIGINT,
                    expire_time BIGINT,
                    snapshot TEXT NOT NULL,
                    raw TEXT NOT NULL,
                    observed_at BIGINT NOT NULL,
                    PRIMARY KEY (watch_id, certificate_id)
                )
                """,
                """
                CREATE TABLE events (
                    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    type TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    watch_id TEXT NOT NULL,
                    order_id TEXT,
                    time BIGINT NOT NULL,
                    body TEXT NOT NULL
                )
                """,
                "CREATE INDEX events_type ON events(type, sequence)",
                "CREATE INDEX events_order ON events(order_id, sequence)",
                "CREATE INDEX events_subject ON events(subject, sequence)",
            ]
        ),
        (
            "v2-deliveries",
            [
                """
                CREATE TABLE deliveries (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    event_id TEXT NOT NULL,
                    event_sequence BIGINT NOT NULL,
                    event_type TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    sink TEXT NOT NULL,
                    rule TEXT,
                    body TEXT,
                    state TEXT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE PRECISION,
                    created_at DOUBLE PRECISION NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL,
                    last_status BIGINT,
                    last_error TEXT,
                    UNIQUE (event_id, sink)
                )
                """,
                "CREATE INDEX deliveries_due ON deliveries(sink, next_attempt_at, id) WHERE state IN \(DeliveryState.openSQL)",
                "CREATE INDEX deliveries_open ON deliveries(sink, subject, event_sequence) WHERE state IN \(DeliveryState.openSQL)",
                "CREATE INDEX deliveries_state ON deliveries(state, sink, updated_at)",
                """
                CREATE TABLE delivery_attempts (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    delivery_id BIGINT NOT NULL REFERENCES deliveries(id),
                    number BIGINT NOT NULL,
                    started_at DOUBLE PRECISION NOT NULL,
                    duration DOUBLE PRECISION NOT NULL,
                    status BIGINT,
                    response TEXT,
                    error TEXT,
                    outcome TEXT NOT NULL
                )
                """,
                "CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, number)",
                "CREATE TABLE sink_states (name TEXT PRIMARY KEY, disabled_at DOUBLE PRECISION, reason TEXT)",
            ]
        ),
        ("v3-rule-groups", ["CREATE TABLE rule_groups (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)"]),
        (
            "v4-push-hints",
            [
                "ALTER TABLE watches ADD COLUMN hinted_at BIGINT",
                "CREATE INDEX watches_hinted ON watches(hinted_at) WHERE state = \(Watch.State.activeSQL) AND hinted_at IS NOT NULL",
                "CREATE INDEX certificates_certificate ON certificates(certificate_id)",
                "CREATE INDEX certificates_encrypted_code ON certificates(((snapshot::jsonb) ->> 'encrypted_code'))",
                "ALTER TABLE events ADD COLUMN detected_by TEXT",
            ]
        ),
        (
            "v5-watch-stalls",
            ["ALTER TABLE watches ADD COLUMN failing_since BIGINT", "ALTER TABLE watches ADD COLUMN stalled_since BIGINT"]
        ),
        (
            "v6-targeted-polls",
            [
                "ALTER TABLE watches ADD COLUMN next_poll_targeted BOOLEAN NOT NULL DEFAULT false",
                "CREATE INDEX watches_targeted ON watches(next_poll_at) WHERE state = \(Watch.State.activeSQL) AND next_poll_targeted",
            ]
        ),
        ("v7-leased-index", ["CREATE INDEX watches_leased ON watches(leased_until) WHERE leased_until IS NOT NULL"]),
        (
            "v8-replicas",
            [
                """
                CREATE TABLE instances (
                    id TEXT PRIMARY KEY,
                    started_at DOUBLE PRECISION NOT NULL,
                    heartbeat_at DOUBLE PRECISION NOT NULL,
                    slowed_at DOUBLE PRECISION
                )
                """,
                "ALTER TABLE watches ADD COLUMN leased_by TEXT",
                "CREATE INDEX watches_leased_by ON watches(leased_by) WHERE leased_by IS NOT NULL",
                "ALTER TABLE deliveries ADD COLUMN leased_until DOUBLE PRECISION",
                "ALTER TABLE deliveries ADD COLUMN leased_by TEXT",
                "CREATE INDEX deliveries_leased_by ON deliveries(leased_by) WHERE leased_by IS NOT NULL",
                "CREATE TABLE push_messages (msg_id TEXT PRIMARY KEY, handled_at DOUBLE PRECISION NOT NULL)",
                "CREATE INDEX push_messages_handled_at ON push_messages(handled_at)",
            ]
        ),
        (
            "v9-accounts",
            [
                """
                CREATE TABLE accounts (
                    account_id TEXT PRIMARY KEY,
                    name TEXT,
                    poi_ids TEXT NOT NULL,
                    app TEXT,
                    feed_enabled BIGINT NOT NULL,
                    feed_interval BIGINT NOT NULL,
                    sweep_enabled BIGINT NOT NULL,
                    sweep_interval BIGINT NOT NULL,
                    source TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    authorization_status TEXT NOT NULL,
                    unauthorized_since BIGINT,
                    authorization_reason TEXT,
                    feed_state TEXT,
                    sweep_state TEXT
                )
                """,
                "CREATE INDEX watches_account ON watches(account_id, state) WHERE account_id IS NOT NULL",
                "ALTER TABLE watches ADD COLUMN hinted_by TEXT",
            ]
        ),
    ]

    /// Runs the migrations not yet applied, in one transaction under the `certwatch.migrations`
    /// advisory lock: a replica starting at the same time waits, then finds them applied.
    private func migrate() async throws {
        try await transaction { connection in
            try await Self.lock("certwatch.migrations", schema: schema, on: connection, logger: logger)
            if let schema {
                // Under the lock: concurrent `CREATE SCHEMA IF NOT EXISTS` can collide.
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
            }
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS certwatch_migrations (identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger)
            let applied = Set(
                try await connection.rows("SELECT identifier FROM certwatch_migrations", logger: logger).map { try $0.string("identifier") })
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    do {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    } catch {
                        throw PostgresStoreError.migration("migration \(migration.name) failed on \(location): \(Self.describe(error))")
                    }
                }
                try await connection.query("INSERT INTO certwatch_migrations (identifier) VALUES (\(migration.name))", logger: logger)
                logger.info("migrated", metadata: ["migration": "\(migration.name)", "database": "\(location)"])
            }
        }
    }
}

/// A PostgreSQL database certwatch cannot use: unreachable, refusing the login, or failing a
/// migration. The message names the database (never its password) and the server's own words.
package struct PostgresStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Sendable, Hashable {
        case unreachable, migration, timeout, readOnly, conflict, usage
    }

    private let code: Code
    /// What went wrong, and where (the database without its password, the server's own words).
    package let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// The server cannot be reached, or refused the connection or the login.
    static func unreachable(_ description: String) -> Self { Self(.unreachable, description) }
    /// A migration failed.
    static func migration(_ description: String) -> Self { Self(.migration, description) }
    /// No answer within the connect timeout.
    static func timeout(_ description: String) -> Self { Self(.timeout, description) }
    /// The database takes no writes (a read-only replica or transaction).
    static func readOnly(_ description: String) -> Self { Self(.readOnly, description) }
    /// Concurrent writes kept conflicting.
    static func conflict(_ description: String) -> Self { Self(.conflict, description) }
    /// certwatch asked for something the store does not do (a bad schema name, dropping the default schema).
    static func usage(_ description: String) -> Self { Self(.usage, description) }

    /// Whether the server could not be reached or did not answer in time.
    package var isUnreachable: Bool { code == .unreachable || code == .timeout }
    /// Whether a migration failed.
    package var isMigration: Bool { code == .migration }
}

/// A row read by column name.
struct PGRow: StorageRow {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func value<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try row[column].decode(T.self)
    }

    func string(_ column: String) throws -> String { try value(column) }
    func optionalString(_ column: String) throws -> String? { try value(column) }
    func int64(_ column: String) throws -> Int64 { try value(column) }
    func optionalInt64(_ column: String) throws -> Int64? { try value(column) }
    func bool(_ column: String) throws -> Bool { try value(column) }
    func double(_ column: String) throws -> Double { try value(column) }
    func optionalDouble(_ column: String) throws -> Double? { try value(column) }

    /// The value of `column` as `T`: ``StorageError/unknownValue(table:column:value:)`` for a value
    /// `T` does not know (never defaulted), naming the table's column `reportedAs` (default: `column`).
    func decoded<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String, reportedAs: String? = nil) throws -> T
    where T.RawValue == String {
        let text = try string(column)
        guard let value = T(rawValue: text) else {
            throw StorageError.unknownValue(table: table, column: reportedAs ?? column, value: text)
        }
        return value
    }

    /// ``decoded(_:_:table:)`` for a nullable column: `nil` for NULL.
    func decodedIfPresent<T: RawRepresentable>(_ type: T.Type, _ column: String, table: String) throws -> T?
    where T.RawValue == String {
        guard let text = try optionalString(column) else { return nil }
        guard let value = T(rawValue: text) else { throw StorageError.unknownValue(table: table, column: column, value: text) }
        return value
    }
}

extension PostgresConnection {
    /// Every row of `query`.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PGRow] {
        try await self.query(query, logger: logger).collect().map(PGRow.init)
    }

    /// How many rows `query` returned (a statement with `RETURNING`: how many it changed).
    func count(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        try await self.query(query, logger: logger).collect().count
    }
}

/// An SQL statement put together from parts, with its bindings numbered as they are added.
struct SQLBuilder {
    var sql: String
    var binds = PostgresBindings()

    init(_ sql: String) { self.sql = sql }

    /// Binds `value` and returns its placeholder (`$n`).
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Binds `value`, NULL for `nil`, and returns its placeholder (`$n`).
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}
