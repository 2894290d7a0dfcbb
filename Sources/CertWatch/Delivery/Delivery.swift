import CertWatchCore

/// One delivery: an event bound for one sink, with its progress.
public struct Delivery: Sendable, Hashable {
    /// Row id (what `certwatch deliveries replay ID` takes).
    public var id: Int64
    /// The event's id (also the `webhook-id`, stable across retries and replays).
    public var eventID: String
    /// The event's store sequence (the order within a certificate).
    public var eventSequence: Int64
    /// The event type.
    public var eventType: String
    /// The certificate id (the ordering key).
    public var subject: String
    /// The sink name.
    public var sink: String
    /// The rule that routed it (`nil`: the default route).
    public var rule: String?
    /// A body rendered by the rule's template, sent instead of the sink's own format.
    public var body: String?
    /// The state.
    public var state: DeliveryState
    /// Attempts made so far.
    public var attempts: Int
    /// When the next attempt is due (Unix seconds), for open states.
    public var nextAttemptAt: Double?
    /// When the row was written, Unix seconds.
    public var createdAt: Double
    /// When it last changed, Unix seconds.
    public var updatedAt: Double
    /// The last HTTP status, if any.
    public var lastStatus: Int?
    /// The last error (never contains secrets).
    public var lastError: String?
}

/// One recorded attempt.
public struct DeliveryAttempt: Sendable, Hashable {
    /// The delivery.
    public var deliveryID: Int64
    /// 1-based attempt number.
    public var number: Int
    /// When it started, Unix seconds.
    public var startedAt: Double
    /// How long it took, seconds.
    public var duration: Double
    /// The HTTP status, if a response arrived.
    public var status: Int?
    /// The response body, truncated to 1 KiB.
    public var response: String?
    /// The error, if any (never contains secrets).
    public var error: String?
    /// The state the delivery moved to.
    public var outcome: DeliveryState
}
