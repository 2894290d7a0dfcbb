import ArgumentParser
import CertWatch
import Foundation

/// `certwatch config check`: what `serve` checks before it starts, without starting.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check everything serve checks at start, without starting (like promtool check config).",
            discussion: """
                Checks the file (keys, values, ${VAR}s, CERTWATCH_* overrides), the Douyin credentials and API keys,
                every HTTP sink's target (resolved now, through the same guard as each delivery: a loopback or private
                address needs allow_private: true) and the rule files (against the configured sinks).
                Prints a summary and exits 0, or prints every problem as `error: file:line:col: key: message` and exits 1.
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let configuration = try global.loadConfiguration()
            let report = Preflight(configuration)
            for warning in report.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            guard report.errors.isEmpty else { throw CommandFailure(report.errors.joined(separator: "\n")) }
            let source = configuration.sourcePath.isEmpty ? "(no file: defaults and CERTWATCH_* variables)" : configuration.sourcePath
            print("configuration OK: \(source)")
            switch try? configuration.storage {
            case .postgres(let location)?: print("  database  \(location) (PostgreSQL)")
            default: print("  database  \(URL(fileURLWithPath: configuration.database).standardizedFileURL.path)")
            }
            print("  douyin    \(configuration.douyin.baseURL) (credentials set)")
            print("  listen    \(configuration.listen)")
            print("  sinks     \(configuration.sinks.map(\.description).joined(separator: "; "))")
            print("  rules     \(report.ruleCount) rule\(report.ruleCount == 1 ? "" : "s") from \(configuration.rulePaths.joined(separator: ", "))")
        }
    }
}
