import CertWatchCore
import Foundation
import Hummingbird

/// `/v1/deliveries` and `/v1/sinks/{name}/enable`: inspect the outbox, replay dead letters,
/// re-enable a sink disabled by 410 Gone.
struct DeliveriesAPI: Sendable {
    let deliveries: DeliveryStore
    let clock: any WallClock
    /// Wakes the dispatcher after a replay or an enable.
    let wake: @Sendable () -> Void

    func install(on v1: RouterGroup<BasicRequestContext>) {
        v1.get("deliveries") { request, _ in await respond { try await self.list(request) } }
        v1.post("deliveries/{id}/replay") { _, context in
            await respond { try await self.replay(context.parameters.get("id") ?? "") }
        }
        v1.post("sinks/{name}/enable") { _, context in
            await respond { try await self.enable(context.parameters.get("name") ?? "") }
        }
    }

    /// A delivery as the API shows it.
    struct View: Encodable {
        var id: Int64
        var eventID: String
        var eventSequence: Int64
        var eventType: String
        var subject: String
        var sink: String
        var rule: String?
        var state: DeliveryState
        var attempts: Int
        var nextAttemptAt: Double?
        var createdAt: Double
        var updatedAt: Double
        var lastStatus: Int?
        var lastError: String?

        init(_ delivery: Delivery) {
            id = delivery.id
            eventID = delivery.eventID
            eventSequence = delivery.eventSequence
            eventType = delivery.eventType
            subject = delivery.subject
            sink = delivery.sink
            rule = delivery.rule
            state = delivery.state
            attempts = delivery.attempts
            nextAttemptAt = delivery.nextAttemptAt
            createdAt = delivery.createdAt
            updatedAt = delivery.updatedAt
            lastStatus = delivery.lastStatus
            lastError = delivery.lastError
        }

        enum CodingKeys: String, CodingKey {
            case id, eventID = "event_id", eventSequence = "event_sequence", eventType = "event_type", subject, sink, rule
            case state, attempts, nextAttemptAt = "next_attempt_at", createdAt = "created_at", updatedAt = "updated_at"
            case lastStatus = "last_status", lastError = "last_error"
        }
    }

    func list(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var state: DeliveryState?
        if let text = query["state"].map(String.init) {
            guard let parsed = DeliveryState(rawValue: text) else {
                throw APIError.invalid(
                    "state must be one of \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
            }
            state = parsed
        }
        var before: Int64?
        if let text = query["before"] {
            guard let value = Int64(text) else { throw APIError.invalid("before must be a delivery id", field: "before") }
            before = value
        }
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1_000).contains(value) else {
                throw APIError.invalid("limit must be between 1 and 1000", field: "limit")
            }
            limit = value
        }
        let page = try await deliveries.list(state: state, sink: query["sink"].map(String.init), before: before, limit: limit)
        struct Page: Encodable {
            var deliveries: [View]
            var nextBefore: Int64?
            enum CodingKeys: String, CodingKey { case deliveries, nextBefore = "next_before" }
        }
        return jsonResponse(Page(deliveries: page.map(View.init), nextBefore: page.count == limit ? page.last?.id : nil))
    }

    func replay(_ text: String) async throws -> Response {
        guard let id = Int64(text) else { throw APIError.notFound("no delivery \(text)") }
        guard let existing = try await deliveries.delivery(id: id) else { throw APIError.notFound("no delivery \(id)") }
        guard try await deliveries.replay(id: id, now: clock.now()) else {
            throw APIError(409, "conflict", "delivery \(id) is \(existing.state.rawValue); only finished deliveries are replayed")
        }
        wake()
        let replayed = try await deliveries.delivery(id: id) ?? existing
        return jsonResponse(View(replayed), status: 202)
    }

    func enable(_ name: String) async throws -> Response {
        let enabled = try await deliveries.enableSink(name, now: clock.now())
        wake()
        return jsonResponse(["sink": name, "status": enabled ? "enabled" : "was not disabled"])
    }
}
