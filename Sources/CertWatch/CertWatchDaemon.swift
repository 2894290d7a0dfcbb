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
    /// leases an earlier process left (a crash mid-poll), so those watches are polled at once. On
    /// PostgreSQL (`database: postgres://…`) several instances may share the database: claims skip
    /// watches another one holds, and a dead instance's leases run out after the lease time.
    public func run(
        logger: Logger = Logger(label: "certwatch"), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) async throws {
        let storage = try configuration.storage
        // SQLite has one writer: one instance per file. PostgreSQL takes several (claims skip locked rows).
        let lock: InstanceLock? =
            if case .sqlite(let path) = storage, path != ":memory:" { try InstanceLock(database: path) } else { nil }
        defer { withExtendedLifetime(lock) {} }
        let services = try await CertWatchServices.open(
            configuration: configuration, clock: clock,
            options: .init(
                makeLogger: { label in label == "certwatch" ? logger : Logger(label: label) }, registry: registry,
                shutdownGrace: shutdownGrace))
        // Holding a SQLite database alone, the leases left are a dead process's. On PostgreSQL
        // another replica may hold them: they run out after the lease instead.
        let released = try await services.store.releaseOrphanedLeases()
        logger.info(
            "certwatch serving",
            metadata: [
                "database": "\(storage)", "douyin": "\(configuration.douyin.baseURL)",
                "leases_released": "\(released)",
            ])
        do {
            try await services.run()
        } catch {
            try? await services.shutdown()
            try? await services.store.close()
            throw error
        }
        try await services.shutdown()
        try await services.store.close()
        logger.info("certwatch stopped")
    }
}
