import Foundation
import AsyncHTTPClient
import CertWatchCore
import DouyinOpenAPI
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// `certwatch serve`: the services of one certwatch instance under one `ServiceGroup`.
///
/// SIGTERM or SIGINT starts a graceful shutdown: polls in flight finish (bounded by
/// ``shutdownGrace``, default 10 s), then the process exits 0; a second signal cancels at once.
public struct CertWatchDaemon: Sendable {
    /// The configuration.
    public var configuration: CertWatchConfiguration
    /// The clock (the system clock, or a scaled one in the demo).
    public var clock: any WallClock
    /// How long graceful shutdown may take before in-flight work is cancelled.
    public var shutdownGrace: Duration

    public init(configuration: CertWatchConfiguration, clock: any WallClock = SystemWallClock(), shutdownGrace: Duration = .seconds(10)) {
        self.configuration = configuration
        self.clock = clock
        self.shutdownGrace = shutdownGrace
    }

    /// Runs until a shutdown signal. Throws when the database cannot be opened or the listen
    /// address is malformed.
    public func run(
        logger: Logger = Logger(label: "certwatch"), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        let store = try Store(path: configuration.database)
        let httpClient = DouyinClient.makeHTTPClient(configuration.douyin)
        let client = DouyinClient(
            configuration: configuration.douyin, httpClient: httpClient, now: { [clock] in
                Date(timeIntervalSince1970: clock.now())
            }, logger: Logger(label: "certwatch.douyin"))
        let bus = EventBus()
        // Delivery: the outbox writes deliveries in each poll's transaction; the dispatcher sends them.
        let outbox = Outbox(
            rules: try Outbox.loadRules(paths: configuration.rulePaths, sinks: configuration.sinks, logger: logger), clock: clock)
        let dispatcher = Dispatcher(store: store, sinks: SinkFactory.make(configuration.sinks), clock: clock, bus: bus)
        let watcher = Watcher(
            store: store, client: client, clock: clock, configuration: configuration.watcher,
            onAppend: { bus.publish($0) }, afterAppend: outbox.afterAppend)
        let file = configuration.file
        let push: DouyinPushIntake? =
            try file.bool("push.enabled") ?? true
            ? DouyinPushIntake(
                clientSecret: configuration.douyin.clientSecret, autoRegister: try file.bool("push.auto_register") ?? false,
                api: try file.choice("push.api", as: CertificateAPI.self) ?? .compreRetail, store: store, clock: clock,
                policy: configuration.watcher.policy) : nil
        let api = CertWatchAPI(
            store: store, clock: clock, policy: configuration.watcher.policy, apiKeys: configuration.apiKeys,
            bus: bus, registry: registry, watcher: watcher, openAPIDocument: OpenAPIDocument.text, push: push,
            dispatcher: dispatcher)
        let (host, port) = try Self.address(configuration.listen)
        let server = Application(
            router: api.makeRouter(), configuration: .init(address: .hostname(host, port: port), serverName: "certwatch"),
            logger: Logger(label: "certwatch.http"))
        // Every long-running part is a Service of this one group.
        let reloader = RuleReloader(outbox: outbox, paths: configuration.rulePaths, sinks: configuration.sinks)
        let retention = RetentionService(store: store, policy: configuration.retention, clock: clock)
        let groups = GroupFlusher(store: store, outbox: outbox, clock: clock, wake: { dispatcher.wakeUp() })
        let services: [any Service] = [watcher, server, dispatcher, reloader, retention, groups]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = shutdownGrace
        let group = ServiceGroup(configuration: groupConfiguration)
        logger.info(
            "certwatch serving", metadata: ["database": "\(configuration.database)", "douyin": "\(configuration.douyin.baseURL)"])
        do {
            try await group.run()
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        logger.info("certwatch stopped")
    }

    /// Splits `host:port` (`127.0.0.1:8787`). Throws ``ConfigurationError`` when malformed.
    static func address(_ text: String) throws(ConfigurationError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
        else {
            throw ConfigurationError(location: "configuration", key: "http.listen", message: "expected host:port, found \(text.debugDescription)")
        }
        return (String(text[..<colon]), port)
    }
}
