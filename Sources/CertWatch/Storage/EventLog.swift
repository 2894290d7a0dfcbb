import CertWatchCore
import Foundation

/// The event log: append-only events with a strictly increasing `sequence` (the cursor of
/// `events list`, `tail`, the event API and the SSE stream), read oldest first, newest first, or
/// counted. Used by the outbox (appends outside a poll), the event API and CLI, the console and
/// the demo's summary.
public protocol EventLog: Sendable {
    /// Appends events outside a poll in one transaction (ids already stored are skipped) and, when
    /// events were appended, writes what `route` returns for them in the same transaction. Returns
    /// the appended events with their `sequence`.
    @discardableResult
    func append(_ events: [CertWatchEvent], route: EventRouter?) async throws -> [CertWatchEvent]

    /// Events after `sequence` (exclusive), oldest first, optionally of one type or one order, at most `limit`.
    func events(after sequence: Int64, type: EventType?, orderID: String?, limit: Int) async throws -> [CertWatchEvent]

    /// The highest event sequence, 0 when there are none.
    func lastSequence() async throws -> Int64

    /// Events after `sequence` with how each was detected, oldest first, at most `limit`.
    func detections(after sequence: Int64, limit: Int) async throws -> [EventDetection]

    /// How many events are stored, by event type (e.g. `certificate.verified`).
    func eventCountsByType() async throws -> [String: Int]

    /// Events newest first, before the sequence `before` (from the newest when `nil`), optionally of
    /// one type, one order and one watch, at most `limit` (the console's event list and a watch's timeline).
    func eventsNewestFirst(before: Int64?, type: EventType?, orderID: String?, watchID: String?, limit: Int) async throws
        -> [CertWatchEvent]

    /// How many events were stored per hour from `since` (Unix seconds) on, by event `time`: the hour's
    /// start (Unix seconds, a multiple of 3,600) → count; hours without events are absent.
    func eventCountsByHour(since: Int64) async throws -> [Int64: Int]

    /// Which of `ids` are stored (the sweep asks whether a verification's deterministic
    /// `certificate.verified` id was ever appended).
    func storedEventIDs(among ids: [String]) async throws -> Set<String>
}
