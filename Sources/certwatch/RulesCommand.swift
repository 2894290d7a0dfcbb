import ArgumentParser
import CertWatch
import CertWatchBench
import CertWatchCore
import Foundation

/// `certwatch rules check|test`: validate rule files and run rule unit tests.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check rule files and run rule unit tests.",
        subcommands: [Check.self, Test.self, Bench.self]
    )

    /// The sink names a configuration file defines (the built-in `stdout` included).
    static func sinkNames(config path: String) throws -> Set<String> {
        do {
            return try CertWatchConfiguration.sinkNames(path: path)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    static func knownSinks(config: String?, sinks: String?) throws -> Set<String>? {
        var known: Set<String>?
        if let config { known = try sinkNames(config: config) }
        if let sinks {
            let names = sinks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            known = (known ?? []).union(names)
        }
        return known
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate rule files: syntax, keys, field paths, types, sink names, templates.",
            discussion: "Directories are read for *.yaml and *.yml (not recursively). Errors print as file:line:col: message; exit 1.")

        @Argument(help: "Rule files or directories (default: the configuration's rules.paths with --config, else rules/).")
        var paths: [String] = []

        @Option(help: "Configuration file whose sinks the rules may name (and whose rules.paths are checked when no paths are given).")
        var config: String?

        @Option(help: "Comma-separated sink names the rules may name (checked only when given).")
        var sinks: String?

        func run() throws {
            let known = try RulesCommand.knownSinks(config: config, sinks: sinks)
            var paths = self.paths
            if paths.isEmpty, let config {
                do { paths = try CertWatchConfiguration.rulePaths(path: config) } catch { throw CommandFailure("\(error)") }
            }
            if known == nil {
                FileHandle.standardError.write(Data("note: sink names not checked (give --config F or --sinks a,b)\n".utf8))
            }
            do {
                let set = try RuleSet.load(paths: paths.isEmpty ? ["rules"] : paths, knownSinks: known)
                let grouped = set.rules.filter { $0.group != nil }.count
                let templated = set.rules.filter { $0.template != nil }.count
                print("ok: \(set.files.count) file\(set.files.count == 1 ? "" : "s"), \(set.rules.count) rule\(set.rules.count == 1 ? "" : "s") (\(grouped) grouping, \(templated) with templates), default route: \(set.defaultSinks.isEmpty ? "none" : set.defaultSinks.joined(separator: ", "))")
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                FileHandle.standardError.write(Data("\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s")\n".utf8))
                throw ExitCode(1)
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run rule unit tests (given events or saved responses → expected deliveries per sink).")

        @Argument(help: "Rule test files (YAML).")
        var files: [String]

        func run() throws {
            var passed = 0, failed = 0, broken = 0
            for file in files {
                do {
                    for outcome in try RuleTestRunner.run(file: file) {
                        if outcome.passed {
                            passed += 1
                            print("ok    \(file): \(outcome.name)")
                        } else {
                            failed += 1
                            print("FAIL  \(outcome.position): \(outcome.name)")
                            for line in outcome.failures { print(line) }
                        }
                    }
                } catch {
                    broken += 1
                    print("ERROR \(file):")
                    print(error.description)
                }
            }
            print("\(passed) passed, \(failed) failed" + (broken > 0 ? ", \(broken) file\(broken == 1 ? "" : "s") could not load" : ""))
            if failed > 0 || broken > 0 { throw ExitCode(1) }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure rule evaluation throughput.", shouldDisplay: false)

        @Option(help: "Number of rules.")
        var rules: Int = 100

        @Option(help: "Number of events to route.")
        var events: Int = 20_000

        func run() {
            let result = RuleBenchmark.run(ruleCount: rules, events: events)
            if let error = result.loadError { print("benchmark rules did not load:\n\(error)") }
            print(String(format: "%d rules, %d events: %.0f events/s wall, %.0f events/s per CPU second (%.3f s, %d deliveries)", result.ruleCount, events, result.eventsPerSecond, result.eventsPerCPUSecond, result.seconds, result.deliveries))
        }
    }
}
