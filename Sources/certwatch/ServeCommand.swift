import ArgumentParser
import CertWatch
import Logging
import Metrics
import Prometheus

/// `certwatch serve`: run the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run certwatch: poll watches, detect changes, record and deliver events, serve the HTTP API.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.bootstrapLogging()
        let configuration = try global.loadConfiguration()
        let warnings: [String]
        do {
            try configuration.requireCredentials()
            warnings = try configuration.checkTargets()
        } catch {
            throw CommandFailure("\(error)")
        }
        let logger = Logger(label: "certwatch")
        for warning in warnings { logger.warning("\(warning)") }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await CertWatchDaemon(configuration: configuration).run(logger: logger, registry: registry)
    }
}
