import CertWatchCore
import DouyinOpenAPI
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of the watcher.
package struct WatcherConfiguration: Sendable {
    /// When to poll.
    package var policy: PollPolicy
    /// Backoff for transient errors.
    package var backoff: RetryBackoff
    /// Douyin QPS budget for the app (default 10).
    package var qps: Double
    /// Polls in flight at once (default 8).
    package var concurrency: Int
    /// How long a claimed watch stays leased before another poll may take it, seconds; `nil`
    /// (the default): ``lease(requestTimeout:)`` of the Douyin client's request timeout, so a poll
    /// that a crash or a hang abandoned is taken again after about two request timeouts.
    package var lease: Int64?
    /// Longest idle wait between checks for due watches, seconds.
    package var idleCheck: Double
    /// When failing polls make a watch stalled (`poll.stall_after_failures`, `poll.stall_after`).
    package var stall: StallPolicy

    package init(
        policy: PollPolicy = PollPolicy(), backoff: RetryBackoff = RetryBackoff(), qps: Double = 10,
        concurrency: Int = 8, lease: Int64? = nil, idleCheck: Double = 1, stall: StallPolicy = StallPolicy()
    ) {
        self.stall = stall
        self.policy = policy
        self.backoff = backoff
        self.qps = qps
        self.concurrency = concurrency
        self.lease = lease
        self.idleCheck = idleCheck
    }

    /// Seconds added to two request timeouts in ``lease(requestTimeout:)``: the wait for the QPS
    /// budget and the poll's commit.
    package static let leaseMargin: Int64 = 10

    /// The lease of a claimed watch for a Douyin client whose requests time out after
    /// `requestTimeout`: two request timeouts (a poll is one query, or a query, a token refresh
    /// and one retry whose token call usually answers at once) plus ``leaseMargin``, in whole
    /// seconds. 15 s (the default `douyin.request_timeout`) → 40 s.
    package static func lease(requestTimeout: Duration) -> Int64 {
        Int64((2 * requestTimeout.inSeconds).rounded(.up)) + leaseMargin
    }
}

/// What a poll did.
package enum PollOutcome: Sendable, Hashable {
    /// Success: the events appended (with sequences).
    case polled(events: [CertWatchEvent])
    /// A transient error; retried at the given time.
    case retrying(DouyinAPIError, at: Int64)
    /// A permanent error: the watch failed (a `watch.failed` event was appended).
    case failed(DouyinAPIError)
    /// Douyin answered 2119005 for the watch's stored account: the account's watches are paused.
    case paused(DouyinAPIError)
    /// The store could not be read or written; the lease expires and the poll is redone.
    case storeError(String)
}

/// Polls due watches within the QPS budget, diffs each response against the stored snapshots and
/// commits snapshots, events and the next poll time in one transaction.
///
/// A watch whose polls keep failing (``WatcherConfiguration/stall``) gets one `watch.stalled` event
/// and shows as ``Watch/State/stalled``; its next successful poll appends `watch.recovered`. What a
/// response carried that was read anyway (``DouyinDecodeWarning``) is counted in
/// `certwatch_decode_warnings_total{field}` and logged with the poll.
///
/// A `Service`: ``run()`` loops until graceful shutdown, finishing the polls in flight.
/// ``pollDue()`` and ``poll(_:)`` are the steps, callable directly by tests and tools.
package final class Watcher: Service {
    /// The storage roles it uses: claims and commits, the active watch count, and the accounts
    /// (a 2119005 pauses an account's watches).
    package let store: any PollSchedule & WatchRegistry & AccountRegistry
    /// The Douyin client.
    package let client: DouyinClient
    /// The clock.
    package let clock: any WallClock
    /// The shared QPS budget.
    package let budget: QPSBudget
    /// Settings.
    package let configuration: WatcherConfiguration
    /// How long each claimed watch is leased, seconds: ``WatcherConfiguration/lease``, or
    /// ``WatcherConfiguration/lease(requestTimeout:)`` of ``client``'s request timeout.
    package let lease: Int64
    /// Queries per second and Douyin errors by code, lately (the operator console shows them).
    package let activity = PollActivity()
    private let differ: Differ
    private let logger: Logger
    private let onAppend: @Sendable ([CertWatchEvent]) -> Void
    private let route: EventRouter?
    /// Active watches counted at a Unix second, for sharing the budget among them.
    private let activeWatches = Mutex<(count: Int, at: Int64)?>(nil)
    /// The change-rate schedule: learns from every poll's snapshots, decides every next poll.
    private let schedule: Mutex<AdaptiveSchedule>
    /// Wakes the hint lane when a hint is taken in this process (``hintTaken()``).
    let hintSignal = WakeSignal()
    /// How often the active watches are counted again, seconds.
    static let activeCountInterval: Int64 = 60

    /// - Parameters:
    ///   - onAppend: called after each commit with the events appended (wakes streams and dispatcher).
    ///   - route: routes each poll's appended events inside its transaction (``Outbox/router``).
    package init(
        store: any PollSchedule & WatchRegistry & AccountRegistry, client: DouyinClient, clock: any WallClock = SystemWallClock(),
        configuration: WatcherConfiguration = WatcherConfiguration(), logger: Logger = Logger(label: "certwatch.watcher"),
        onAppend: @escaping @Sendable ([CertWatchEvent]) -> Void = { _ in },
        route: EventRouter? = nil
    ) {
        self.store = store
        self.client = client
        self.clock = clock
        self.configuration = configuration
        self.lease = configuration.lease ?? WatcherConfiguration.lease(requestTimeout: client.requestTimeout)
        self.budget = QPSBudget(qps: configuration.qps, clock: clock)
        self.differ = Differ(expiringLeadTimes: configuration.policy.expiringLeadTimes)
        self.schedule = Mutex(AdaptiveSchedule(policy: configuration.policy))
        self.logger = logger
        self.onAppend = onAppend
        self.route = route
    }

    /// Says that a hint was taken in this process (``PollSchedule/hint(_:now:)`` returned watches):
    /// the hint lane looks for hinted watches at once instead of at its next idle check.
    package func hintTaken() { hintSignal.signal() }

    /// Polls until graceful shutdown with ``WatcherConfiguration/concurrency`` workers, each taking
    /// the earliest due watch; polls in flight complete first.
    package func run() async throws {
        logger.info("watcher started", metadata: ["qps": "\(configuration.qps)", "concurrency": "\(configuration.concurrency)"])
        _ = await activeWatchCount(now: clock.unixNow)  // sets certwatch_poll_base_interval_seconds from the start
        await withDiscardingTaskGroup { group in
            for _ in 0..<max(configuration.concurrency, 1) {
                group.addTask { await self.work() }
            }
            group.addTask { await self.pollHints() }
        }
        logger.info("watcher stopped")
    }

    private func work() async {
        // Whether the last claim polled something: then claim again at once; else read first, so an
        // idle worker takes neither a token nor the write that claims until a watch is due.
        var busy = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let now = clock.unixNow
            var nextDue: Int64?
            do {
                let wasBusy = busy
                busy = false
                if !wasBusy { nextDue = try await store.nextDue(now: now) }
                if wasBusy || (nextDue.map { $0 <= now } ?? false) {
                    busy = try await claimAndPoll()
                    if busy { continue }
                    if wasBusy { nextDue = try await store.nextDue(now: now) }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.error("cannot claim due watches", metadata: ["error": "\(error)"])
            }
            let wait = min(configuration.idleCheck, max(0.05, nextDue.map { Double($0 - now) } ?? configuration.idleCheck))
            do {
                try await cancelWhenGracefulShutdown { try await self.clock.sleep(seconds: wait) }
            } catch {
                return
            }
        }
    }

    /// Takes a token of the budget, then claims due watches and polls them; `false` when another
    /// worker or replica had claimed them first (the token is given back).
    ///
    /// The token comes before the claim so an instance claims only what it can poll now: a watch
    /// claimed ahead waits behind this instance's budget while another replica's budget idles (with
    /// two replicas at full load, the greedier one would hold every due watch and the other poll
    /// none, halving the app's polls). ``claimLimit`` keeps each worker's batch within about a
    /// second of this instance's rate.
    private func claimAndPoll() async throws -> Bool {
        try await budget.acquire()
        let now = clock.unixNow
        let claimed: [Watch]
        do {
            claimed = try await store.claimDue(
                now: now, limit: await claimLimit(), lease: lease, targetedLead: configuration.policy.targetedLead)
        } catch {
            await budget.giveBack()
            throw error
        }
        guard !claimed.isEmpty else {
            await budget.giveBack()
            return false
        }
        // One claim and one snapshot read serve the batch's polls.
        let previous = try await store.snapshots(watchIDs: claimed.map(\.id))
        for (index, watch) in claimed.enumerated() {
            if Task.isShuttingDownGracefully || Task.isCancelled {
                // Not polled: free them for the next start instead of waiting out the lease.
                if index == 0 { await budget.giveBack() }
                try await store.releaseLeases(watchIDs: claimed[index...].map(\.id))
                break
            }
            // The batch's earlier polls took the whole lease (slow answers): the rest may
            // already be claimed by another worker, so claim again instead.
            if clock.unixNow >= now + lease { break }
            _ = await poll(watch, previous: previous[watch.id] ?? [:], tokenTaken: index == 0)
        }
        return true
    }

    /// Watches one worker claims at once: up to ``claimBatch``, as many as this instance's share of
    /// the budget polls in about a second across its ``WatcherConfiguration/concurrency`` workers,
    /// and at least one (at the default 10 qps and 8 workers, one).
    private func claimLimit() async -> Int {
        let rate = await budget.rates.current
        return max(1, min(Self.claimBatch, Int(rate) / max(configuration.concurrency, 1)))
    }

    /// Polls every watch due now, up to ``WatcherConfiguration/concurrency`` at a time, until none is
    /// due. Returns the outcomes. For tests and tools; ``run()`` is the long-running form.
    package func pollDue() async throws -> [PollOutcome] {
        var outcomes: [PollOutcome] = []
        while true {
            let due = try await store.claimDue(
                now: clock.unixNow, limit: configuration.concurrency, lease: lease,
                targetedLead: configuration.policy.targetedLead)
            if due.isEmpty { return outcomes }
            outcomes += await withTaskGroup(of: PollOutcome.self) { group in
                for watch in due { group.addTask { await self.poll(watch) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
    }

    /// Polls one watch: query, diff, commit; schedules the next poll or records the error.
    package func poll(_ watch: Watch) async -> PollOutcome {
        await poll(watch, previous: nil)
    }

    /// Watches each worker claims at once (their polls run one after another within the lease).
    static let claimBatch = 4

    /// ``poll(_:)`` with the watch's stored snapshots already read (`nil`: read them here);
    /// `tokenTaken`: the caller already took this poll's token of the budget.
    func poll(_ watch: Watch, previous known: [String: CertificateSnapshot]?, tokenTaken: Bool = false) async -> PollOutcome {
        do {
            if !tokenTaken { try await budget.acquire(priority: watch.hintedAt != nil || watch.targeted) }
        } catch {
            return .storeError("cancelled")
        }
        let started = ContinuousClock.now
        activity.recordQuery(at: clock.unixNow)
        let result: CertificateQueryResult
        do {
            result = try await client.queryCertificates(watch.query)
            await budget.succeeded()
        } catch {
            CertWatchMetrics.douyinRequest(nanoseconds: (ContinuousClock.now - started).inNanoseconds)
            return await handle(error, for: watch)
        }
        CertWatchMetrics.douyinRequest(nanoseconds: (ContinuousClock.now - started).inNanoseconds)
        CertWatchMetrics.poll(outcome: "ok", code: "0")
        do {
            let now = clock.unixNow
            let previous: [String: CertificateSnapshot]
            if let known { previous = known } else { previous = try await store.snapshots(watchID: watch.id) }
            var certificates: [StoredCertificate] = []
            var events: [CertWatchEvent] = []
            // A hinted poll's events were first seen by what hinted it; a routine or targeted one's by the poll.
            let detection: Detection = watch.hintedAt != nil ? watch.hintedBy ?? .push : .poll
            if let since = watch.stalledSince {
                events.append(
                    CertWatchEvent(
                        recovered: WatchStall(since: since, consecutiveFailures: watch.consecutiveFailures),
                        watch: watch.info, time: now))
            }
            for certificate in result.certificates {
                let snapshot = differ.carried(
                    CertificateSnapshot(certificate, observedAt: now), from: previous[certificate.certificateID.value])
                let transitions = differ.transitions(
                    from: previous[snapshot.certificateID], to: snapshot, now: now)
                events += transitions.map {
                    var event = CertWatchEvent(transition: $0, snapshot: snapshot, watch: watch.info, time: now)
                    event.data.detectedBy = detection
                    return event
                }
                certificates.append(StoredCertificate(snapshot: snapshot, raw: certificate.raw))
            }
            var random = SystemRandomNumberGenerator()
            let activeCount = await activeWatchCount(now: now)
            let plan = schedule.withLock {
                $0.next(
                    after: certificates.map(\.snapshot), previous: previous, firstSeen: watch.createdAt,
                    account: watch.accountID, now: now, qps: configuration.qps, activeWatches: activeCount,
                    hinted: watch.hintedAt != nil, random: &random)
            }
            let nextPollAt: Int64? = if case .pollAt(let at) = plan.decision { at } else { nil }
            let appended = try await store.commitPoll(
                PollCommit(
                    watchID: watch.id, polledAt: now, certificates: certificates, events: events, nextPollAt: nextPollAt,
                    nextPollTargeted: plan.targeted,
                    finalState: .done, detectedBy: detection), route: route)
            published(appended)
            for warning in result.warnings {
                CertWatchMetrics.decodeWarning(field: warning.field)
            }
            let metadata: Logger.Metadata = [
                "watch": "\(watch.id)", "certificates": "\(certificates.count)", "events": "\(appended.count)",
            ]
            if result.warnings.isEmpty {
                logger.debug("polled", metadata: metadata)
            } else {
                logger.warning(
                    "polled, Douyin's answer drifted",
                    metadata: metadata.merging(
                        ["logid": "\(result.logid ?? "-")", "warnings": "\(result.warnings.map(\.description))"]) { $1 })
            }
            return .polled(events: appended)
        } catch {
            logger.error("cannot store poll", metadata: ["watch": "\(watch.id)", "error": "\(error)"])
            return .storeError("\(error)")
        }
    }

    /// The active watches that share the budget (counted at most once a minute). When counted, the
    /// gauge `certwatch_poll_base_interval_seconds` shows the routine interval of a watch at the
    /// recent mean rate (``AdaptiveSchedule``; faster-changing watches get shorter ones).
    func activeWatchCount(now: Int64) async -> Int {
        var count = activeWatches.withLock { $0 }
        let stale = count.map { now - $0.at >= Self.activeCountInterval || now < $0.at } ?? true
        if stale, let fresh = try? await store.activeWatchCount() {
            count = (fresh, now)
            activeWatches.withLock { $0 = count }
            let typical = schedule.withLock { schedule in
                let allocation = schedule.allocation
                let rootRate = allocation.meanRootRate
                return schedule.policy.routineInterval(
                    rate: rootRate * rootRate,
                    scale: allocation.scale(qps: configuration.qps, activeWatches: fresh, now: now))
            }
            CertWatchMetrics.baseInterval(seconds: typical)
        }
        return count?.count ?? 0
    }

    /// Counts committed events in `certwatch_events_total{type}` and hands them to `onAppend`.
    private func published(_ appended: [CertWatchEvent]) {
        for event in appended {
            CertWatchMetrics.eventCommitted(event.type)
        }
        if !appended.isEmpty { onAppend(appended) }
    }

    private func handle(_ error: any Error, for watch: Watch) async -> PollOutcome {
        let apiError =
            error as? DouyinAPIError ?? DouyinAPIError(errorClass: .retry, source: .transport, detail: "\(error)")
        CertWatchMetrics.poll(
            outcome: apiError.errorClass.rawValue,
            code: apiError.code.map(String.init) ?? apiError.httpStatus.map(String.init) ?? "none")
        let now = clock.unixNow
        activity.recordError(apiError, watchID: watch.id, at: now)
        do {
            // The merchant has not authorized the app (2119005): the account's watches pause together,
            // and resume when a later call for the account succeeds (AccountMonitor). Only for a stored account.
            if apiError.code == 2_119_005, let accountID = watch.accountID, try await store.account(id: accountID) != nil {
                let paused = try await store.setAuthorization(.unauthorized, of: accountID, reason: apiError.description, now: now)
                try await store.releaseLeases(watchIDs: [watch.id])
                logger.warning(
                    "the merchant has not authorized the app (2119005): the account's watches are paused",
                    metadata: ["watch": "\(watch.id)", "account": "\(accountID)", "paused": "\(paused)", "logid": "\(apiError.logid ?? "")"])
                return .paused(apiError)
            }
            // 2119005 for a watch whose account certwatch does not store: the merchant may authorize
            // the app again, so the watch retries (and stalls) rather than failing for good.
            if apiError.errorClass == .permanent, apiError.code != 2_119_005 {
                let event = CertWatchEvent(failure: apiError, watch: watch.info, time: now)
                let appended = try await store.commitPoll(
                    PollCommit(
                        watchID: watch.id, polledAt: now, events: [event], nextPollAt: nil, finalState: .failed,
                        lastError: apiError.description), route: route)
                published(appended)
                logger.warning("watch failed", metadata: ["watch": "\(watch.id)", "error": "\(apiError)"])
                return .failed(apiError)
            }
            if apiError.errorClass == .slowDown { await budget.slowDown() }
            var random = SystemRandomNumberGenerator()
            let failures = watch.consecutiveFailures + 1
            let failingSince = watch.failingSince ?? now
            let retryAt = now + configuration.backoff.delay(attempt: Int(failures), random: &random)
            var events: [CertWatchEvent] = []
            var stalledSince = watch.stalledSince
            // Rate limiting (2119003) is the app's quota, not this watch: it counts only by duration.
            let counted = apiError.errorClass == .slowDown ? 0 : failures
            if stalledSince == nil,
                configuration.stall.isStalled(consecutiveFailures: counted, failingSince: failingSince, now: now)
            {
                stalledSince = failingSince
                let stall = WatchStall(since: failingSince, consecutiveFailures: failures)
                events.append(CertWatchEvent(stalled: stall, lastError: apiError, watch: watch.info, time: now))
            }
            let appended = try await store.commitPoll(
                PollCommit(
                    watchID: watch.id, polledAt: now, events: events, nextPollAt: retryAt, consecutiveFailures: failures,
                    lastError: apiError.description, failingSince: failingSince, stalledSince: stalledSince),
                route: events.isEmpty ? nil : route)
            published(appended)
            if !appended.isEmpty {
                logger.warning(
                    "watch stalled", metadata: ["watch": "\(watch.id)", "failures": "\(failures)", "error": "\(apiError)"])
            }
            logger.info("poll failed, retrying", metadata: ["watch": "\(watch.id)", "error": "\(apiError)", "retry_at": "\(UnixTime.rfc3339(retryAt))"])
            return .retrying(apiError, at: retryAt)
        } catch {
            logger.error("cannot store poll failure", metadata: ["watch": "\(watch.id)", "error": "\(error)"])
            return .storeError("\(error)")
        }
    }
}
