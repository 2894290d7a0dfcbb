import ArgumentParser
import Foundation
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
        let report = ConfigCommand.Check.check(configuration)
        let logger = Logger(label: "certwatch")
        for warning in report.warnings { logger.warning("\(warning)") }
        guard report.errors.isEmpty else {
            for error in report.errors.dropLast() { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
            throw CommandFailure(report.errors.last!)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await CertWatchDaemon(configuration: configuration).run(logger: logger, registry: registry)
    }
}
