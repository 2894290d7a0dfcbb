import ArgumentParser
import CertWatchDemo
import Foundation

/// `certwatch demo`: the whole pipeline in one command.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole pipeline on a simulated pickup-store day: sandbox, watcher, rules, signed webhooks.",
        discussion: """
            No configuration or credentials needed. Events print as they are delivered; a summary follows \
            (events by type, Douyin API calls and errors, deliveries and retries, signatures verified).

            Every detector runs: the sandbox's pushes (券消息通知, some lost, repeated or late), and for the \
            scenario's merchant account the change feed (order query by update time, every 5 demo-minutes) \
            and the sweep (orders created and verify records, every 30 demo-minutes), besides routine polls. \
            The merchant backend registers every order but those labelled ...-unregistered (2 of 12 in the \
            shipped scenario); one of them is verified and cancelled in the same second, before any poll can \
            see it. The summary's table says, per event type, how many events push, feed, sweep and poll saw \
            first (detection latency p50/max), how many unregistered orders the feed and the sweep found, \
            and whether the cancelled verification's pair was delivered.
            """)

    @Option(help: "Real seconds the simulated day takes.") var duration: Double = 40
    @Option(help: "Seed for the sandbox's data and faults (a run is reproducible in its decisions).") var seed: UInt64 = 42
    @Option(
        help: """
            Fault profile: demo, none, busy30, flaky, token-chaos, rate-limited, wild, or a YAML file. \
            wild: most answers in Douyin's drifted shapes (ids, amounts, status as strings, "error_code":"0", \
            millisecond times, unknown fields, errors only in data, odd descriptive types, a trailing newline) \
            meaning the same state: the same seed detects the same events as none.
            """) var faults = "demo"
    @Flag(help: "Keep running after the day (Ctrl-C to stop).") var keepRunning = false
    @Option(help: "Keep the database at this path (default: temporary).") var db: String?
    @Option(help: "Scenario file.") var scenario = "deploy/sandbox/scenarios/pickup-store-day.yaml"
    @Option(help: "Rule files or directories (repeatable).") var rules: [String] = ["rules/"]
    @Option(help: "Output: text (readable lines) or json (CloudEvents JSON lines; summary on stderr).") var format: Demo.Format = .text

    func run() async throws {
        let demo = Demo(
            duration: duration, seed: seed, faults: faults, keepRunning: keepRunning, databasePath: db, scenarioPath: scenario,
            rulePaths: rules, format: format)
        if format == .text {
            FileHandle.standardOutput.write(
                Data("certwatch demo: a pickup store's day in \(Int(duration)) s — sandbox, watcher, rules, stdout and a signed webhook\n".utf8))
        }
        let summary: DemoSummary
        do {
            summary = try await demo.run { line in
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        } catch let error as DemoError {
            throw CommandFailure(error.message)
        }
        switch format {
        case .text: print(summary.text)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            FileHandle.standardError.write(try encoder.encode(summary) + Data("\n".utf8))
        }
    }
}

extension Demo.Format: ExpressibleByArgument {}
