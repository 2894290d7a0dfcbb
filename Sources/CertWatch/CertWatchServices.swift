import AsyncHTTPClient
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Every service of one certwatch instance, made from one configuration, and the one
/// `ServiceGroup` that runs them: `certwatch serve`, `certwatch demo`, the poll-pipeline benchmark
/// and the tests all assemble certwatch here, so they run the same wiring.
///
/// The group lists the services so that they stop in this order on graceful shutdown (a
/// `ServiceGroup` stops its services in reverse order of its list, one after another):
///
/// 1. ``Options/inputs`` (the demo's merchant backend and Douyin pusher): nothing new comes in;
/// 2. the HTTP server (`http-server`): stops accepting, finishes the requests in flight;
/// 3. the ``accounts`` monitor (feed and sweep runs in flight complete), then the ``watcher``: the
///    polls in flight complete, and their events and deliveries commit;
/// 4. the ``ruleReloader``, the ``groupFlusher`` and the ``retention`` pass;
/// 5. the ``dispatcher``: it delivers until everything before it has stopped, then finishes
///    the deliveries in flight and records them. What is still pending waits in the outbox for
///    the next start;
/// 6. the ``heartbeat``, last: it leaves the replica set, ending this instance's leases.
///
/// A service that throws shuts the group down gracefully in the same order, and ``run()`` then
/// rethrows its error. See ``run()`` for the signals.
public struct CertWatchServices: Sendable {
    /// What a caller may set beyond ``CertWatchConfiguration``: the things that are not
    /// configuration-file settings (loggers, the metrics registry, callbacks) and the overrides of
    /// the demo, the benchmarks and the tests.
    public struct Options: Sendable {
        /// Makes the logger of each part from its label (`certwatch.watcher`, …). Default: `Logger(label:)`.
        public var makeLogger: @Sendable (_ label: String) -> Logger
        /// The Prometheus registry rendered at `/metrics`.
        public var registry: PrometheusCollectorRegistry
        /// Where `stdout` sinks write (nil: standard output).
        public var stdout: (@Sendable (Data) -> Void)?
        /// An open store to use instead of opening ``CertWatchConfiguration/database`` (a PostgreSQL
        /// database is opened by ``CertWatchServices/open(configuration:clock:options:)``).
        public var store: (any CertWatchStorage)?
        /// The dispatcher's settings (idle check, retry jitter seed).
        package var dispatcher: DispatcherConfiguration
        /// Seconds of the clock between looks for due group summaries (default 1).
        public var groupCheckInterval: Double
        /// Seconds of the clock between retention passes (default 3,600).
        public var retentionInterval: Double
        /// How long graceful shutdown may take before the services are cancelled (default 10 s).
        public var shutdownGrace: Duration
        /// Called with the HTTP server's port once it listens (useful with `http.listen: 127.0.0.1:0`).
        public var onServerRunning: @Sendable (_ port: Int) async -> Void
        /// Services that feed this instance from outside (the demo's merchant backend and Douyin
        /// pusher). Listed after the HTTP server, so they stop first.
        public var inputs: [ServiceGroupConfiguration.ServiceConfiguration]

        package init(
            makeLogger: @escaping @Sendable (_ label: String) -> Logger = { Logger(label: $0) },
            registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), stdout: (@Sendable (Data) -> Void)? = nil,
            store: (any CertWatchStorage)? = nil, dispatcher: DispatcherConfiguration = DispatcherConfiguration(), groupCheckInterval: Double = 1,
            retentionInterval: Double = 3_600, shutdownGrace: Duration = .seconds(10),
            onServerRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in },
            inputs: [ServiceGroupConfiguration.ServiceConfiguration] = []
        ) {
            self.makeLogger = makeLogger
            self.registry = registry
            self.stdout = stdout
            self.store = store
            self.dispatcher = dispatcher
            self.groupCheckInterval = groupCheckInterval
            self.retentionInterval = retentionInterval
            self.shutdownGrace = shutdownGrace
            self.onServerRunning = onServerRunning
            self.inputs = inputs
        }
    }

    /// The configuration the services were made from.
    public let configuration: CertWatchConfiguration
    /// The clock every service schedules by.
    public let clock: any WallClock
    /// The store: SQLite's ``Store`` or ``PostgresStore``.
    public let store: any CertWatchStorage
    /// The Douyin client (its HTTP client is shut down by ``shutdown()``).
    public let client: DouyinClient
    /// Wakes event streams and the dispatcher when events commit.
    package let bus: EventBus
    /// Routes committed events through the rules, in each poll's transaction.
    package let outbox: Outbox
    /// Polls due watches.
    package let watcher: Watcher
    /// The merchant accounts' change feed and sweep.
    package let accounts: AccountMonitor
    /// Sends deliveries to the sinks.
    package let dispatcher: Dispatcher
    /// Sends group summaries when they are due.
    package let groupFlusher: GroupFlusher
    /// Prunes old history.
    package let retention: RetentionService
    /// This instance's heartbeat: membership among replicas, the QPS share (stops last, then leaves).
    package let heartbeat: ReplicaHeartbeat
    /// Reloads the rules on SIGHUP and file change.
    package let ruleReloader: RuleReloader
    /// Douyin's push intake at `/douyin/webhook` (nil when `push.enabled` is false).
    package let push: DouyinPushIntake?
    /// The HTTP API.
    package let api: CertWatchAPI
    /// The services in the group's list order (they stop in reverse), each with its name
    /// (`dispatcher`, `retention`, `group-flusher`, `rule-reloader`, `watcher`, `http-server`, then
    /// the inputs).
    public let services: [ServiceGroupConfiguration.ServiceConfiguration]
    /// The group. Its own signal lists are empty: ``run()`` handles the signals.
    public let group: ServiceGroup
    /// The Douyin client's HTTP client (the benchmarks send raw requests through it).
    public let douyinHTTP: HTTPClient
    let logger: Logger

    /// Opens the store ``CertWatchConfiguration/database`` names (SQLite or PostgreSQL, unless
    /// ``Options/store`` is set), then makes every service (``init(configuration:clock:options:)``).
    /// Throws what ``StorageLocation/open(logger:connectTimeout:)`` throws, and what `init` throws.
    package static func open(configuration: CertWatchConfiguration, clock: any WallClock = SystemWallClock(), options: Options = Options())
        async throws -> CertWatchServices
    {
        var options = options
        if options.store == nil {
            options.store = try await configuration.storage.open(logger: options.makeLogger("certwatch.storage"))
        }
        return try CertWatchServices(configuration: configuration, clock: clock, options: options)
    }

    /// Makes every service. Opens the store (unless ``Options/store``: a SQLite file; a PostgreSQL
    /// database needs ``open(configuration:clock:options:)``), loads the rules (the
    /// ``CertWatchConfiguration/rulePaths``) and creates the Douyin HTTP client; nothing runs yet.
    /// Throws when the database cannot be opened, a rule file does not check (``RuleLoadErrors``)
    /// or `http.listen` or a PostgreSQL `database` is malformed (``ConfigurationError``).
    package init(configuration: CertWatchConfiguration, clock: any WallClock = SystemWallClock(), options: Options = Options())
        throws
    {
        let makeLogger = options.makeLogger
        let logger = makeLogger("certwatch")
        let (host, port) = try Self.address(configuration.listen, location: configuration.file.location(of: "http.listen"))
        let store: any CertWatchStorage
        if let given = options.store {
            store = given
        } else {
            switch try configuration.storage {
            case .sqlite(let path): store = try Store(path: path)
            case .postgres(let location):
                throw ConfigurationError(
                    location: configuration.file.location(of: "database"), key: "database",
                    message: "\(location) is a PostgreSQL database: open it with CertWatchServices.open (async)")
            }
        }
        let rules = try Outbox.loadRules(paths: configuration.rulePaths, sinks: configuration.sinks, logger: makeLogger("certwatch.rules"))
        CertWatchMetrics.declare(sinks: configuration.sinks.map(\.name), pushEnabled: configuration.push.enabled)
        let douyinHTTP = DouyinClient.makeHTTPClient(configuration.douyin)
        let client = DouyinClient(
            configuration: configuration.douyin, httpClient: douyinHTTP, now: { Date(timeIntervalSince1970: clock.now()) },
            logger: makeLogger("certwatch.douyin"))
        let bus = EventBus()
        // Delivery: the outbox writes deliveries in each poll's transaction; the dispatcher sends them.
        let outbox = Outbox(rules: rules, clock: clock, logger: makeLogger("certwatch.outbox"))
        let dispatcher = Dispatcher(
            store: store, sinks: SinkFactory.make(configuration.sinks, stdout: options.stdout), clock: clock,
            configuration: options.dispatcher, bus: bus, logger: makeLogger("certwatch.dispatcher"))
        let watcher = Watcher(
            store: store, client: client, clock: clock, configuration: configuration.watcher,
            logger: makeLogger("certwatch.watcher"), onAppend: { bus.publish($0) }, route: outbox.router)
        let accounts = AccountMonitor(
            store: store, client: client, clock: clock, orderQPS: configuration.quotas.orderQuery,
            verifyRecordQPS: configuration.quotas.verifyRecordQuery, api: configuration.push.api,
            fileAccounts: configuration.accounts.accounts, route: outbox.router, onAppend: { bus.publish($0) },
            onHint: { watcher.hintTaken() }, logger: makeLogger("certwatch.accounts"))
        let push: DouyinPushIntake? =
            configuration.push.enabled
            ? DouyinPushIntake(
                clientSecret: configuration.douyin.clientSecret, autoRegister: configuration.push.autoRegister,
                api: configuration.push.api, store: store, clock: clock, policy: configuration.watcher.policy,
                onHint: { watcher.hintTaken() },
                logger: makeLogger("certwatch.push")) : nil
        var api = CertWatchAPI(
            store: store, clock: clock, policy: configuration.watcher.policy, apiKeys: configuration.apiKeys,
            bodyLimit: configuration.bodyLimit, bus: bus,
            registry: options.registry, watcher: watcher, openAPIDocument: OpenAPIDocument.text, push: push,
            dispatcher: dispatcher, outbox: outbox, console: configuration.console,
            accountsChanged: { accounts.accountsChanged() })
        api.listBudgets = [DouyinAPIKind.orderQuery: accounts.orderBudget, .verifyRecordQuery: accounts.verifyRecordBudget]
        let onServerRunning = options.onServerRunning
        let server = Application(
            responder: api.makeResponder(), configuration: .init(address: .hostname(host, port: port), serverName: "certwatch"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: makeLogger("certwatch.http"))
        let ruleReloader = RuleReloader(
            outbox: outbox, paths: configuration.rulePaths, sinks: configuration.sinks, logger: makeLogger("certwatch.rules"))
        let retention = RetentionService(
            store: store, policy: configuration.retention, clock: clock, interval: options.retentionInterval,
            logger: makeLogger("certwatch.retention"))
        let heartbeat = ReplicaHeartbeat(
            store: store, budget: watcher.budget, listBudgets: [accounts.orderBudget, accounts.verifyRecordBudget], clock: clock, interval: ReplicaHeartbeat.interval(requestTimeout: Double(client.requestTimeout.components.seconds)),
            logger: makeLogger("certwatch.replicas"))
        let groupFlusher = GroupFlusher(
            store: store, outbox: outbox, clock: clock, interval: options.groupCheckInterval, wake: { dispatcher.wakeUp() },
            logger: makeLogger("certwatch.groups"))

        // Reverse order of shutdown: what must stop last comes first.
        func named(_ service: any Service, _ name: String) -> ServiceGroupConfiguration.ServiceConfiguration {
            .init(service: service, failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: name)
        }
        let services =
            [
                named(heartbeat, "replica-heartbeat"), named(dispatcher, "dispatcher"), named(retention, "retention"), named(groupFlusher, "group-flusher"),
                named(ruleReloader, "rule-reloader"), named(watcher, "watcher"), named(accounts, "account-monitor"),
                named(server, "http-server"),
            ] + options.inputs
        var groupConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = options.shutdownGrace

        self.configuration = configuration
        self.clock = clock
        self.store = store
        self.client = client
        self.bus = bus
        self.outbox = outbox
        self.watcher = watcher
        self.accounts = accounts
        self.dispatcher = dispatcher
        self.groupFlusher = groupFlusher
        self.retention = retention
        self.heartbeat = heartbeat
        self.ruleReloader = ruleReloader
        self.push = push
        self.api = api
        self.services = services
        self.group = ServiceGroup(configuration: groupConfiguration)
        self.logger = logger
        self.douyinHTTP = douyinHTTP
    }

    /// The service names in the order graceful shutdown stops them (the reverse of ``services``).
    public var shutdownOrder: [String] { services.reversed().map(\.serviceName) }

    /// Releases what the services hold outside the group: the Douyin HTTP client and the sinks
    /// (the dispatcher releases its sinks when it stops; again is harmless). Call once, after the
    /// group has run, or instead of running it.
    public func shutdown() async throws {
        for sink in dispatcher.sinks.values { await sink.shutdown() }
        try await douyinHTTP.shutdown()
    }

    /// Splits `host:port` (`127.0.0.1:8787`). Throws ``ConfigurationError`` at `location` when malformed.
    static func address(_ text: String, location: String = "configuration") throws(ConfigurationError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
        else {
            throw ConfigurationError(location: location.isEmpty ? "configuration" : location, key: "http.listen", message: "expected host:port, found \(text.debugDescription)")
        }
        return (String(text[..<colon]), port)
    }
}
