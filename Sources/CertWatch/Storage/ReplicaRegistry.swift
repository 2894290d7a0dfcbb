import CertWatchCore
import Foundation

/// Membership among replicas: this instance's id (the owner of every lease it takes), its
/// heartbeat (which reaps dead replicas and ends their leases) and its leave at shutdown. Used by
/// ``ReplicaHeartbeat``.
public protocol ReplicaRegistry: Sendable {
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

    /// Ends every watch and delivery lease and forgets the other instances' rows, when this instance
    /// holds the database alone (a SQLite file under ``InstanceLock``): the leases left are a dead
    /// process's (a crash or `kill -9` mid-poll), so those watches are due again at once instead of
    /// after their lease. Returns how many watch leases there were. On PostgreSQL, where another
    /// replica may hold them, nothing is released (0): they run out, or the heartbeat reaps them.
    func releaseOrphanedLeases() async throws -> Int
}
