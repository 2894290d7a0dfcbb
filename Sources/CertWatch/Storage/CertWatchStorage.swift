import CertWatchCore
import Foundation

/// certwatch's storage contract: everything the engine, the HTTP API and the tools read or write,
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
public protocol CertWatchStorage: Sendable {
    // MARK: Watches

    /// Registers a watch, idempotently: the same `(api, order_id)` or `(api, encrypted_code)` returns
    /// the existing watch with the new labels merged in (a removed or failed watch becomes active again, due at
    /// `firstPollAt`, its failure count reset). Returns the watch and whether it was created. Throws ``ValidationError`` for bad input.
    func register(_ registration: WatchRegistration, now: Int64, firstPollAt: Int64) async throws -> (watch: Watch, created: Bool)

    /// Registers many watches in one transaction; each input gets its own result (invalid items fail alone).
    func registerMany(_ registrations: [WatchRegistration], now: Int64, firstPollAt: Int64) async throws
        -> [Result<(watch: Watch, created: Bool), ValidationError>]

    /// The watch with `id`, or `nil`.
    func watch(id: String) async throws -> Watch?

    /// The watches a person's reference names: the watch with that id (`w_…`), or else every watch
    /// of that `order_id` or `encrypted_code` (one per endpoint family), by id.
    func watches(matching reference: String) async throws -> [Watch]

    /// Watches ordered by id, filtered by state (``Watch/State/stalled`` and ``Watch/State/active``
    /// exclude each other) and labels (all must match), after the id `after`, at most `limit`.
    func watches(state: Watch.State?, labels: [String: String], after: String?, limit: Int) async throws -> [Watch]

    /// Watches by shown state (stalled ones counted as ``Watch/State/stalled``, not active).
    func watchCounts() async throws -> [Watch.State: Int]

    /// The number of active (polled) watches, stalled ones included.
    func activeWatchCount() async throws -> Int

    /// Marks a watch removed (no longer polled; its certificates and events are kept). `false` when
    /// there is no such watch.
    func remove(id: String, now: Int64) async throws -> Bool

    /// Makes an active watch due at `at` at the latest. `false` when there is no such active watch.
    func pollSoon(id: String, at: Int64) async throws -> Bool

    // MARK: Scheduling

    /// Takes up to `limit` due watches and leases them until `now + lease` (seconds) so a poll in
    /// flight is never taken twice; a watch whose lease ran out is due again. Hinted watches come
    /// first (earliest hint first, each with ``Watch/hintedAt``), then targeted (``Watch/targeted``)
    /// and routine ones, earliest `nextPollAt` first with a targeted poll counted `targetedLead`
    /// seconds earlier than it is due (their `hintedAt` is `nil`).
    func claimDue(now: Int64, limit: Int, lease: Int64, targetedLead: Int64) async throws -> [Watch]

    /// Takes up to `limit` watches whose hinted poll is due (earliest hint first), leases them until
    /// `now + lease` and clears their hint; each returned watch carries its ``Watch/hintedAt``.
    func claimHinted(now: Int64, limit: Int, lease: Int64) async throws -> [Watch]

    /// Ends the leases of claimed watches that were not polled (they are due again at once).
    func releaseLeases(watchIDs: [String]) async throws

    /// The earliest `nextPollAt` or hint of an active, unleased watch, or `nil` when none.
    func nextDue(now: Int64) async throws -> Int64?

    /// The earliest hint of an active, unleased watch, or `nil` when none is hinted.
    func nextHint(now: Int64) async throws -> Int64?

    /// Takes a push hint: every active or done watch `targets` names (by order id, encrypted code, or
    /// a certificate id / encrypted code of its stored snapshots) becomes due for a hinted poll; a
    /// done watch becomes active again. A watch polled this second, or with a poll in flight, is
    /// hinted for the next second; an earlier hint is kept. Returns the hinted watch ids, sorted.
    func hint(_ targets: HintTargets, now: Int64) async throws -> [String]

    /// How many hints this process has taken (read before looking for hinted watches, then
    /// ``waitForHint(after:)``).
    var hintGeneration: UInt64 { get }

    /// Returns once a hint was taken after `generation` (at once if one was), or on cancellation.
    func waitForHint(after generation: UInt64) async

    // MARK: Polls

    /// The last stored snapshots of several watches: watch id → certificate id → snapshot (watches
    /// without certificates are absent).
    func snapshots(watchIDs: [String]) async throws -> [String: [String: CertificateSnapshot]]

    /// Commits one poll atomically: upserts the snapshots (an older observation never overwrites a
    /// newer one), appends the events (an id already stored is skipped), updates the watch's
    /// schedule and state (only while it is active), then — when events were appended — calls
    /// `route` with them in the same transaction and writes the ``Routing`` it returns. If anything
    /// throws (`route` included), nothing of the poll is stored. Returns the appended events with
    /// their `sequence` (strictly increasing, never reused, in commit order).
    @discardableResult
    func commitPoll(_ poll: PollCommit, route: EventRouter?) async throws -> [CertWatchEvent]

    /// Appends events outside a poll in one transaction (ids already stored are skipped) and, when
    /// events were appended, writes what `route` returns for them in the same transaction. Returns
    /// the appended events with their `sequence`.
    @discardableResult
    func append(_ events: [CertWatchEvent], route: EventRouter?) async throws -> [CertWatchEvent]

    /// Writes `routing` (its deliveries and its grouping change: the group summaries that are due)
    /// in one transaction. Returns how many deliveries were written (ones already stored are not
    /// counted).
    @discardableResult
    func enqueue(_ routing: Routing) async throws -> Int

    // MARK: Events

    /// Events after `sequence` (exclusive), oldest first, optionally of one type or one order, at most `limit`.
    func events(after sequence: Int64, type: EventType?, orderID: String?, limit: Int) async throws -> [CertWatchEvent]

    /// The highest event sequence, 0 when there are none.
    func lastSequence() async throws -> Int64

    /// Events after `sequence` with how each was detected, oldest first, at most `limit`.
    func detections(after sequence: Int64, limit: Int) async throws -> [EventDetection]

    /// How many events are stored, by event type (e.g. `certificate.verified`).
    func eventCountsByType() async throws -> [String: Int]

    // MARK: Deliveries (the outbox)

    /// Takes up to `limit` deliveries of `sink` due at `now`, each the earliest open delivery of its
    /// certificate for this sink (so one certificate's events reach a sink in `sequence` order),
    /// excluding the `inFlight` ids; oldest due first, then in outbox order. Nothing for a disabled sink.
    /// Each is leased to this instance for ``DeliveryStore/lease`` seconds, ended by
    /// ``recordDeliveryAttempts(_:now:)``: no other instance's claim takes it meanwhile, nor a later
    /// delivery of its certificate to the sink. This instance's own claims skip only `inFlight`
    /// (so what it claimed ahead and did not send, e.g. after a 410, is claimed again).
    func claimDeliveries(sink: String, now: Double, limit: Int, excluding inFlight: Set<Int64>) async throws
        -> [DeliveryStore.Due]

    /// The earliest `nextAttemptAt` of an open delivery of one of `sinks`, or `nil`.
    func nextDeliveryDue(sinks: [String]) async throws -> Double?

    /// Records attempts and their plans in one transaction (at `now`) and disables the sinks a plan
    /// says to (the reason: the attempt's error). A delivery replayed or cancelled meanwhile (its attempt count changed) gets its
    /// attempt logged but keeps its new state.
    func recordDeliveryAttempts(_ results: [DeliveryStore.Recorded], now: Double) async throws

    /// Disabled sinks with when (Unix seconds) and why.
    func disabledSinks() async throws -> [String: (at: Double, reason: String)]

    /// Re-enables a sink; its open deliveries become due at `now`. Returns whether it was disabled.
    @discardableResult
    func enableSink(_ name: String, now: Double) async throws -> Bool

    /// Disables a sink by hand (its deliveries wait).
    func disableSink(_ name: String, reason: String, now: Double) async throws

    /// Deliveries newest first, filtered by state and sink, before the id `before`, at most `limit`.
    func deliveries(state: DeliveryState?, sink: String?, before: Int64?, limit: Int) async throws -> [Delivery]

    /// The delivery with `id`, or `nil`.
    func delivery(id: Int64) async throws -> Delivery?

    /// The attempts of a delivery, oldest first.
    func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttempt]

    /// Delivery counts: sink → state → count.
    func deliveryCounts() async throws -> [String: [DeliveryState: Int]]

    /// Replays one delivery. A dead, cancelled or delivered one becomes `pending`, due at `now`,
    /// with a fresh attempt budget; an open one (`pending`, `retrying`) is retried now: due at
    /// `now` (or earlier, as it was), its attempt count kept. Returns the state it had, `nil` when
    /// there is no such delivery.
    func replayDelivery(id: Int64, now: Double) async throws -> DeliveryState?

    /// Replays every dead or cancelled delivery of `sink` (all sinks when `nil`) that reached that
    /// state at or after `since`. Returns how many.
    func replayDeliveries(sink: String?, since: Double, now: Double) async throws -> Int

    // MARK: Replicas

    /// This store's instance id (``InstanceID``): the owner written on every watch and delivery
    /// lease taken through it, and its row in the `instances` table.
    var instanceID: String { get }

    /// Records this instance as live at `now` (Unix seconds, fractional; `slowedAt`: when Douyin last
    /// answered this instance 2119003, if ever), then reaps the instances whose last heartbeat is
    /// older than `now - staleAfter`: deletes their rows and ends their watch and delivery leases,
    /// so what a dead replica held is claimed again at once. Returns the instances now live.
    func heartbeat(now: Double, staleAfter: Double, slowedAt: Double?) async throws -> ReplicaMembership

    /// Removes this instance's row and ends its leases (graceful shutdown: the other replicas take
    /// its share of the QPS budget at their next heartbeat).
    func leave() async throws

    // MARK: Push messages

    /// Whether the push message `messageID` (Douyin's `Msg-Id`) was handled already, by any instance.
    func pushMessageSeen(_ messageID: String) async throws -> Bool

    /// Remembers that the push message `messageID` was handled at `at` (Unix seconds); again is harmless.
    func rememberPushMessage(_ messageID: String, at: Double) async throws

    /// Forgets the push message ids remembered before `cutoff` (Unix seconds). Returns how many.
    func prunePushMessages(before cutoff: Double) async throws -> Int

    // MARK: Console and backfill (issue 15)

    /// The events a backfill to `sink` considers: `time` at or after `since` (Unix seconds),
    /// optionally of one type or one order, with a sequence after `after`; oldest first, at most
    /// `limit` (page with the last one's sequence). Each says whether a delivery of it to `sink` is
    /// already stored, in any state (``BackfillCandidate/hasDelivery``).
    func backfillCandidates(sink: String, since: Int64, type: EventType?, orderID: String?, after sequence: Int64, limit: Int)
        async throws -> [BackfillCandidate]

    /// Events newest first, before the sequence `before` (from the newest when `nil`), optionally of
    /// one type, one order and one watch, at most `limit` (the console's event list and a watch's timeline).
    func eventsNewestFirst(before: Int64?, type: EventType?, orderID: String?, watchID: String?, limit: Int) async throws
        -> [CertWatchEvent]

    /// How many events were stored per hour from `since` (Unix seconds) on, by event `time`: the hour's
    /// start (Unix seconds, a multiple of 3,600) → count; hours without events are absent.
    func eventCountsByHour(since: Int64) async throws -> [Int64: Int]

    /// The deliveries of these events (every sink), by delivery id.
    func deliveries(eventIDs: [String]) async throws -> [Delivery]

    // MARK: Retention and health

    /// Deletes up to `limit` delivery attempts that started before `cutoff` (Unix seconds). Returns how many.
    func pruneDeliveryAttempts(startedBefore cutoff: Double, limit: Int) async throws -> Int

    /// Deletes up to `limit` of the oldest events whose `time` is before `cutoff` (Unix seconds) and
    /// that have no open delivery, with their deliveries and those deliveries' attempts. Returns how
    /// many events.
    func pruneEvents(before cutoff: Int64, limit: Int) async throws -> Int

    /// Throws unless the database takes a write now (readiness).
    func checkWritable() async throws

    /// Releases the connections (PostgreSQL); the store must not be used afterwards. A no-op for SQLite.
    func close() async throws
}

extension CertWatchStorage {
    /// ``claimDue(now:limit:lease:targetedLead:)`` with the default ``PollPolicy/targetedLead``.
    public func claimDue(now: Int64, limit: Int, lease: Int64) async throws -> [Watch] {
        try await claimDue(now: now, limit: limit, lease: lease, targetedLead: PollPolicy().targetedLead)
    }

    /// The last stored snapshot of each certificate of a watch, by certificate id.
    public func snapshots(watchID: String) async throws -> [String: CertificateSnapshot] {
        try await snapshots(watchIDs: [watchID])[watchID] ?? [:]
    }

    /// Appends events outside a poll (skipping ids already stored), in one transaction, without
    /// deliveries (``Outbox/append(_:to:)`` routes them). Returns the appended ones with their `sequence`.
    @discardableResult
    public func append(_ events: [CertWatchEvent]) async throws -> [CertWatchEvent] {
        try await append(events, route: nil)
    }
}
