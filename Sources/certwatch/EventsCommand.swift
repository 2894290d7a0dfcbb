import ArgumentParser
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation

/// `certwatch events list|tail`.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Read the event log.", subcommands: [List.self, Tail.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events, oldest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only events after this sequence.") var after: Int64 = 0
        @Option(help: "Only events of this type (e.g. certificate.verified).") var type: EventType?
        @Option(help: "Only events of this order.") var orderId: String?
        @Option(help: "At most this many.") var limit: Int = 100
        @Option(help: "Output format: table or json (JSON lines, CloudEvents).") var format: OutputFormat = .table

        /// The table's columns (see ``row(_:)``).
        static let header = ["sequence", "time", "type", "subject", "order_id", "detail"]

        func validate() throws {
            if let orderId, !WatchRegistration.isDouyinID(orderId) {
                throw ValidationError("--order-id: " + WatchRegistration.orderIDMessage(orderId))
            }
        }

        func run() async throws {
            let store = try await global.openStore()
            let events = try await store.events(after: after, type: type, orderID: orderId, limit: limit)
            switch format {
            case .json: for event in events { print(String(decoding: event.jsonData(), as: UTF8.self)) }
            case .table:
                print(
                    TextTable(header: Self.header, rows: events.map(row))
                        .rendered)
            }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as JSON lines; with -f keep following new events as they commit.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .shortAndLong, help: "Follow: wait for new events.") var follow = false
        @Option(help: "Start after this sequence (resume). Default: the last 10 events.") var after: Int64?
        @Option(help: "How often to look for new events when following, seconds.") var interval: Double = 0.5

        func run() async throws {
            let store = try await global.openStore()
            var cursor: Int64
            if let after { cursor = after } else { cursor = max(0, try await store.lastSequence() - 10) }
            while true {
                let events = try await store.events(after: cursor, type: nil, orderID: nil, limit: 500)
                for event in events {
                    FileHandle.standardOutput.write(event.jsonData() + Data("\n".utf8))
                    cursor = event.sequence ?? cursor
                }
                if events.count == 500 { continue }
                guard follow else { return }
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }
    }
}

/// A table row for an event: sequence, time, type, subject (the certificate_id, or for `watch.*`
/// events the order id the watch watches), order_id, detail.
func row(_ event: CertWatchEvent) -> [String] {
    var detail: [String] = []
    if let verification = event.data.verification {
        detail.append("verify_id=\(verification.verifyID)")
        if let poi = verification.poiID { detail.append("poi_id=\(poi)") }
    }
    if let use = event.data.use { detail.append("use=\(use.number)/\(use.timesCount)") }
    for change in event.data.changes {
        detail.append("\(change.field): \(change.before.compactText) → \(change.after.compactText)")
    }
    if let error = event.data.error {
        detail.append("code=\(error.code.map(String.init) ?? "-") logid=\(error.logid ?? "-")")
        if let description = error.description { detail.append(description.debugDescription) }
    }
    let watch = event.data.watch
    let order = watch.orderID ?? watch.encryptedCode ?? "-"
    // A certificate event's subject is its certificate_id; a watch event's is the watch id, which
    // says little to an operator: show what the watch watches, and the watch id in the detail.
    let subject: String
    if event.type.isWatchEvent {
        subject = watch.orderID.map { "order \($0)" } ?? watch.encryptedCode.map { "code \($0)" } ?? event.subject
        detail.insert("watch=\(event.subject)", at: 0)
    } else {
        subject = event.subject
    }
    return [
        event.sequence.map(String.init) ?? "-", UnixTime.rfc3339(event.time), event.type.rawValue, subject, order,
        detail.joined(separator: " "),
    ]
}

extension JSONValue {
    /// Compact JSON text.
    var compactText: String { String(decoding: encoded(), as: UTF8.self) }
}

extension EventType: ExpressibleByArgument {}
