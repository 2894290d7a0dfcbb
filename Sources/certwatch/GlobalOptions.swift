import ArgumentParser
import CertWatch
import Foundation
import Logging

/// Options shared by commands that read the configuration or open the database.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (YAML). Settings can also come from CERTWATCH_* environment variables.")
    var config: String?

    @Option(name: .long, help: "SQLite file or postgres://USER@HOST:PORT/DB URL (overrides `database` in the configuration; default ./certwatch.sqlite).")
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

    /// Opens the store named by the configuration: a SQLite file or a PostgreSQL database. Unless
    /// `creating` (commands that register watches), a SQLite database must exist: a read-only
    /// command never creates an empty one in the wrong directory; it exits 1 naming the path and
    /// how to point at the right one. A PostgreSQL database that cannot be reached exits 1 naming it.
    func openStore(creating: Bool = false) async throws -> any CertWatchStorage {
        let configuration = try loadConfiguration()
        let storage: StorageLocation
        do {
            storage = try configuration.storage
        } catch {
            throw CommandFailure("\(error)")
        }
        if case .sqlite(let path) = storage, !creating, path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            throw CommandFailure(
                "no database at \(absolute); point at yours with --config FILE (its `database`), --db PATH or CERTWATCH_DATABASE")
        }
        do {
            return try await storage.open()
        } catch let error as PostgresStoreError {
            throw CommandFailure("\(error)")  // names the database already
        } catch {
            throw CommandFailure("cannot open database \(storage): \(error)")
        }
    }

    /// Sets up swift-log once for the process.
    func bootstrapLogging() {
        LoggingBootstrap.bootstrap(format: logFormat, level: logLevel)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
