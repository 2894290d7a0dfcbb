import CertWatchCore
import Foundation

/// The outbox's queue: deliveries written (``enqueue(_:)``), claimed in per-certificate order,
/// their attempts recorded, replayed and backfilled, and the sinks' disabled state. Used by the
/// dispatcher, the group flusher, the outbox's backfill, and the operators' verbs (API, CLI,
/// console). Times are Unix seconds, fractional.
public protocol DeliveryQueue: Sendable {
    /// Writes `routing` (its deliveries and its grouping change: the group summaries that are due)
    /// in one transaction. Returns how many deliveries were written (ones already stored are not
    /// counted).
    @discardableResult
    func enqueue(_ routing: Routing) async throws -> Int

    /// Takes up to `limit` deliveries of `sink` due at `now`, each the earliest open delivery of its
    /// certificate for this sink (so one certificate's events reach a sink in `sequence` order),
    /// excluding the `inFlight` ids; oldest due first, then in outbox order. Nothing for a disabled sink.
    /// Each is leased to this instance for ``DueDelivery/lease`` seconds, ended by
    /// ``recordDeliveryAttempts(_:now:)``: no other instance's claim takes it meanwhile, nor a later
    /// delivery of its certificate to the sink. This instance's own claims skip only `inFlight`
    /// (so what it claimed ahead and did not send, e.g. after a 410, is claimed again).
    func claimDeliveries(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64>) async throws
        -> [DueDelivery]

    /// The earliest `nextAttemptAt` of an open delivery of one of `sinks`, or `nil`.
    func nextDeliveryDue(sinks: [String]) async throws -> Double?

    /// Records attempts and their plans in one transaction (at `now`) and disables the sinks a plan
    /// says to (the reason: the attempt's error). A delivery replayed or cancelled meanwhile (its attempt count changed) gets its
    /// attempt logged but keeps its new state.
    func recordDeliveryAttempts(_ results: [RecordedAttempt], now: Double) async throws

    /// Disabled sinks with when (Unix seconds) and why.
    func disabledSinks() async throws -> [String: (at: Double, reason: String)]

    /// Re-enables a sink; its open deliveries become due at `now`. Returns whether it was disabled.
    @discardableResult
    func enableSink(_ name: String, now: Double) async throws -> Bool

    /// Disables a sink by hand (its deliveries wait).
    func disableSink(_ name: String, reason: String, now: Double) async throws

    /// Replays one delivery. A dead, cancelled or delivered one becomes `pending`, due at `now`,
    /// with a fresh attempt budget; an open one (`pending`, `retrying`) is retried now: due at
    /// `now` (or earlier, as it was), its attempt count kept. Returns the state it had, `nil` when
    /// there is no such delivery.
    func replayDelivery(id: Int64, now: Double) async throws -> DeliveryState?

    /// Replays every dead or cancelled delivery of `sink` (all sinks when `nil`) that reached that
    /// state at or after `since`. Returns how many.
    func replayDeliveries(sink: String?, since: Double, now: Double) async throws -> Int

    /// The events a backfill to `sink` considers: `time` at or after `since` (Unix seconds),
    /// optionally of one type or one order, with a sequence after `after`; oldest first, at most
    /// `limit` (page with the last one's sequence). Each says whether a delivery of it to `sink` is
    /// already stored, in any state (``BackfillCandidate/hasDelivery``).
    func backfillCandidates(sink: String, since: Int64, type: EventType?, orderID: String?, after sequence: Int64, limit: Int)
        async throws -> [BackfillCandidate]
}
