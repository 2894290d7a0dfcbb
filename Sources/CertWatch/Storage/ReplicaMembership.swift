import Foundation

/// The certwatch instances sharing one database, as a heartbeat (``ReplicaRegistry/heartbeat(now:staleAfter:slowedAt:)``)
/// found them: on SQLite always this one; on PostgreSQL every replica whose heartbeat is fresh.
public struct ReplicaMembership: Sendable, Hashable {
    /// Live instances, this one included (at least 1).
    public var live: Int
    /// The latest 2119003 (rate limited) another live instance reported, Unix seconds; `nil` when none did.
    public var othersSlowedAt: Double?
    /// Instances found dead and reaped by this heartbeat (their leases ended).
    public var reaped: [String]

    public init(live: Int, othersSlowedAt: Double? = nil, reaped: [String] = []) {
        self.live = max(1, live)
        self.othersSlowedAt = othersSlowedAt
        self.reaped = reaped
    }
}

/// Instance ids: `HOST/PID/RANDOM` (e.g. `certwatch-7d9f-x2k/1/3fa9c1`), unique per process start,
/// readable in `instances` and in the logs.
public enum InstanceID {
    /// A fresh id for this process.
    public static func make() -> String {
        let host = ProcessInfo.processInfo.hostName.prefix(64)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(host)/\(ProcessInfo.processInfo.processIdentifier)/\(suffix)"
    }
}
