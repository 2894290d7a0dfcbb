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
        do {
            try configuration.requireCredentials()
        } catch {
            throw CommandFailure("\(error)")
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await CertWatchDaemon(configuration: configuration).run(registry: registry)
    }
}
