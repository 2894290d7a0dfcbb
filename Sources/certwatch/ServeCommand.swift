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
        // What `config check` checks, before the database is opened (or created).
        let report = Preflight(configuration)
        let logger = Logger(label: "certwatch")
        // The missing rules/ directory is logged by the daemon itself, when it loads the rules.
        for warning in report.warnings where warning != Outbox.noRulesWarning { logger.warning("\(warning)") }
        guard report.errors.isEmpty else { throw CommandFailure(report.errors.joined(separator: "\n")) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await CertWatchDaemon(configuration: configuration).run(logger: logger, registry: registry)
    }
}
