/// The state of one delivery (event × sink).
///
/// `pending` → (attempt) → `delivered` | `retrying` → … → `dead`; `cancelled` when the sink cannot
/// represent the event (or an operator cancels it). `dead` and `cancelled` can be replayed, which
/// makes the delivery `pending` again.
public enum DeliveryState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Written by the outbox, not attempted yet (or replayed, or waiting for a disabled sink).
    case pending
    /// Delivered: the sink accepted it (HTTP 2xx, a zero error code, a written line).
    case delivered
    /// At least one attempt failed; the next attempt is scheduled.
    case retrying
    /// Every scheduled attempt failed (a dead letter; replayable).
    case dead
    /// Not deliverable to this sink (e.g. an event type the `douyin-push` format has no action for).
    case cancelled

    /// Whether the dispatcher still has work to do for a delivery in this state.
    public var isOpen: Bool { self == .pending || self == .retrying }
}
