import ArgumentParser
import CertWatch
import Logging

/// `certwatch serve`: run the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run certwatch: poll watches, detect changes, record events.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        global.bootstrapLogging()
        let configuration = try global.loadConfiguration()
        do {
            try configuration.requireCredentials()
        } catch {
            throw ValidationError("\(error)")
        }
        try await CertWatchDaemon(configuration: configuration).run()
    }
}
