import ArgumentParser
import CertWatch
import CertWatchCore
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
            let report = Self.check(configuration)
            for warning in report.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            guard report.errors.isEmpty else {
                for error in report.errors.dropLast() { FileHandle.standardError.write(Data("error: \(error)\n".utf8)) }
                throw CommandFailure(report.errors.last!)
            }
            let source = configuration.sourcePath.isEmpty ? "(no file: defaults and CERTWATCH_* variables)" : configuration.sourcePath
            print("configuration OK: \(source)")
            switch try? configuration.storage {
            case .postgres(let location)?: print("  database  \(location) (PostgreSQL)")
            default: print("  database  \(URL(fileURLWithPath: configuration.database).standardizedFileURL.path)")
            }
            print("  douyin    \(configuration.douyin.baseURL) (credentials set)")
            print("  listen    \(configuration.listen)")
            print("  sinks     \(configuration.sinks.map(\.description).joined(separator: "; "))")
            print("  rules     \(report.rules) rule\(report.rules == 1 ? "" : "s") from \(configuration.rulePaths.joined(separator: ", "))")
        }

        /// Every problem `serve` stops at (errors) or logs (warnings), and how many rules load: `serve`
        /// runs this same check before it opens the database.
        static func check(_ configuration: CertWatchConfiguration) -> (errors: [String], warnings: [String], rules: Int) {
            var errors: [String] = []
            var warnings: [String] = []
            do { try configuration.requireCredentials() } catch { errors.append("\(error)") }
            do { warnings += try configuration.checkTargets() } catch { errors.append("\(error)") }
            var rules = 0
            let paths = configuration.rulePaths
            let absent = paths.filter { !FileManager.default.fileExists(atPath: $0) }
            if !configuration.file.contains("rules.paths"), paths == ["rules/"], !absent.isEmpty {
                warnings.append("no rules/ directory here and no rules.paths: events are recorded but not delivered")
            } else if !absent.isEmpty {
                errors.append(
                    "\(configuration.file.location(of: "rules.paths")): rules.paths: no such file or directory: "
                        + absent.joined(separator: ", "))
            } else {
                do {
                    rules = try RuleSet.load(paths: paths, knownSinks: Set(configuration.sinks.map(\.name))).rules.count
                } catch {
                    errors += error.diagnostics.map(\.description)
                }
            }
            return (errors, warnings, rules)
        }
    }
}
