import Foundation
import AsyncHTTPClient
import CertWatchCore
import DouyinOpenAPI
import Logging
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

    /// Runs until a shutdown signal. Throws when the database cannot be opened.
    public func run(logger: Logger = Logger(label: "certwatch")) async throws {
        let store = try Store(path: configuration.database)
        let httpClient = DouyinClient.makeHTTPClient(configuration.douyin)
        let client = DouyinClient(
            configuration: configuration.douyin, httpClient: httpClient, now: { [clock] in
                Date(timeIntervalSince1970: clock.now())
            }, logger: Logger(label: "certwatch.douyin"))
        let bus = EventBus()
        let watcher = Watcher(
            store: store, client: client, clock: clock, configuration: configuration.watcher,
            onAppend: { bus.publish($0) })
        // Every long-running part is a Service of this one group.
        let services: [any Service] = [watcher]
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
}


