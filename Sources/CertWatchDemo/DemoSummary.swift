import CertWatch
import CertWatchCore
import DouyinSandbox
import Foundation

/// What a demo run did, counted from the store, the outbox and the sandbox's request log.
package struct DemoSummary: Sendable, Codable {
    /// Events by type.
    package var eventsByType: [String: Int]
    /// Douyin API requests by outcome (`ok`; `drift`, answered correctly in Douyin's drifted shapes
    /// by the `wild` profile; `latency`; or the error code / HTTP status).
    package var apiCalls: [String: Int]
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
    /// Per pushable event type, how the changes were first seen: after a push hint or by a routine poll.
    package var detection: [String: DetectionRow]
    /// The sandbox's pushes: `changes` pushed, `lost` by the fault profile, and the intake's answers
    /// (`2xx`, a status, `error`).
    package var pushes: [String: Int]

    enum CodingKeys: String, CodingKey {
        case eventsByType = "events_by_type", apiCalls = "api_calls", deliveries, retries
        case signaturesVerified = "signatures_verified", webhookRequests = "webhook_requests", speed
        case databasePath = "database", detection, pushes
    }

    /// How the changes behind one event type were first seen. Detection latency = the event's time
    /// (when the poll that found it committed) minus the sandbox's time of the change, in sandbox
    /// seconds.
    package struct DetectionRow: Sendable, Codable, Hashable {
        /// Events first seen by a poll a push hint made due.
        package var push: Int = 0
        /// Median detection latency of those, seconds.
        package var pushP50: Int64?
        /// Events first seen by a routine poll.
        package var poll: Int = 0
        /// Median detection latency of those, seconds.
        package var pollP50: Int64?

        enum CodingKeys: String, CodingKey { case push, pushP50 = "push_p50_s", poll, pollP50 = "poll_p50_s" }
    }

    /// The push action announcing each event type (the sandbox pushes these three actions).
    static let pushActions: [String: String] = [
        "certificate.verified": "verify", "certificate.times_card_used": "verify",
        "certificate.verify_cancelled": "verify_cancel", "certificate.refunded": "refund_success",
    ]

    /// Matches each event of a pushable type to the earliest unmatched sandbox change of its
    /// certificate and action at or before the event, and groups the latencies by event type and
    /// by how the event was detected (events without a recorded detection count as routine polls).
    /// A `certificate.verified` and a `certificate.times_card_used` of the same use share its change.
    static func detectionTable(events: [EventDetection], changes: [SandboxPush]) -> [String: DetectionRow] {
        var latencies: [String: (push: [Int64], poll: [Int64])] = [:]
        var used: [String: Set<Int>] = [:]  // event type → indexes of changes already matched
        for event in events {
            guard let action = pushActions[event.type] else { continue }
            guard
                let index = changes.indices.first(where: {
                    changes[$0].certificateID == event.subject && changes[$0].action == action
                        && changes[$0].changedAt <= event.time && !(used[event.type]?.contains($0) ?? false)
                })
            else { continue }
            used[event.type, default: []].insert(index)
            let latency = event.time - changes[index].changedAt
            if event.detectedBy == .push {
                latencies[event.type, default: ([], [])].push.append(latency)
            } else {
                latencies[event.type, default: ([], [])].poll.append(latency)
            }
        }
        return latencies.mapValues { lists in
            DetectionRow(push: lists.push.count, pushP50: median(lists.push), poll: lists.poll.count, pollP50: median(lists.poll))
        }
    }

    /// The lower median, or `nil` for none.
    static func median(_ values: [Int64]) -> Int64? {
        guard !values.isEmpty else { return nil }
        return values.sorted()[(values.count - 1) / 2]
    }

    static func collect(
        store: Store, dispatcher: Dispatcher, sandbox: DouyinSandbox, signaturesVerified: Int, received: Int, speed: Double,
        databasePath: String?, pushes intakeAnswers: [String: Int] = [:]
    ) async throws -> DemoSummary {
        let eventsByType = try await store.eventCountsByType()
        var apiCalls: [String: Int] = [:]
        for entry in await sandbox.requests(limit: 1_000_000) where entry.path.contains("certificate") {
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
        for delivery in try await store.deliveries(limit: 1_000_000) {
            retries[delivery.sink, default: 0] += max(delivery.attempts - 1, 0)
        }
        let changes = await sandbox.pushLog()
        let detections = try await store.detections()
        var pushes = intakeAnswers
        pushes["changes"] = changes.count
        pushes["lost"] = changes.filter(\.lost).count
        return DemoSummary(
            eventsByType: eventsByType, apiCalls: apiCalls, deliveries: deliveries, retries: retries,
            signaturesVerified: signaturesVerified, webhookRequests: received, speed: speed, databasePath: databasePath,
            detection: detectionTable(events: detections, changes: changes), pushes: pushes)
    }

    /// The summary as readable lines.
    package var text: String {
        var lines = ["", "── summary " + String(repeating: "─", count: 50)]
        lines.append("events (\(eventsByType.values.reduce(0, +))):")
        for (type, count) in eventsByType.sorted(by: { $0.key < $1.key }) { lines.append("  \(type.padding(toLength: 36, withPad: " ", startingAt: 0)) \(count)") }
        lines.append("Douyin API calls (\(apiCalls.values.reduce(0, +))):")
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

    /// The push-versus-poll table: per event type, how many changes were first seen after a push
    /// hint and by a routine poll, with the median detection latency (sandbox seconds) of each.
    var detectionLines: [String] {
        let answers = pushes.filter { !["changes", "lost"].contains($0.key) }.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var lines = [
            "pushes (券消息通知): \(pushes["changes"] ?? 0) changes, \(pushes["lost"] ?? 0) lost; intake answered \(answers.isEmpty ? "nothing" : answers)",
            "first seen after a push hint vs by a routine poll (detection latency p50, sandbox seconds):",
            "  " + "event type".padding(toLength: 34, withPad: " ", startingAt: 0) + "   push  p50 s    poll  p50 s",
        ]
        func cell(_ count: Int, _ p50: Int64?) -> String {
            let count = String(count)
            let p50 = p50.map(String.init) ?? "-"
            return String(repeating: " ", count: max(0, 6 - count.count)) + count + String(repeating: " ", count: max(0, 7 - p50.count)) + p50
        }
        for (type, row) in detection.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "  " + type.padding(toLength: 34, withPad: " ", startingAt: 0) + " " + cell(row.push, row.pushP50) + "  "
                    + cell(row.poll, row.pollP50))
        }
        if detection.isEmpty { lines.append("  (no verification, cancellation or refund seen)") }
        return lines
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
