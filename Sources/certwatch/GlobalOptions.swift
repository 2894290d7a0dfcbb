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

    @Option(name: .long, help: "Log level.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "Log format: text or json.")
    var logFormat: LogFormat = .text

    /// Loads the configuration; a configuration error exits 1 with `file:line:col: key: message`.
    func loadConfiguration() throws -> CertWatchConfiguration {
        do {
            return try CertWatchConfiguration.load(path: config, database: db)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// Opens the store named by the configuration. Unless `creating` (commands that register
    /// watches), the database must exist: a read-only command never creates an empty one in the
    /// wrong directory; it exits 1 naming the path and how to point at the right one.
    func openStore(creating: Bool = false) throws -> Store {
        let configuration = try loadConfiguration()
        let path = configuration.database
        if !creating, path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            throw CommandFailure(
                "no database at \(absolute); point at yours with --config FILE (its `database`), --db PATH or CERTWATCH_DATABASE")
        }
        do {
            return try Store(path: path)
        } catch {
            throw CommandFailure("cannot open database \(path): \(error)")
        }
    }

    /// Sets up swift-log once for the process.
    func bootstrapLogging() {
        LoggingBootstrap.bootstrap(format: logFormat, level: logLevel)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
