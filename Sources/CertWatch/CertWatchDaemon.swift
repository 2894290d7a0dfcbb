import CertWatchCore
import Logging
import Prometheus

/// `certwatch serve`: the services of one certwatch instance (``CertWatchServices``) under one
/// `ServiceGroup`.
///
/// SIGTERM or SIGINT starts a graceful shutdown: the HTTP server stops accepting, the polls in
/// flight finish and commit their events and deliveries, then the dispatcher records its
/// deliveries in flight and stops; the process exits 0. A second SIGTERM or SIGINT, or a graceful
/// shutdown longer than ``shutdownGrace`` (default 10 s), cancels every service at once.
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

    /// Runs until a shutdown signal. Throws when the database cannot be opened, a rule file does not
    /// check, the listen address is malformed or a service fails.
    ///
    /// One instance per SQLite database (``InstanceLock``): a second `serve` on the same database
    /// throws ``InstanceLock/Held`` naming the holder. Holding the database alone, it ends the watch
    /// leases an earlier process left (a crash mid-poll), so those watches are polled at once.
    public func run(
        logger: Logger = Logger(label: "certwatch"), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        let lock = configuration.database == ":memory:" ? nil : try InstanceLock(database: configuration.database)
        defer { withExtendedLifetime(lock) {} }
        let services = try CertWatchServices(
            configuration: configuration, clock: clock,
            options: .init(
                makeLogger: { label in label == "certwatch" ? logger : Logger(label: label) }, registry: registry,
                shutdownGrace: shutdownGrace))
        let released = try await services.store.releaseAllLeases()
        logger.info(
            "certwatch serving",
            metadata: [
                "database": "\(configuration.database)", "douyin": "\(configuration.douyin.baseURL)",
                "leases_released": "\(released)",
            ])
        do {
            try await services.run()
        } catch {
            try? await services.shutdown()
            throw error
        }
        try await services.shutdown()
        logger.info("certwatch stopped")
    }
}
