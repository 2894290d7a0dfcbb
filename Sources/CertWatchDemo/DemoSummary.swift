import CertWatch
import CertWatchCore
import DouyinSandbox
import Foundation
import GRDB

/// What a demo run did, counted from the store, the outbox and the sandbox's request log.
public struct DemoSummary: Sendable, Codable {
    /// Events by type.
    public var eventsByType: [String: Int]
    /// Douyin API requests by outcome (`ok`; `drift`, answered correctly in Douyin's drifted shapes
    /// by the `wild` profile; `latency`; or the error code / HTTP status).
    public var apiCalls: [String: Int]
    /// Deliveries by sink and state.
    public var deliveries: [String: [String: Int]]
    /// Attempts beyond the first, by sink.
    public var retries: [String: Int]
    /// Webhook deliveries whose Standard Webhooks signature the receiver verified.
    public var signaturesVerified: Int
    /// Webhook requests the receiver got.
    public var webhookRequests: Int
    /// Sandbox seconds per real second.
    public var speed: Double
    /// The database kept, if any.
    public var databasePath: String?

    enum CodingKeys: String, CodingKey {
        case eventsByType = "events_by_type", apiCalls = "api_calls", deliveries, retries
        case signaturesVerified = "signatures_verified", webhookRequests = "webhook_requests", speed
        case databasePath = "database"
    }

    static func collect(
        store: Store, dispatcher: Dispatcher, sandbox: DouyinSandbox, signaturesVerified: Int, received: Int, speed: Double,
        databasePath: String?
    ) async throws -> DemoSummary {
        let eventsByType = try await store.pool.read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT type, COUNT(*) AS n FROM events GROUP BY type").map {
                    (row: Row) -> (String, Int) in (row["type"], row["n"])
                })
        }
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
        for (sink, states) in try await dispatcher.deliveries.counts() {
            deliveries[sink] = Dictionary(uniqueKeysWithValues: states.map { ($0.key.rawValue, $0.value) })
        }
        var retries: [String: Int] = [:]
        for delivery in try await dispatcher.deliveries.list(limit: 1_000_000) {
            retries[delivery.sink, default: 0] += max(delivery.attempts - 1, 0)
        }
        return DemoSummary(
            eventsByType: eventsByType, apiCalls: apiCalls, deliveries: deliveries, retries: retries,
            signaturesVerified: signaturesVerified, webhookRequests: received, speed: speed, databasePath: databasePath)
    }

    /// The summary as readable lines.
    public var text: String {
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
        lines.append(String(format: "sandbox time ran %.0f× real time", speed))
        if let databasePath { lines.append("database kept at \(databasePath) (try: certwatch events list --db \(databasePath))") }
        return lines.joined(separator: "\n")
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
