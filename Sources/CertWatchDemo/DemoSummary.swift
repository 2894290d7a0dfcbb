import CertWatch
import CertWatchCore
import DouyinSandbox
import Foundation

/// What a demo run did, counted from the store, the outbox and the sandbox's request log.
package struct DemoSummary: Sendable, Codable {
    /// Events by type.
    package var eventsByType: [String: Int]
    /// Douyin API requests (certificate query, order query, verify records; not the token) by
    /// outcome (`ok`; `drift`, answered correctly in Douyin's drifted shapes by the `wild` profile;
    /// `latency`; or the error code / HTTP status).
    package var apiCalls: [String: Int]
    /// The same requests by API (`certificate_query`, `order_query`, `verify_record_query`).
    package var apiCallsByAPI: [String: Int]
    /// Deliveries by sink and state.
    package var deliveries: [String: [String: Int]]
    /// Attempts beyond the first, by sink.
    package var retries: [String: Int]
    /// Webhook deliveries whose Standard Webhooks signature the receiver verified.
    package var signaturesVerified: Int
    /// Webhook requests the receiver got.
    package var webhookRequests: Int
    /// Sandbox seconds per real second.
    package var speed: Double
    /// The database kept, if any.
    package var databasePath: String?
    /// Per event type, which detector first saw its events (``DetectionRow``).
    package var detection: [String: DetectionRow]
    /// The orders the demo's backend never registered and who found them (``UnregisteredOrders``).
    package var unregistered: UnregisteredOrders
    /// The verifications cancelled before any poll saw them (``CancelledBeforePoll``).
    package var cancelledBeforePoll: CancelledBeforePoll
    /// The merchant accounts' detectors: `feed` and `sweep` interval (sandbox seconds) and runs.
    package var accountDetectors: [String: AccountDetectorRuns]
    /// The sandbox's pushes: `changes` pushed, `lost` by the fault profile, and the intake's answers
    /// (`2xx`, a status, `error`).
    package var pushes: [String: Int]

    enum CodingKeys: String, CodingKey {
        case eventsByType = "events_by_type", apiCalls = "api_calls", apiCallsByAPI = "api_calls_by_api", deliveries, retries
        case signaturesVerified = "signatures_verified", webhookRequests = "webhook_requests", speed
        case databasePath = "database", detection, unregistered, cancelledBeforePoll = "cancelled_before_poll"
        case accountDetectors = "account_detectors", pushes
    }

    /// The detectors, in the table's order (fastest first, the poll last).
    package static let detectors: [Detection] = [.push, .feed, .sweep, .poll]

    /// How the events of one event type were first seen, by detector (`push`, `feed`, `sweep`,
    /// `poll`; an event without a recorded detection counts as `poll`). Detection latency = the
    /// event's time (when the poll that found it, or the sweep, committed) minus the sandbox's time
    /// of the change, in sandbox seconds; known for the changes the sandbox pushes (verifications,
    /// times-card uses, verify cancels, refunds), `nil` for the other types.
    package struct DetectionRow: Sendable, Codable, Hashable {
        /// Per detector (its raw value).
        package var byDetector: [String: Cell] = [:]

        enum CodingKeys: String, CodingKey { case byDetector = "by_detector" }

        /// One detector's share of an event type.
        package struct Cell: Sendable, Codable, Hashable {
            /// Events it saw first.
            package var count: Int = 0
            /// Median detection latency, seconds (`nil`: none known).
            package var p50: Int64?
            /// Longest detection latency, seconds.
            package var max: Int64?

            enum CodingKeys: String, CodingKey { case count, p50 = "p50_s", max = "max_s" }
        }

        /// The events of the type, all detectors together.
        package var total: Int { byDetector.values.map(\.count).reduce(0, +) }

        /// The cell of `detector` (zero when it saw none).
        package subscript(detector: Detection) -> Cell { byDetector[detector.rawValue] ?? Cell() }
    }

    /// The orders the demo's backend never registered (``Demo/isUnregistered(label:)``): how many,
    /// and how many of them the feed and the sweep registered (watch label `source`).
    package struct UnregisteredOrders: Sendable, Codable, Hashable {
        /// Orders the backend never registered.
        package var orders: Int = 0
        /// Of those, registered by the change feed.
        package var byFeed: Int = 0
        /// Of those, registered by the sweep.
        package var bySweep: Int = 0
        /// Their `certificate.verified` events.
        package var verifications: Int = 0

        enum CodingKeys: String, CodingKey { case orders, byFeed = "by_feed", bySweep = "by_sweep", verifications }
    }

    /// Verifications cancelled before any poll saw them: the sweep's `certificate.verify_cancelled`
    /// events from Douyin's verify records, each with its `certificate.verified`.
    package struct CancelledBeforePoll: Sendable, Codable, Hashable {
        /// Pairs (verify_cancelled detected by the sweep).
        package var pairs: Int = 0
        /// Pairs whose two events were both delivered to the `webhook` sink.
        package var delivered: Int = 0
    }

    /// A merchant account detector's interval and runs (summed over the accounts).
    package struct AccountDetectorRuns: Sendable, Codable, Hashable {
        /// Seconds between runs, sandbox time.
        package var interval: Int64
        /// Runs in the day.
        package var runs: Int64
    }

    /// The push action announcing each event type (the sandbox pushes these three actions).
    static let pushActions: [String: String] = [
        "certificate.verified": "verify", "certificate.times_card_used": "verify",
        "certificate.verify_cancelled": "verify_cancel", "certificate.refunded": "refund_success",
    ]

    /// Counts every event by type and by the detector that first saw it, and matches each event of
    /// a pushable type to the earliest unmatched sandbox change of its certificate and action at or
    /// before the event for its latency. A `certificate.verified` and a `certificate.times_card_used`
    /// of the same use share its change.
    static func detectionTable(events: [EventDetection], changes: [SandboxPush]) -> [String: DetectionRow] {
        var counts: [String: [String: Int]] = [:]
        var latencies: [String: [String: [Int64]]] = [:]
        var used: [String: Set<Int>] = [:]  // event type → indexes of changes already matched
        for event in events {
            let detector = (event.detectedBy ?? .poll).rawValue
            counts[event.type, default: [:]][detector, default: 0] += 1
            guard let action = pushActions[event.type] else { continue }
            guard
                let index = changes.indices.first(where: {
                    changes[$0].certificateID == event.subject && changes[$0].action == action
                        && changes[$0].changedAt <= event.time && !(used[event.type]?.contains($0) ?? false)
                })
            else { continue }
            used[event.type, default: []].insert(index)
            latencies[event.type, default: [:]][detector, default: []].append(event.time - changes[index].changedAt)
        }
        var table: [String: DetectionRow] = [:]
        for (type, byDetector) in counts {
            var row = DetectionRow()
            for (detector, count) in byDetector {
                let values = latencies[type]?[detector] ?? []
                row.byDetector[detector] = DetectionRow.Cell(count: count, p50: median(values), max: values.max())
            }
            table[type] = row
        }
        return table
    }

    /// The lower median, or `nil` for none.
    static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        return values.sorted()[(values.count - 1) / 2]
    }

    static func collect(
        store: Store, dispatcher: Dispatcher, sandbox: DouyinSandbox, signaturesVerified: Int, received: Int, speed: Double,
        databasePath: String?, pushes intakeAnswers: [String: Int] = [:], accounts settings: [AccountSettings] = []
    ) async throws -> DemoSummary {
        let eventsByType = try await store.eventCountsByType()
        var apiCalls: [String: Int] = [:]
        var apiCallsByAPI: [String: Int] = [:]
        for entry in await sandbox.requests(limit: 1_000_000) {
            guard let api = entry.api else { continue }
            apiCallsByAPI[api.rawValue, default: 0] += 1
            let key: String
            if let code = entry.errorCode, code != 0 {
                key = "\(code)"
            } else if entry.httpStatus >= 300 {
                key = "HTTP \(entry.httpStatus)"
            } else if let fault = entry.fault {
                key = fault
            } else {
                key = "ok"
            }
            apiCalls[key, default: 0] += 1
        }
        var deliveries: [String: [String: Int]] = [:]
        for (sink, states) in try await store.deliveryCounts() {
            deliveries[sink] = Dictionary(uniqueKeysWithValues: states.map { ($0.key.rawValue, $0.value) })
        }
        var retries: [String: Int] = [:]
        let allDeliveries = try await store.deliveries(limit: 1_000_000)
        for delivery in allDeliveries {
            retries[delivery.sink, default: 0] += max(delivery.attempts - 1, 0)
        }
        let changes = await sandbox.pushLog()
        let detections = try await store.detections()
        var pushes = intakeAnswers
        pushes["changes"] = changes.count
        pushes["lost"] = changes.filter(\.lost).count
        let events = try await store.events(limit: 1_000_000)
        var accountDetectors: [String: AccountDetectorRuns] = [:]
        let stored = try await store.accounts()
        for detector in AccountDetector.allCases {
            let intervals = settings.map { detector == .feed ? $0.feed.interval : $0.sweep.interval }
            guard let interval = intervals.min() else { continue }
            accountDetectors[detector.rawValue] = AccountDetectorRuns(
                interval: interval, runs: stored.map { $0.state(of: detector).runs }.reduce(0, +))
        }
        return DemoSummary(
            eventsByType: eventsByType, apiCalls: apiCalls, apiCallsByAPI: apiCallsByAPI, deliveries: deliveries, retries: retries,
            signaturesVerified: signaturesVerified, webhookRequests: received, speed: speed, databasePath: databasePath,
            detection: detectionTable(events: detections, changes: changes),
            unregistered: try await unregisteredOrders(sandbox: sandbox, store: store, events: events),
            cancelledBeforePoll: cancelledBeforePoll(events: events, deliveries: allDeliveries),
            accountDetectors: accountDetectors, pushes: pushes)
    }

    /// The orders ``Demo/isUnregistered(label:)`` names, who registered them, and their verifications.
    static func unregisteredOrders(sandbox: DouyinSandbox, store: Store, events: [CertWatchEvent]) async throws
        -> UnregisteredOrders
    {
        var result = UnregisteredOrders()
        var certificates = Set<String>()
        for order in await sandbox.listOrders() where Demo.isUnregistered(label: order.label) {
            result.orders += 1
            certificates.formUnion(order.certificates.map(\.certificateID))
            let sources = Set(try await store.watches(matching: order.orderID).compactMap { $0.labels["source"] })
            if sources.contains(Detection.feed.rawValue) { result.byFeed += 1 }
            if sources.contains(Detection.sweep.rawValue) { result.bySweep += 1 }
        }
        result.verifications = events.filter { $0.type == .verified && certificates.contains($0.subject) }.count
        return result
    }

    /// The sweep's `certificate.verify_cancelled` events, each with the `certificate.verified` of the
    /// same `verify_id`, and whether both reached the `webhook` sink.
    static func cancelledBeforePoll(events: [CertWatchEvent], deliveries: [Delivery]) -> CancelledBeforePoll {
        var result = CancelledBeforePoll()
        let delivered = Set(deliveries.filter { $0.sink == "webhook" && $0.state == .delivered }.map(\.eventID))
        for cancel in events where cancel.type == .verifyCancelled && cancel.data.detectedBy == .sweep {
            result.pairs += 1
            let verifyID = cancel.data.verification?.verifyID
            let verified = events.first {
                $0.type == .verified && $0.subject == cancel.subject && $0.data.verification?.verifyID == verifyID
            }
            if let verified, delivered.contains(verified.id), delivered.contains(cancel.id) { result.delivered += 1 }
        }
        return result
    }

    /// The summary as readable lines.
    package var text: String {
        var lines = ["", "── summary " + String(repeating: "─", count: 50)]
        lines.append("events (\(eventsByType.values.reduce(0, +))):")
        for (type, count) in eventsByType.sorted(by: { $0.key < $1.key }) { lines.append("  \(type.padding(toLength: 36, withPad: " ", startingAt: 0)) \(count)") }
        let byAPI = apiCallsByAPI.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("Douyin API calls (\(apiCalls.values.reduce(0, +)): \(byAPI)):")
        for (outcome, count) in apiCalls.sorted(by: { $0.value > $1.value }) {
            lines.append("  \(Self.describe(outcome).padding(toLength: 36, withPad: " ", startingAt: 0)) \(count)")
        }
        lines.append("deliveries:")
        for (sink, states) in deliveries.sorted(by: { $0.key < $1.key }) {
            let parts = states.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("  \(sink.padding(toLength: 10, withPad: " ", startingAt: 0)) \(parts); retries \(retries[sink] ?? 0)")
        }
        lines.append("webhook signatures verified: \(signaturesVerified) of \(webhookRequests) requests")
        lines.append(contentsOf: detectionLines)
        lines.append(String(format: "sandbox time ran %.0f× real time", speed))
        if let databasePath { lines.append("database kept at \(databasePath) (try: certwatch events list --db \(databasePath))") }
        return lines.joined(separator: "\n")
    }

    /// The detector table: per event type, how many events each detector (push, feed, sweep,
    /// poll) saw first, with the detection latency (p50/max, sandbox seconds) where the sandbox
    /// knows the change's time; then the accounts' detectors, the orders nobody registered, and the
    /// verifications cancelled before any poll.
    var detectionLines: [String] {
        let answers = pushes.filter { !["changes", "lost"].contains($0.key) }.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let runs = [AccountDetector.feed, .sweep].compactMap { detector in
            accountDetectors[detector.rawValue].map {
                "\(detector.rawValue) every \($0.interval) s (\($0.interval / 60) demo-minutes), \($0.runs) runs"
            }
        }
        let columns = Self.detectors.map(\.rawValue)
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        func cell(_ cell: DetectionRow.Cell) -> String {
            let latency = cell.p50.map { p50 in "\(p50)/\(cell.max ?? p50)" } ?? (cell.count > 0 ? "-" : "")
            return pad(String(cell.count), 5) + " " + latency.padding(toLength: 11, withPad: " ", startingAt: 0)
        }
        let changed = pushes["changes"] ?? 0
        let lost = pushes["lost"] ?? 0
        let intake: String = answers.isEmpty ? "nothing" : answers
        let detectors: String = runs.isEmpty ? "none" : runs.joined(separator: "; ")
        let headings: [String] = columns.map { column -> String in
            " " + pad(column, 5) + " " + "p50/max".padding(toLength: 11, withPad: " ", startingAt: 0)
        }
        var lines: [String] = []
        lines.append("pushes (券消息通知): \(changed) changes, \(lost) lost; intake answered \(intake)")
        lines.append("merchant account detectors: " + detectors)
        lines.append("first seen by (events, detection latency p50/max in sandbox seconds where the change time is known):")
        lines.append("  " + "event type".padding(toLength: 34, withPad: " ", startingAt: 0) + headings.joined())
        for (type, row) in detection.sorted(by: { $0.key < $1.key }) {
            lines.append("  " + type.padding(toLength: 34, withPad: " ", startingAt: 0) + Self.detectors.map { " " + cell(row[$0]) }.joined())
        }
        if detection.isEmpty {
            lines.append("  (no events)")
        } else {
            let totals = Self.detectors.map { detector in detection.values.map { $0[detector].count }.reduce(0, +) }
            lines.append(
                "  " + "all (\(totals.reduce(0, +)))".padding(toLength: 34, withPad: " ", startingAt: 0)
                    + totals.map { " " + pad(String($0), 5) + String(repeating: " ", count: 12) }.joined())
        }
        lines.append(
            "orders nobody registered: \(unregistered.orders), found \(unregistered.byFeed + unregistered.bySweep) "
                + "(by feed \(unregistered.byFeed), by sweep \(unregistered.bySweep)); their verifications: \(unregistered.verifications)")
        lines.append(
            "verifications cancelled before any poll (from the sweep's verify records): \(cancelledBeforePoll.pairs), "
                + "verified + verify_cancelled delivered for \(cancelledBeforePoll.delivered)")
        return lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
    }

    static func describe(_ outcome: String) -> String {
        switch outcome {
        case "ok": return "ok"
        case "drift": return "ok, in Douyin's drifted shapes (wild)"
        case "2100004": return "2100004 busy (retried)"
        case "2119002": return "2119002 busy (retried)"
        case "2119003": return "2119003 rate limited (slowed down)"
        case "2190008": return "2190008 token expired (refreshed)"
        case "2190002": return "2190002 token invalid (refreshed)"
        default: return outcome
        }
    }
}
