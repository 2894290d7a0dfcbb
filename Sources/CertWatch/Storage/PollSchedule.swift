import CertWatchCore
import Foundation

/// The poll schedule: claims of due and hinted watches (leased so a poll in flight is never taken
/// twice), hints, the last snapshots, and the commit of one poll — snapshots, events, routing and
/// the watch's next poll in one transaction. Used by the watcher, the push intake (hints) and the
/// change feed.
///
/// A hint taken here does not wake a waiting watcher by itself: the caller says so in-process
/// (``Watcher/hintTaken()``); a watcher also looks for hints at least every
/// ``WatcherConfiguration/idleCheck`` seconds, for hints taken by another replica.
public protocol PollSchedule: Sendable {
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
}
