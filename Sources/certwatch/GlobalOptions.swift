import ArgumentParser
import CertWatch
import Foundation
import Logging

/// Options shared by commands that read the configuration or open the database.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (YAML). Settings can also come from CERTWATCH_* environment variables.")
    var config: String?

    @Option(name: .long, help: "Database path (overrides `database` in the configuration; default ./certwatch.sqlite).")
    var db: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    /// Loads the configuration; a configuration error exits 1 with `file:line:col: key: message`.
    func loadConfiguration() throws -> CertWatchConfiguration {
        do {
            return try CertWatchConfiguration.load(path: config, database: db)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Opens the store named by the configuration.
    func openStore() throws -> Store {
        let configuration = try loadConfiguration()
        do {
            return try Store(path: configuration.database)
        } catch {
            throw ValidationError("cannot open database \(configuration.database): \(error)")
        }
    }

    /// Sets up swift-log once for the process.
    func bootstrapLogging() {
        LoggingBootstrap.bootstrap(format: logFormat, level: logLevel)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
