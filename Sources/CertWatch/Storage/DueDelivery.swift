import CertWatchCore
import DouyinOpenAPI
import Foundation

/// A claimed delivery (``DeliveryQueue/claimDeliveries(sink:now:limit:excluding:)``) with its event as stored, not decoded: the dispatcher sends the stored JSON
/// with the sequence added (``EventJSON``), and only sinks that need the event's fields decode it.
public struct DueDelivery: Sendable {
    /// The delivery.
    public var delivery: Delivery
    /// The event as stored (its JSON without `sequence`).
    public var eventBody: String

    public init(delivery: Delivery, eventBody: String) {
        self.delivery = delivery
        self.eventBody = eventBody
    }

    /// What the sink is asked to deliver for the next attempt, at `now` (Unix seconds): the
    /// stored JSON with the sequence added, or (for a body of another shape) the decoded event.
    /// Throws ``DouyinDecodingError`` when the stored body is not an event.
    package func outbound(now: Double) throws -> OutboundDelivery {
        let attempt = delivery.attempts + 1
        if let json = EventJSON.withSequence(eventBody, eventID: delivery.eventID, sequence: delivery.eventSequence) {
            return OutboundDelivery(
                deliveryID: delivery.id, attempt: attempt, eventID: delivery.eventID, eventJSON: json, body: delivery.body,
                now: now)
        }
        var event = try DueDelivery.event(fromBody: Data(eventBody.utf8))
        event.sequence = delivery.eventSequence
        return OutboundDelivery(deliveryID: delivery.id, attempt: attempt, event: event, body: delivery.body, now: now)
    }

    /// How long a claimed delivery stays leased to the instance that claimed it, seconds: longer
    /// than any attempt, so only a dead instance's lease runs out (a heartbeat ends those sooner,
    /// ``ReplicaRegistry/heartbeat(now:staleAfter:slowedAt:)``; a SQLite `serve` ends them at start).
    public static let lease = 600.0

    /// Decodes a stored event body (one parse, see ``DouyinJSON``). Throws ``DouyinDecodingError``
    /// naming the bad JSON path.
    static func event(fromBody body: Data) throws -> CertWatchEvent {
        try DouyinJSON.decode(CertWatchEvent.self, from: body)
    }
}
