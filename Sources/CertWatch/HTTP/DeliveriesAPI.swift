import CertWatchCore
import Foundation
import Hummingbird

/// `/v1/deliveries`: inspect the outbox, replay finished (dead or delivered) deliveries.
struct DeliveriesAPI: Sendable {
    let deliveries: any DeliveryQueue & DeliveryHistory
    let clock: any WallClock
    /// Wakes the dispatcher after a replay.
    let wake: @Sendable () -> Void

    /// The routes, relative to `/v1/deliveries`.
    var routes: RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .get(use: list)
            .post("{id}/replay", use: replay)
    }

    /// A delivery as the API shows it.
    struct View: ResponseEncodable {
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

    struct Page: ResponseEncodable {
        var deliveries: [View]
        var nextBefore: Int64?
        enum CodingKeys: String, CodingKey { case deliveries, nextBefore = "next_before" }
    }

    /// `GET /v1/deliveries`: newest first, filtered by state and sink, paged by `before`.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Page {
        let query = request.uri.queryParameters
        var state: DeliveryState?
        if let text = query["state"].map(String.init) {
            guard let parsed = DeliveryState(rawValue: text) else {
                throw APIError.invalid(
                    "state must be one of \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))", field: "state")
            }
            state = parsed
        }
        // The same parameter checks as every list (docs/openapi.yaml states them).
        let before = try request.integerParameter("before")
        let limit = try request.limitParameter(default: 100, maximum: 1_000)
        let page = try await deliveries.deliveries(state: state, sink: query["sink"].map(String.init), before: before, limit: limit)
        return Page(deliveries: page.map(View.init), nextBefore: page.count == limit ? page.last?.id : nil)
    }

    /// `POST /v1/deliveries/{id}/replay`: 202 with the delivery, due now. A dead, cancelled or
    /// delivered delivery is sent again with a fresh attempt budget; a pending or retrying one is
    /// retried now (Stripe's "resend", Svix's "retry"). 404 when there is no such delivery.
    @Sendable func replay(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<View> {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), try await deliveries.replayDelivery(id: id, now: clock.now()) != nil,
            let replayed = try await deliveries.delivery(id: id)
        else { throw APIError.notFound("no delivery \(text)") }
        wake()
        return EditedResponse(status: .accepted, response: View(replayed))
    }
}
