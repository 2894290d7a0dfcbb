import ArgumentParser
import CertWatch
import Foundation

/// `certwatch sinks list|enable|disable`.
struct SinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinks", abstract: "Show sinks; re-enable a sink disabled by a 410 Gone or a refused target.",
        subcommands: [List.self, Enable.self, Disable.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List configured sinks with their delivery counts.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let configuration = try global.loadConfiguration()
            let deliveries = try await global.openStore()
            let disabled = try await deliveries.disabledSinks()
            let counts = try await deliveries.deliveryCounts()
            let names = Set(configuration.sinks.map(\.name)).union(counts.keys).sorted()
            let rows = names.map { name -> [String] in
                let sink = configuration.sinks.first { $0.name == name }
                let count = counts[name] ?? [:]
                return [name, sink.map { $0.kind.rawValue } ?? "(not configured)", disabled[name] == nil ? "enabled" : "disabled"]
                    + [DeliveryState.pending, .retrying, .delivered, .dead, .cancelled].map { String(count[$0] ?? 0) }
                    + [disabled[name]?.reason ?? ""]
            }
            print(
                TextTable(
                    header: ["sink", "type", "state", "pending", "retrying", "delivered", "dead", "cancelled", "disabled_because"],
                    rows: rows
                ).rendered)
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-enable a sink; its waiting deliveries are attempted at once (by the running serve).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sink name.") var sink: String

        func run() async throws {
            try requireConfigured(sink, global)
            let deliveries = try await global.openStore()
            let wasDisabled = try await deliveries.enableSink(sink, now: Date().timeIntervalSince1970)
            print(wasDisabled ? "enabled \(sink)" : "\(sink) was not disabled")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a sink by hand; its deliveries wait.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The sink name.") var sink: String
        @Option(help: "Why (shown by `sinks list`).") var reason = "disabled by an operator"

        func run() async throws {
            try requireConfigured(sink, global)
            let deliveries = try await global.openStore()
            try await deliveries.disableSink(sink, reason: reason, now: Date().timeIntervalSince1970)
            print("disabled \(sink)")
        }
    }
}

/// Fails unless `sink` is configured (a typo would otherwise disable or enable nothing, silently).
private func requireConfigured(_ sink: String, _ global: GlobalOptions) throws {
    let names = try global.loadConfiguration().sinks.map(\.name)
    guard names.contains(sink) else {
        throw CommandFailure("no sink \(sink) in the configuration; configured: \(names.sorted().joined(separator: ", "))")
    }
}
