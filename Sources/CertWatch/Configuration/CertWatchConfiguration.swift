import CertWatchCore
import DouyinOpenAPI
import Foundation

/// certwatch's settings: one YAML file (see `deploy/certwatch.example.yaml`) plus environment
/// variables (`CERTWATCH_<KEY_PATH>`, e.g. `CERTWATCH_DOUYIN_BASE_URL`), secrets by reference
/// (`client_secret: ${DOUYIN_CLIENT_SECRET}`).
public struct CertWatchConfiguration: Sendable {
    /// The database (`database`, also `CERTWATCH_DATABASE`): a SQLite file path (default
    /// `./certwatch.sqlite`; relative to the file's directory when written in the file), or a
    /// PostgreSQL URL `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE[?sslmode=…]` (see ``storage``).
    public var database: String
    /// The Douyin client (`douyin.*`).
    public var douyin: DouyinClientConfiguration
    /// The watcher (`poll.*`).
    package var watcher: WatcherConfiguration
    /// Rule files and directories (`rules.paths`, default `rules/`; relative to the file's directory
    /// when written in the file).
    public var rulePaths: [String]
    /// The HTTP listen address (`http.listen`, default `127.0.0.1:8787`).
    public var listen: String
    /// Bearer keys for the HTTP API (`http.api_keys`).
    public var apiKeys: [String]
    /// Largest HTTP request body, bytes (`http.body_limit`, default 1 MiB; 1 KiB…64 MiB).
    public var bodyLimit: Int = 1 << 20
    /// How long history is kept (`retention.events`, `retention.delivery_attempts`).
    package var retention: RetentionPolicy
    /// Each Douyin API's quota (`douyin.quotas.*`; the certificate query's is also ``WatcherConfiguration/qps``).
    public var quotas: DouyinQuotas = DouyinQuotas()
    /// The merchant accounts (`accounts.*`), saved to the database at start.
    public var accounts: AccountsConfiguration = AccountsConfiguration()
    /// Douyin's push intake (`push.*`).
    public var push: PushConfiguration = PushConfiguration()
    /// The operator console (`console.*`).
    public var console: ConsoleConfiguration = ConsoleConfiguration()
    /// The file it was read from ("" when none).
    public var sourcePath: String
    /// The flattened file, for sections read by other parts (sinks).
    public var file: ConfigurationFile
    /// The sinks (`sinks.*`; see ``SinkConfiguration``), plus the built-in `stdout`.
    public var sinks: [SinkConfiguration] = [SinkConfiguration.builtInStdout]

    /// Every key the configuration file may hold; `*` stands for a name.
    public static let knownKeys: [String] = [
        "database",
        "douyin.base_url", "douyin.client_key", "douyin.client_secret", "douyin.token_endpoint",
        "douyin.token_refresh_margin", "douyin.connect_timeout", "douyin.request_timeout",
        "poll.qps", "poll.concurrency", "poll.first_poll_delay", "poll.base_interval", "poll.cancellable_interval",
        "poll.expiring_lead_times", "poll.jitter", "poll.base_share", "poll.retry_initial", "poll.retry_cap",
        "poll.stall_after_failures", "poll.stall_after", "poll.min_interval", "poll.max_interval",
        "rules.paths",
        "http.listen", "http.api_keys", "http.body_limit",
        "push.enabled", "push.auto_register", "push.api",
        "console.enabled", "console.session_secret", "console.secure_cookie", "console.session_lifetime",
        "sinks.*.type", "sinks.*.url", "sinks.*.secret", "sinks.*.secrets", "sinks.*.format", "sinks.*.path",
        "sinks.*.allow_private", "sinks.*.retry_schedule", "sinks.*.concurrency",
        "sinks.*.headers.*", "sinks.*.pretty",
        "sinks.*.client_key", "sinks.*.max_bytes", "sinks.*.max_files", "sinks.*.connect_timeout", "sinks.*.timeout",
        "sinks.*.jitter",
        "retention.events", "retention.delivery_attempts",
        "douyin.quotas.certificate_query", "douyin.quotas.order_query", "douyin.quotas.verify_record_query",
    ] + AccountsConfiguration.knownKeys

    /// Where ``database`` points: SQLite or PostgreSQL. Throws ``ConfigurationError`` for a
    /// malformed PostgreSQL URL.
    public var storage: StorageLocation {
        get throws(ConfigurationError) {
            let location = file.location(of: "database")
            return try StorageLocation(database: database, location: location.isEmpty ? "database" : location)
        }
    }

    /// Loads the configuration from `path` (nil: defaults and environment only).
    /// `overrides` win over everything (command-line flags such as `--db`).
    /// Throws ``ConfigurationError`` naming the key and where its value came from.
    public static func load(
        path: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        database overrideDatabase: String? = nil
    ) throws(ConfigurationError) -> CertWatchConfiguration {
        let file = try ConfigurationFile(path: path, knownKeys: knownKeys, environment: environment)
        let defaults = PollPolicy()
        let minInterval = try positive(file, "poll.min_interval") ?? defaults.minInterval
        let maxInterval = try positive(file, "poll.max_interval") ?? defaults.maxInterval
        guard maxInterval >= minInterval else {
            throw ConfigurationError(
                location: file.location(of: file.contains("poll.max_interval") ? "poll.max_interval" : "poll.min_interval"),
                key: file.contains("poll.max_interval") ? "poll.max_interval" : "poll.min_interval",
                message: "poll.max_interval (\(maxInterval) s) must not be less than poll.min_interval (\(minInterval) s)")
        }
        let policy = PollPolicy(
            firstPollDelay: try file.duration("poll.first_poll_delay") ?? defaults.firstPollDelay,
            cancellableInterval: try positive(file, "poll.cancellable_interval") ?? defaults.cancellableInterval,
            baseInterval: try positive(file, "poll.base_interval") ?? defaults.baseInterval,
            expiringLeadTimes: try file.durations("poll.expiring_lead_times") ?? defaults.expiringLeadTimes,
            jitter: try file.number("poll.jitter", range: 0...0.5) ?? defaults.jitter,
            baseShare: try file.number("poll.base_share", range: 0.05...1) ?? defaults.baseShare,
            minInterval: minInterval, maxInterval: maxInterval)
        let quotas = try DouyinQuotas(file: file)
        let backoffDefaults = RetryBackoff()
        let watcher = WatcherConfiguration(
            policy: policy,
            backoff: RetryBackoff(
                initial: try positive(file, "poll.retry_initial") ?? backoffDefaults.initial,
                cap: try positive(file, "poll.retry_cap") ?? backoffDefaults.cap),
            qps: quotas.certificateQuery,
            concurrency: try file.integer("poll.concurrency", range: 1...1024) ?? 8,
            stall: StallPolicy(
                failures: Int64(try file.integer("poll.stall_after_failures", range: 0...1_000_000) ?? 5),
                duration: try file.duration("poll.stall_after") ?? 3_600))
        let baseURL = try file.string("douyin.base_url")
        let douyin = DouyinClientConfiguration(
            baseURL: baseURL ?? "https://open.douyin.com",
            // Read when used (``requireCredentials()``): commands that do not call Douyin need no credentials.
            clientKey: (try? file.string("douyin.client_key")) ?? "",
            clientSecret: (try? file.string("douyin.client_secret")) ?? "",
            tokenEndpoint: try file.choice("douyin.token_endpoint", as: DouyinClientConfiguration.TokenEndpoint.self) ?? .stable,
            tokenRefreshMargin: .seconds(try file.duration("douyin.token_refresh_margin") ?? 300),
            connectTimeout: .seconds(try positive(file, "douyin.connect_timeout") ?? 5),
            requestTimeout: .seconds(try positive(file, "douyin.request_timeout") ?? 15))
        // A PostgreSQL URL is not a path: it is never resolved against the file's directory.
        let database = try file.string("database").map(PostgresLocation.isURL) == true ? try file.string("database") : try file.path("database")
        // Read now so that every command names a malformed URL where it was written.
        if let value = overrideDatabase ?? database {
            _ = try StorageLocation(database: value, location: overrideDatabase != nil ? "--db" : file.location(of: "database"))
        }
        let rulePaths = try file.paths("rules.paths")
        let listen = try file.string("http.listen")
        // Read when used (``requireCredentials()``): only `serve` answers HTTP.
        let apiKeys = try? file.list("http.api_keys")
        var configuration = CertWatchConfiguration(
            database: overrideDatabase ?? database ?? "./certwatch.sqlite", douyin: douyin,
            watcher: watcher, rulePaths: rulePaths ?? ["rules/"],
            listen: listen ?? "127.0.0.1:8787", apiKeys: apiKeys ?? [],
            retention: RetentionPolicy(
                events: try positive(file, "retention.events") ?? 90 * 86_400,
                deliveryAttempts: try positive(file, "retention.delivery_attempts") ?? 90 * 86_400),
            sourcePath: path ?? "", file: file)
        configuration.push = try PushConfiguration(file: file)
        configuration.accounts = try AccountsConfiguration(file: file)
        configuration.quotas = quotas
        configuration.console = try ConsoleConfiguration(file: file)
        configuration.sinks = try SinkConfiguration.all(from: file)
        configuration.bodyLimit = try file.integer("http.body_limit", range: 1_024...(64 << 20)) ?? configuration.bodyLimit
        return configuration
    }

    /// The sink names the file at `path` defines, the built-in `stdout` included, without reading
    /// (or requiring the `${VAR}`s of) any other setting: what `rules check --config` needs.
    /// Throws ``ConfigurationError`` for an unreadable file or an unknown key.
    public static func sinkNames(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> Set<String>
    {
        let file = try ConfigurationFile(path: path, knownKeys: knownKeys, environment: environment)
        return Set(file.names(under: "sinks") + [SinkConfiguration.builtInStdout.name])
    }

    /// The rule files and directories the file at `path` names (`rules.paths`, relative to the file's
    /// directory; default `rules/`), without reading any other setting: what `rules check --config`
    /// checks when given no paths. Throws ``ConfigurationError`` for an unreadable file or an unknown key.
    public static func rulePaths(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> [String]
    {
        let file = try ConfigurationFile(path: path, knownKeys: knownKeys, environment: environment)
        return try file.paths("rules.paths") ?? ["rules/"]
    }

    /// Checks what `serve` needs and other commands do not: Douyin credentials present and the
    /// `${VAR}`s of `douyin.client_key`, `douyin.client_secret` and `http.api_keys` set.
    /// Throws the located error of a `${VAR}` that is not set, or says the key is required.
    public func requireCredentials() throws(ConfigurationError) {
        for key in ["douyin.client_key", "douyin.client_secret"] { _ = try file.string(key) }
        _ = try file.list("http.api_keys")
        let missing = [("douyin.client_key", douyin.clientKey), ("douyin.client_secret", douyin.clientSecret)]
            .filter { $0.1.isEmpty }.map(\.0)
        guard missing.isEmpty else {
            let keys = missing.joined(separator: ", ")
            let variables = missing.map(ConfigurationFile.environmentName).joined(separator: " and ")
            let example = missing.map { "\($0.split(separator: ".").last!): ${DOUYIN_\($0.split(separator: ".").last!.uppercased())}" }
                .joined(separator: ", ")
            throw ConfigurationError(
                location: sourcePath.isEmpty ? "no configuration file (give --config F)" : sourcePath, key: keys,
                message: "required: set \(missing.count == 1 ? "it" : "them") under douyin: in the file (\(example)) or in \(variables)")
        }
    }

    /// Checks every HTTP sink's `url` with ``TargetGuard`` (its name resolved now), as the
    /// dispatcher will before each send: `serve` and `certwatch config check` refuse to start with a
    /// target that would be refused at 3 a.m. Throws the error of the first refused target, at
    /// `sinks.NAME.url` with its `file:line:col` and the `allow_private` hint. A name that does not
    /// resolve now is not an error (DNS may not be reachable where the configuration is checked):
    /// it is returned as a warning, `sinks.NAME.url: …`.
    public func checkTargets() throws(ConfigurationError) -> [String] {
        var warnings: [String] = []
        for sink in sinks {
            guard let text = sink.url, let url = URL(string: text) else { continue }
            let key = "sinks.\(sink.name).url"
            do {
                try TargetGuard.check(url, allowPrivate: sink.allowPrivate)
            } catch where error.unresolved {
                warnings.append(
                    "\(file.location(of: key)): \(key): \(error.host) does not resolve here now; it is checked again before each delivery")
            } catch {
                throw ConfigurationError(location: file.location(of: key), key: key, message: "\(error)")
            }
        }
        return warnings
    }

    private static func positive(_ file: ConfigurationFile, _ key: String) throws(ConfigurationError) -> Int64? {
        guard let value = try file.duration(key) else { return nil }
        guard value > 0 else {
            throw ConfigurationError(location: file.location(of: key), key: key, message: "must be greater than 0")
        }
        return value
    }
}
