import CertWatchCore
import DouyinOpenAPI
import Foundation

/// The delivery outbox of a ``CertWatchStorage``, as the dispatcher, the HTTP API and the CLI see
/// it: one delivery per event × sink, its attempt log, and the sinks' disabled state.
///
/// Ordering is the storage's contract: a delivery is claimed only when no earlier delivery (lower
/// event sequence) of the same certificate to the same sink is still open.
public struct DeliveryStore: Sendable {
    /// The storage.
    public let store: any CertWatchStorage

    public init(store: any CertWatchStorage) { self.store = store }

    // MARK: Dispatcher

    /// A due delivery with its event as stored, not decoded: the dispatcher sends the stored JSON
    /// with the sequence added (``EventJSON``), and only sinks that need the event's fields decode it.
    public struct Due: Sendable {
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
        public func outbound(now: Double) throws -> OutboundDelivery {
            let attempt = delivery.attempts + 1
            if let json = EventJSON.withSequence(eventBody, eventID: delivery.eventID, sequence: delivery.eventSequence) {
                return OutboundDelivery(
                    deliveryID: delivery.id, attempt: attempt, eventID: delivery.eventID, eventJSON: json, body: delivery.body,
                    now: now)
            }
            var event = try DeliveryStore.event(fromBody: Data(eventBody.utf8))
            event.sequence = delivery.eventSequence
            return OutboundDelivery(deliveryID: delivery.id, attempt: attempt, event: event, body: delivery.body, now: now)
        }
    }

    /// How long a claimed delivery stays leased to the instance that claimed it, seconds: longer
    /// than any attempt, so only a dead instance's lease runs out (a heartbeat ends those sooner,
    /// ``CertWatchStorage/heartbeat(now:staleAfter:slowedAt:)``; a SQLite `serve` ends them at start).
    public static let lease = 600.0

    /// Up to `limit` deliveries of `sink` due at `now`, each the earliest open one of its
    /// certificate for this sink, excluding `inFlight` ids, oldest due first; nothing for a disabled
    /// sink. See ``CertWatchStorage/claimDeliveries(sink:now:limit:excluding:)``.
    public func claim(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64> = []) async throws -> [Due] {
        try await store.claimDeliveries(sink: sink, now: now, limit: limit, excluding: inFlight)
    }

    /// Decodes a stored event body (one parse, see ``DouyinJSON``). Throws ``DouyinDecodingError``
    /// naming the bad JSON path.
    static func event(fromBody body: Data) throws -> CertWatchEvent {
        try DouyinJSON.decode(CertWatchEvent.self, from: body)
    }

    /// The earliest `next_attempt_at` (Unix seconds) of an open delivery of one of `sinks`, or `nil`.
    public func nextDue(sinks: [String]) async throws -> Double? {
        try await store.nextDeliveryDue(sinks: sinks)
    }

    /// The result of one attempt, to record.
    public struct Recorded: Sendable {
        /// The delivery attempted.
        public var delivery: Delivery
        /// The attempt.
        public var attempt: DeliveryAttempt
        /// What follows.
        public var plan: DeliveryPlan

        public init(delivery: Delivery, attempt: DeliveryAttempt, plan: DeliveryPlan) {
            self.delivery = delivery
            self.attempt = attempt
            self.plan = plan
        }
    }

    /// Records attempts and their plans in one transaction; disables sinks that answered 410 or whose target was refused.
    /// A delivery replayed or cancelled meanwhile (attempt count changed) still gets its attempt
    /// logged but keeps its new state.
    public func record(_ results: [Recorded], now: Double) async throws {
        try await store.recordDeliveryAttempts(results, now: now)
    }

    // MARK: Sinks

    /// Disabled sinks with when (Unix seconds) and why.
    public func disabledSinks() async throws -> [String: (at: Double, reason: String)] {
        try await store.disabledSinks()
    }

    /// Re-enables a sink; its open deliveries become due at `now`. Returns whether it was disabled.
    @discardableResult
    public func enableSink(_ name: String, now: Double) async throws -> Bool {
        try await store.enableSink(name, now: now)
    }

    /// Disables a sink by hand (its deliveries wait).
    public func disableSink(_ name: String, reason: String, now: Double) async throws {
        try await store.disableSink(name, reason: reason, now: now)
    }

    // MARK: Operators

    /// Deliveries newest first, filtered by state and sink, before the id `before`, at most `limit`.
    public func list(state: DeliveryState? = nil, sink: String? = nil, before: Int64? = nil, limit: Int = 100)
        async throws -> [Delivery]
    {
        try await store.deliveries(state: state, sink: sink, before: before, limit: limit)
    }

    /// The delivery with `id`, or `nil`.
    public func delivery(id: Int64) async throws -> Delivery? {
        try await store.delivery(id: id)
    }

    /// The attempts of a delivery, oldest first.
    public func attempts(deliveryID: Int64) async throws -> [DeliveryAttempt] {
        try await store.deliveryAttempts(deliveryID: deliveryID)
    }

    /// Counts by sink and state.
    public func counts() async throws -> [String: [DeliveryState: Int]] {
        try await store.deliveryCounts()
    }

    /// Replays one delivery (see ``CertWatchStorage/replayDelivery(id:now:)``): a dead, cancelled or
    /// delivered one is sent again with a fresh attempt budget, a `pending` or `retrying` one is
    /// retried now. Returns the state it had, `nil` when there is no such delivery.
    public func replay(id: Int64, now: Double) async throws -> DeliveryState? {
        try await store.replayDelivery(id: id, now: now)
    }

    /// Replays every dead or cancelled delivery of `sink` (all sinks when nil) that reached that
    /// state at or after `since` (Unix seconds). Returns how many.
    public func replay(sink: String?, since: Double, now: Double) async throws -> Int {
        try await store.replayDeliveries(sink: sink, since: since, now: now)
    }
}
