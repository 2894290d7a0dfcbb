import CertWatchCore
import Foundation

/// certwatch's storage contract: every storage role at once — what the assembly holds and hands
/// out, one role to each user (the watcher takes ``PollSchedule`` and ``WatchRegistry``, the
/// dispatcher ``DeliveryQueue``, …). Each role is a small protocol named for what its user needs,
/// in certwatch's own types. No database type crosses it, so a second backend (PostgreSQL, with
/// leases by `FOR UPDATE SKIP LOCKED`) can implement the same contract and run the same
/// conformance suite (`Tests/CertWatchTests/Storage/StorageConformanceTests.swift`).
///
/// The SQLite implementation is ``Store`` (`Storage/SQLite/`), the PostgreSQL one
/// ``PostgresStore`` (`Storage/Postgres/`); ``StorageLocation`` picks one from the `database`
/// setting. Every method does its own I/O: callers hand in only pure, synchronous decisions
/// (``EventRouter``, ``GroupUpdate``) that a backend runs inside its transaction, so an async driver
/// fits the same contract as GRDB's synchronous one. Times are Unix seconds: `Int64` for
/// watches and events, `Double` (fractional) for deliveries. Every method throws the backend's
/// errors for an unreachable or broken database, and ``StorageError`` for a stored value certwatch
/// cannot read (an unknown state names its table, column and value; it is never defaulted).
public typealias CertWatchStorage =
    WatchRegistry & PollSchedule & EventLog & DeliveryQueue & DeliveryHistory & ReplicaRegistry & PushMessageLog
    & StorageMaintenance & AccountRegistry

extension WatchRegistry {
    /// ``watches(state:labels:accountID:after:limit:)`` of every account.
    public func watches(state: Watch.State?, labels: [String: String], after: String?, limit: Int) async throws -> [Watch] {
        try await watches(state: state, labels: labels, accountID: nil, after: after, limit: limit)
    }
}

extension PollSchedule {
    /// ``claimDue(now:limit:lease:targetedLead:)`` with the default ``PollPolicy/targetedLead``.
    public func claimDue(now: Int64, limit: Int, lease: Int64) async throws -> [Watch] {
        try await claimDue(now: now, limit: limit, lease: lease, targetedLead: PollPolicy().targetedLead)
    }

    /// The last stored snapshot of each certificate of a watch, by certificate id.
    public func snapshots(watchID: String) async throws -> [String: CertificateSnapshot] {
        try await snapshots(watchIDs: [watchID])[watchID] ?? [:]
    }
}

extension EventLog {
    /// Appends events outside a poll (skipping ids already stored), in one transaction, without
    /// deliveries (``Outbox/append(_:to:)`` routes them). Returns the appended ones with their `sequence`.
    @discardableResult
    public func append(_ events: [CertWatchEvent]) async throws -> [CertWatchEvent] {
        try await append(events, route: nil)
    }
}

extension DeliveryQueue {
    /// ``claimDeliveries(sink:now:limit:excluding:)`` excluding nothing.
    public func claimDeliveries(sink: String, now: Double, limit: Int) async throws -> [DueDelivery] {
        try await claimDeliveries(sink: sink, now: now, limit: limit, excluding: [])
    }
}

extension DeliveryHistory {
    /// ``deliveries(state:sink:before:limit:)`` from the newest: newest first, filtered by state and
    /// sink, at most `limit` (default 100).
    public func deliveries(state: DeliveryState? = nil, sink: String? = nil, limit: Int = 100) async throws -> [Delivery] {
        try await deliveries(state: state, sink: sink, before: nil, limit: limit)
    }
}
