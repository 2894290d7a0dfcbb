import CertWatchCore
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps this instance in the database's `instances` table and the QPS budget divided among the
/// live replicas (issue: certwatch on replicas).
///
/// Every ``interval`` seconds it records a heartbeat (``ReplicaRegistry/heartbeat(now:staleAfter:slowedAt:)``),
/// which also reaps the replicas silent for ``staleAfter`` seconds and ends their leases, so their
/// watches and deliveries are taken over at once. From what the heartbeat finds:
/// - this instance's share of `poll.qps` becomes qps ÷ live replicas (``QPSBudget/share(among:)``);
/// - a replica joining others sends nothing for ``joinHold`` seconds, until every other replica's
///   next heartbeat has taken its smaller share: together they never exceed `poll.qps`;
/// - a 2119003 another replica reported slows this one down too (``QPSBudget/followSlowDown()``).
///
/// At graceful shutdown (it stops last) it leaves (``ReplicaRegistry/leave()``): the others take
/// its share at their next heartbeat. On SQLite (one instance per file) it finds itself alone.
package final class ReplicaHeartbeat: Service, Sendable {
    let store: any ReplicaRegistry
    let budget: QPSBudget
    /// The other APIs' quotas (order query, verify-record query): shared among replicas and held at
    /// a join like ``budget``; a 2119003 on one of them slows only that one, in this replica.
    let listBudgets: [QPSBudget]
    let clock: any WallClock
    /// Seconds between heartbeats.
    package let interval: Double
    /// A replica whose last heartbeat is older than this many seconds is dead.
    package let staleAfter: Double
    let logger: Logger
    /// Whether the first heartbeat was recorded, and the latest other replica's 2119003 followed.
    private let state = Mutex<(joined: Bool, followed: Double?)>((false, nil))

    /// - Parameters:
    ///   - interval: seconds between heartbeats (``interval(requestTimeout:)`` gives the default).
    ///   - staleAfter: seconds of silence after which a replica is reaped (three intervals by default).
    package init(
        store: any ReplicaRegistry, budget: QPSBudget, listBudgets: [QPSBudget] = [], clock: any WallClock, interval: Double,
        staleAfter: Double? = nil, logger: Logger = Logger(label: "certwatch.replicas")
    ) {
        self.store = store
        self.budget = budget
        self.listBudgets = listBudgets
        self.clock = clock
        self.interval = interval
        self.staleAfter = staleAfter ?? 3 * interval
        self.logger = logger
    }

    /// The heartbeat interval for a Douyin request timeout (seconds): a third of it, between 1 and 5 s.
    /// A dead replica is reaped after three intervals and found by a survivor's next heartbeat:
    /// within four intervals (20 s at the default 15 s timeout), where its watch leases alone would
    /// run two request timeouts plus 10 s.
    package static func interval(requestTimeout: Double) -> Double {
        min(5, max(1, requestTimeout / 3))
    }

    /// How long a replica that joins others waits before its first request, seconds: one interval
    /// (each other replica's next heartbeat) and half of one for their clocks and commits.
    package var joinHold: Double { interval * 1.5 }

    /// Records one heartbeat and acts on what it finds (see the type's documentation). The first
    /// one is the join: ``CertWatchServices/run()`` makes it before any service starts, so the
    /// watcher's first request already respects the hold and the share. Throws the store's errors.
    @discardableResult
    package func beat() async throws -> ReplicaMembership {
        let now = clock.now()
        let membership = try await store.heartbeat(now: now, staleAfter: staleAfter, slowedAt: await budget.slowedAt)
        let (joining, followed) = state.withLock { state in
            defer { state.joined = true }
            // Slow-downs from before this instance joined are history.
            if !state.joined { state.followed = membership.othersSlowedAt }
            return (!state.joined, state.followed)
        }
        if joining {
            if membership.live > 1 {
                for bucket in [budget] + listBudgets { await bucket.hold(until: now + joinHold) }
            }
            logger.info("joined", metadata: ["instance": "\(store.instanceID)", "replicas": "\(membership.live)"])
        }
        let before = await budget.replicas
        for bucket in [budget] + listBudgets { await bucket.share(among: membership.live) }
        if membership.live != before {
            let share = await budget.rates.current
            logger.info("replicas changed", metadata: ["replicas": "\(membership.live)", "qps_share": "\(share)"])
        }
        if !membership.reaped.isEmpty {
            logger.warning("replicas silent, their leases ended", metadata: ["reaped": "\(membership.reaped)"])
        }
        if let slowed = membership.othersSlowedAt, slowed > (followed ?? -.infinity) {
            state.withLock { $0.followed = slowed }
            await budget.followSlowDown()
            logger.info("another replica was rate limited (2119003): slowing down too")
        }
        return membership
    }

    /// Beats every ``interval`` until graceful shutdown, then leaves. The first beat waits an
    /// interval when ``CertWatchServices/run()`` already joined.
    package func run() async throws {
        var due = !state.withLock { $0.joined }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            if due {
                do {
                    try await beat()
                } catch {
                    logger.error("heartbeat failed", metadata: ["error": "\(error)"])
                }
            }
            due = true
            try? await cancelWhenGracefulShutdown { try await self.clock.sleep(seconds: self.interval) }
        }
        do {
            try await store.leave()
        } catch {
            logger.error(
                "cannot leave the replica set (the others reap this instance once its heartbeat is stale)",
                metadata: ["error": "\(error)"])
        }
    }
}
