import CertWatchCore
import Foundation

/// What a sink is asked to deliver: one event (one attempt of one delivery).
public struct OutboundDelivery: Sendable {
    /// The delivery's row id.
    public var deliveryID: Int64
    /// This attempt's number (1-based).
    public var attempt: Int
    /// The event, with its sequence.
    public var event: CertWatchEvent
    /// A body rendered by the routing rule's template, used instead of the sink's own format.
    public var body: String?
    /// Now, Unix seconds (signature timestamps).
    public var now: Double

    public init(deliveryID: Int64, attempt: Int, event: CertWatchEvent, body: String? = nil, now: Double) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.event = event
        self.body = body
        self.now = now
    }
}

/// What one attempt returned.
public struct SinkResponse: Sendable, Hashable {
    /// The outcome the state machine plans from.
    public var outcome: AttemptOutcome
    /// The HTTP status, when a response arrived.
    public var status: Int?
    /// The response body (truncated), when there was one.
    public var response: String?
    /// What went wrong (never contains secrets).
    public var error: String?

    public init(outcome: AttemptOutcome, status: Int? = nil, response: String? = nil, error: String? = nil) {
        self.outcome = outcome
        self.status = status
        self.response = response
        self.error = error
    }
}

/// A delivery target. Implementations never throw for a failed delivery: they report it in the
/// ``SinkResponse`` (and never crash on what a receiver sends back).
public protocol Sink: Sendable {
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
    public func flush() async throws {}
    public func shutdown() async {}
}
