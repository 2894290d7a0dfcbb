import ArgumentParser
import CertWatch
import CertWatchBench
import CertWatchCore
import Foundation
import Logging

/// `certwatch deliveries list|show|replay` (and the hidden `bench`).
struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries", abstract: "Inspect deliveries, dead letters and attempts; replay them.",
        subcommands: [List.self, Show.self, Replay.self, Backfill.self, Bench.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this state: pending, retrying, delivered, dead, cancelled.") var state: DeliveryState?
        @Option(help: "Only this sink.") var sink: String?
        @Option(help: "At most this many.") var limit = 100

        func run() async throws {
            let deliveries = try await global.openStore()
            let rows = try await deliveries.deliveries(state: state, sink: sink, limit: limit).map { delivery in
                [
                    String(delivery.id), delivery.sink, delivery.state.rawValue, String(delivery.attempts),
                    delivery.nextAttemptAt.map { delivery.state.isOpen ? UnixTime.rfc3339(Int64($0)) : "-" } ?? "-",
                    delivery.eventType, delivery.subject, delivery.eventID,
                    delivery.lastStatus.map(String.init) ?? "-", delivery.lastError ?? "",
                ]
            }
            print(
                TextTable(
                    header: ["id", "sink", "state", "attempts", "next_attempt", "type", "certificate_id", "event_id", "status", "error"],
                    rows: rows
                ).rendered)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one delivery and its attempts.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The delivery id.") var id: Int64

        func run() async throws {
            let deliveries = try await global.openStore()
            guard let delivery = try await deliveries.delivery(id: id) else { throw CommandFailure("no delivery \(id)") }
            print("delivery \(delivery.id): \(delivery.state.rawValue), \(delivery.attempts) attempt(s), sink \(delivery.sink), event \(delivery.eventID) (\(delivery.eventType), certificate \(delivery.subject))")
            let rows = try await deliveries.deliveryAttempts(deliveryID: id).map { attempt in
                [
                    String(attempt.number), UnixTime.rfc3339(Int64(attempt.startedAt)), String(format: "%.0fms", attempt.duration * 1000),
                    attempt.status.map(String.init) ?? "-", attempt.outcome.rawValue, attempt.error ?? "",
                    (attempt.response ?? "").prefix(80).replacingOccurrences(of: "\n", with: " "),
                ]
            }
            print(TextTable(header: ["#", "started", "took", "status", "then", "error", "response"], rows: rows).rendered)
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay one delivery, or every dead/cancelled delivery of a sink since a time.",
            discussion: """
                certwatch deliveries replay 42
                certwatch deliveries replay --sink erp --since 2024-12-14T00:00:00+08:00
                certwatch deliveries replay --sink erp --since 6h
                A replayed delivery is sent again with the same webhook-id (the event id). A running serve picks it up within a second.
                A pending or retrying delivery is retried now (after fixing a sink's configuration, say), keeping its attempt count.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The delivery id.") var id: Int64?
        @Option(help: "Replay this sink's dead and cancelled deliveries.") var sink: String?
        @Option(help: "Since: an RFC 3339 time, Unix seconds, or a duration ago (6h, 2d).") var since: String?

        func validate() throws {
            if id == nil && since == nil { throw ValidationError("give a delivery id, or --since (with --sink)") }
            if id != nil && (sink != nil || since != nil) { throw ValidationError("give either an id or --sink/--since") }
            if let since, Self.time(since, now: 0) == nil {
                throw ValidationError("--since: expected an RFC 3339 time, Unix seconds or a duration like 6h, got \(since.debugDescription)")
            }
        }

        func run() async throws {
            let deliveries = try await global.openStore()
            let now = Date().timeIntervalSince1970
            if let id {
                guard let state = try await deliveries.replayDelivery(id: id, now: now) else {
                    throw CommandFailure("no delivery \(id) (see `certwatch deliveries list`)")
                }
                if state.isOpen {
                    print("delivery \(id) was \(state.rawValue): retrying now")
                } else {
                    print("replaying delivery \(id) (was \(state.rawValue))")
                }
                return
            }
            guard let since, let time = Self.time(since, now: now) else { return }  // validate() checked it
            if let sink {
                let names = Set(try global.loadConfiguration().sinks.map(\.name))
                guard names.contains(sink) else {
                    throw CommandFailure("no sink \(sink); configured: \(names.sorted().joined(separator: ", "))")
                }
            }
            let count = try await deliveries.replayDeliveries(sink: sink, since: time, now: now)
            print("replaying \(count) deliver\(count == 1 ? "y" : "ies")")
        }

        static func time(_ text: String, now: Double) -> Double? { BackfillRequest.time(text, now: now) }
    }

    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a sink the stored events of a window, routed by the rules as they are now.",
            discussion: """
                certwatch deliveries backfill --sink audit --since 7d
                certwatch deliveries backfill --sink erp --since 2024-12-14T00:00:00+08:00 --type certificate.verified --dry-run
                Runs the events whose time is in the window through the rule files (rules.paths) and creates a delivery,
                due now, for each event a rule sends to the sink and the sink has no delivery of yet (a dead one: use
                `deliveries replay`). Events a group: rule collects are counted, not backfilled. A running serve sends the
                new deliveries within a second; so does the next serve. POST /v1/sinks/{name}/backfill does the same
                with the rules serve has loaded.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The sink to backfill (configured in sinks).") var sink: String
        @Option(help: "Since: an RFC 3339 time, Unix seconds, or a duration ago (1h, 7d).") var since: String
        @Option(help: "Only events of this type.") var type: String?
        @Option(help: "Only events of this order.") var orderID: String?
        @Flag(help: "Count what would be created; write nothing.") var dryRun = false

        func validate() throws {
            if BackfillRequest.time(since, now: 0) == nil {
                throw ValidationError("--since: expected an RFC 3339 time, Unix seconds or a duration like 7d, got \(since.debugDescription)")
            }
            if let type, EventType(rawValue: type) == nil {
                throw ValidationError("--type: unknown event type \(type.debugDescription); one of \(EventType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let orderID, !WatchRegistration.isDouyinID(orderID) {
                throw ValidationError("--order-id: " + WatchRegistration.orderIDMessage(orderID))
            }
        }

        func run() async throws {
            global.bootstrapLogging()
            let configuration = try global.loadConfiguration()
            let names = Set(configuration.sinks.map(\.name))
            guard names.contains(sink) else {
                throw CommandFailure("no sink \(sink); configured: \(names.sorted().joined(separator: ", "))")
            }
            let rules: RuleSet
            do {
                rules = try Outbox.loadRules(paths: configuration.rulePaths, sinks: configuration.sinks, logger: Logger(label: "certwatch.rules"))
            } catch {
                throw CommandFailure("\(error)")
            }
            let store = try await global.openStore()
            let now = Date().timeIntervalSince1970
            guard let start = BackfillRequest.time(since, now: now) else { return }  // validate() checked it
            let request = BackfillRequest(
                sink: sink, since: Int64(start), type: type.flatMap(EventType.init(rawValue:)), orderID: orderID, dryRun: dryRun)
            let report = try await Outbox(rules: rules).backfill(request, store: store, now: now)
            try await store.close()
            print(report.summary)
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure deliveries/s through the durable outbox next to raw POSTs/s (local receiver).",
            shouldDisplay: false)
        @Option(help: "Deliveries.") var count = 2000
        @Option(help: "In flight.") var concurrency = 8

        func run() async throws {
            LoggingBootstrap.bootstrap(format: .text, level: .error)
            print(try await DeliveryBenchmark.run(count: count, concurrency: concurrency))
        }
    }
}

extension DeliveryState: ExpressibleByArgument {}
