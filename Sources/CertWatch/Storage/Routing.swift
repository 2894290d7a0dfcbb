import CertWatchCore

/// One delivery to write: an event and the rule decision that sends it to a sink.
public struct PlannedDelivery: Sendable, Hashable {
    /// The event delivered (with its `sequence`).
    public var event: CertWatchEvent
    /// The sink, the rule and the rendered body, if any.
    public var decision: RouteDecision

    public init(event: CertWatchEvent, decision: RouteDecision) {
        self.event = event
        self.decision = decision
    }
}

/// What the delivery outbox writes for some events: decided by the caller without I/O, written by
/// the storage backend in the transaction that appends the events (or in one of its own, see
/// ``DeliveryQueue/enqueue(_:)``), so events and their deliveries commit together or not at all.
public struct Routing: Sendable {
    /// When the deliveries are written and first due, Unix seconds.
    public var now: Double
    /// The deliveries to write, `pending` and due at ``now``; a delivery already stored for the same
    /// event and sink is kept.
    public var deliveries: [PlannedDelivery]
    /// A change of the rules' grouping state (``GroupingState``), or `nil` to leave it unread. The
    /// backend loads the stored state under a lock that serializes every change of it, runs this
    /// update, stores the state when it changed, and writes the deliveries the update returns (the
    /// group summaries) as it writes ``deliveries``.
    package var groups: GroupUpdate?

    package init(now: Double, deliveries: [PlannedDelivery] = [], groups: GroupUpdate? = nil) {
        self.now = now
        self.deliveries = deliveries
        self.groups = groups
    }

    /// Nothing to write.
    public var isEmpty: Bool { deliveries.isEmpty && groups == nil }
}

/// A pure change of the stored grouping state (empty when none is stored, or when what is stored no
/// longer decodes) returning the deliveries to write with it. Runs inside a transaction: it must not
/// do I/O or wait, and what it throws rolls the transaction back.
package typealias GroupUpdate = @Sendable (inout GroupingState) throws -> [PlannedDelivery]

/// Pure routing of the events a transaction has just appended (each with its `sequence`, the
/// events whose ids were already stored left out): called by the storage backend inside that
/// transaction, after appending and before writing the deliveries it returns; only when at least
/// one event was appended. It must not do I/O or wait; what it throws rolls the whole transaction
/// back (``PollSchedule/commitPoll(_:route:)``, ``EventLog/append(_:route:)``).
public typealias EventRouter = @Sendable (_ appended: [CertWatchEvent]) throws -> Routing
