import CertWatchCore
import Foundation

/// What a sink is asked to deliver: one event (one attempt of one delivery).
///
/// The event comes either decoded or as its JSON — what the dispatcher has from the outbox, so
/// that sinks which only send the JSON (webhook CloudEvents, file, stdout) never decode it.
package struct OutboundDelivery: Sendable {
    /// The delivery's row id.
    package var deliveryID: Int64
    /// This attempt's number (1-based).
    package var attempt: Int
    /// The event's id (the `webhook-id`).
    package var eventID: String
    /// A body rendered by the routing rule's template, used instead of the sink's own format.
    package var body: String?
    /// Now, Unix seconds (signature timestamps).
    package var now: Double
    private let form: Form

    private enum Form: Sendable {
        case event(CertWatchEvent)
        case json(Data)
    }

    /// A delivery of a decoded `event` (with its sequence).
    package init(deliveryID: Int64, attempt: Int, event: CertWatchEvent, body: String? = nil, now: Double) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        eventID = event.id
        self.body = body
        self.now = now
        form = .event(event)
    }

    /// A delivery of the event `eventID` given as its JSON, exactly as ``CertWatchEvent/jsonData()``
    /// renders it (with its sequence).
    package init(deliveryID: Int64, attempt: Int, eventID: String, eventJSON: Data, body: String? = nil, now: Double) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.eventID = eventID
        self.body = body
        self.now = now
        form = .json(eventJSON)
    }

    /// The event's JSON (``CertWatchEvent/jsonData()``).
    package var eventJSON: Data {
        switch form {
        case .event(let event): event.jsonData()
        case .json(let json): json
        }
    }

    /// The event, decoded from its JSON when it came as JSON. Throws when that is not an event.
    package func event() throws -> CertWatchEvent {
        switch form {
        case .event(let event): event
        case .json(let json): try DueDelivery.event(fromBody: json)
        }
    }

    /// The rule's rendered body, or else the event's JSON: what the webhook (CloudEvents), file and
    /// stdout sinks send.
    package var bodyOrEventJSON: Data { body.map { Data($0.utf8) } ?? eventJSON }
}

/// What one attempt returned.
package struct SinkResponse: Sendable, Hashable {
    /// The outcome the state machine plans from.
    package var outcome: AttemptOutcome
    /// The HTTP status, when a response arrived.
    package var status: Int?
    /// The response body (truncated), when there was one.
    package var response: String?
    /// What went wrong (never contains secrets).
    package var error: String?

    package init(outcome: AttemptOutcome, status: Int? = nil, response: String? = nil, error: String? = nil) {
        self.outcome = outcome
        self.status = status
        self.response = response
        self.error = error
    }
}

/// A delivery target. Implementations never throw for a failed delivery: they report it in the
/// ``SinkResponse`` (and never crash on what a receiver sends back).
package protocol Sink: Sendable {
    /// The sink's configuration.
    var configuration: SinkConfiguration { get }
    /// Makes one attempt.
    func deliver(_ delivery: OutboundDelivery) async -> SinkResponse
    /// Makes what the last batch wrote durable (the file sink fsyncs). Called before the batch's
    /// results are recorded. Throws when it cannot; the batch then counts as failed.
    func flush() async throws
    /// Releases resources (HTTP connections, file handles).
    func shutdown() async
}

extension Sink {
    package func flush() async throws {}
    package func shutdown() async {}
}
