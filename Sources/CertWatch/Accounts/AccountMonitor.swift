import CertWatchCore
import DouyinOpenAPI
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The per-account detectors: the **change feed** and the **sweep** of every stored merchant
/// account (``Account``), each on its own interval, within its own API's quota.
///
/// - **Feed** (订单查询 by `update_order_start_time`/`update_order_end_time`): every order updated
///   in the window makes its watches due now on the hint lane (``PollSchedule/hint(_:now:)`` with
///   source `feed`), exactly as a push does; an order no watch follows is registered (label
///   `source=feed`). Douyin does not document which changes move `update_order_time`: the feed is a
///   hint that can miss, and the certificate query still decides what happened.
/// - **Sweep** (订单查询 by creation time, and 验券历史查询): an order created in the window that
///   no watch follows is registered (label `source=sweep`); a verification (`verify_id`) certwatch
///   has no `certificate.verified` for makes its certificate's watch due now (registered by
///   `encrypted_code` when unknown); a verification already cancelled (`cancel_time`) that no
///   poll saw yields `certificate.verified` and `certificate.verify_cancelled` from the record
///   itself, with the ids a poll would have given them (``CertWatchEvent/eventID(subject:type:discriminator:)``
///   over the `certificate_id`, the type and the `verify_id`), so a later poll never repeats them.
///
/// Douyin's answers per account: 2119005 (the merchant has not authorized the app) marks the
/// account unauthorized and pauses its watches (``AccountRegistry/setAuthorization(_:of:reason:now:)``);
/// the next successful call resumes them. 2190004 (no scope for the API) marks that detector
/// `not_permitted` and stops calling it; certificate polling goes on. 2119003 slows only the API
/// that answered it. Other errors keep the high-water mark, so the next run asks for the window again.
///
/// A `Service`: ``run()`` loops until graceful shutdown; ``runDue()`` is the step, for tests
/// driving an injected clock.
package final class AccountMonitor: Service {
    /// The storage roles it uses.
    package typealias Storage = AccountRegistry & WatchRegistry & PollSchedule & EventLog

    let store: any Storage
    let client: DouyinClient
    let clock: any WallClock
    /// The order query's quota (``DouyinAPIKind/orderQuery``).
    package let orderBudget: QPSBudget
    /// The verify-record query's quota (``DouyinAPIKind/verifyRecordQuery``).
    package let verifyRecordBudget: QPSBudget
    let schedule: DetectorSchedule
    /// The endpoint family of the watches it registers (`push.api`).
    let api: CertificateAPI
    /// The configuration's `accounts:`, saved (source `file`) when ``run()`` starts.
    let fileAccounts: [AccountSettings]
    /// Routes the sweep's own events in their transaction (``Outbox/router``).
    let route: EventRouter?
    /// Called with the events the sweep appended (wakes streams and the dispatcher).
    let onAppend: @Sendable ([CertWatchEvent]) -> Void
    /// Called after a hint named watches (wakes the watcher's hint lane).
    let onHint: @Sendable () -> Void
    let logger: Logger
    private let changed = WakeSignal()
    /// The feed's orders seen lately, per account: order id → `update_order_time`. The windows
    /// overlap, so an order updated once is named by several runs: it is hinted once per update.
    private let recentUpdates = Mutex<[String: [String: Int64]]>([:])
    /// The most pages one run reads from one API (a longer window waits for the next run).
    static let maxPages = 50

    package init(
        store: any Storage, client: DouyinClient, clock: any WallClock, orderQPS: Double, verifyRecordQPS: Double,
        schedule: DetectorSchedule = DetectorSchedule(), api: CertificateAPI = .compreRetail, fileAccounts: [AccountSettings] = [],
        route: EventRouter? = nil,
        onAppend: @escaping @Sendable ([CertWatchEvent]) -> Void = { _ in }, onHint: @escaping @Sendable () -> Void = {},
        logger: Logger = Logger(label: "certwatch.accounts")
    ) {
        self.store = store
        self.client = client
        self.clock = clock
        self.orderBudget = QPSBudget(qps: orderQPS, clock: clock)
        self.verifyRecordBudget = QPSBudget(qps: verifyRecordQPS, clock: clock)
        self.schedule = schedule
        self.api = api
        self.fileAccounts = fileAccounts
        self.route = route
        self.onAppend = onAppend
        self.onHint = onHint
        self.logger = logger
    }

    /// Says that accounts were saved or removed: the loop looks again at once.
    package func accountsChanged() { changed.signal() }

    /// Saves the configuration's accounts, then runs the due detectors until graceful shutdown;
    /// the runs in flight complete. Throws the store's errors when the accounts cannot be saved.
    package func run() async throws {
        try await saveFileAccounts()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let generation = changed.generation
            let next: Int64?
            do {
                next = try await runDue()
            } catch {
                logger.error("cannot read the accounts", metadata: ["error": "\(error)"])
                next = clock.unixNow + 5
            }
            // At least every 5 s: accounts saved by another process (the CLI, another replica) start soon.
            let wait = max(0.05, min(5, next.map { Double($0) - clock.now() } ?? 5))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.changed.wait(after: generation) }
                group.addTask { try? await self.clock.sleep(seconds: wait) }
                group.addTask { try? await gracefulShutdown() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Saves the configuration's `accounts:` (source `file`; the state of stored ones is kept).
    package func saveFileAccounts() async throws {
        for settings in fileAccounts {
            let saved = try await store.saveAccount(settings, source: .file, now: clock.unixNow)
            if saved.created { logger.info("account added from the configuration", metadata: ["account": "\(settings.accountID)"]) }
        }
    }

    /// Runs every detector due now (accounts side by side), and returns when the next is due (Unix seconds).
    @discardableResult
    package func runDue() async throws -> Int64? {
        let accounts = try await store.accounts()
        let plan = schedule.plan(accounts, now: clock.unixNow)
        let byID = Dictionary(uniqueKeysWithValues: accounts.map { ($0.accountID, $0) })
        await withDiscardingTaskGroup { group in
            for run in plan.due {
                guard let account = byID[run.accountID] else { continue }
                group.addTask { await self.run(run.detector, of: account) }
            }
        }
        return try await schedule.plan(store.accounts(), now: clock.unixNow).next
    }

    /// One run of `detector` for `account`, its outcome stored in the account's state.
    func run(_ detector: AccountDetector, of account: Account) async {
        let now = clock.unixNow
        var state = account.state(of: detector)
        state.lastRunAt = now
        state.runs += 1
        do {
            let found: (seen: Int, hinted: Int)
            switch detector {
            case .feed:
                let window = schedule.window(
                    highWater: state.highWater, now: now, firstLookback: account.settings.feed.interval + schedule.overlap)
                found = try await feed(account, window: window, now: now)
                state.highWater = window.end
            case .sweep:
                // Window by window (at most a span past each mark) until both marks reach now, at
                // most 24 windows a run: a sweep catching up reads the history in pieces.
                var total = (seen: 0, hinted: 0)
                for _ in 0..<24 {
                    let span = state.windowSpan ?? schedule.maxSpan
                    let orders = schedule.window(highWater: state.highWater, now: now, span: span)
                    let records = schedule.window(highWater: state.verifyHighWater, now: now, span: span)
                    do {
                        let part = try await sweep(account, orders: orders, records: records, now: now)
                        total = (total.seen + part.seen, total.hinted + part.hinted)
                    } catch let error as DouyinAPIError {
                        if case .paging(.tooManyPages) = error.source {
                            state.windowSpan = schedule.nextSpan(after: span, tooMany: true)
                        }
                        throw error
                    }
                    state.highWater = orders.end
                    state.verifyHighWater = records.end
                    state.windowSpan = schedule.nextSpan(after: span, tooMany: false)
                    if orders.end >= now, records.end >= now { break }
                }
                found = total
            }
            state.status = .ok
            state.lastSuccessAt = now
            state.seen += Int64(found.seen)
            state.hinted += Int64(found.hinted)
            state.lastError = nil
            state.lastErrorCode = nil
            if account.authorization.status == .unauthorized {
                let resumed = try await store.setAuthorization(.authorized, of: account.accountID, reason: nil, now: now)
                logger.info("account authorized again; watches resumed", metadata: ["account": "\(account.accountID)", "resumed": "\(resumed)"])
            }
        } catch {
            let apiError = error as? DouyinAPIError ?? DouyinAPIError(errorClass: .retry, source: .transport, detail: "\(error)")
            state.lastError = apiError.description
            state.lastErrorCode = apiError.code.map(Int.init)
            state.lastLogid = apiError.logid
            switch apiError.code {
            case 2_119_005?:
                state.status = .unauthorized
                let paused = (try? await store.setAuthorization(.unauthorized, of: account.accountID, reason: apiError.description, now: now)) ?? 0
                logger.warning(
                    "the merchant has not authorized the app (2119005); its watches are paused",
                    metadata: ["account": "\(account.accountID)", "detector": "\(detector)", "paused": "\(paused)", "logid": "\(apiError.logid ?? "")"])
            case 2_190_004?:
                state.status = .notPermitted
                logger.warning(
                    "the app has no scope for this API (2190004); not called again until the account is saved again",
                    metadata: ["account": "\(account.accountID)", "detector": "\(detector)", "logid": "\(apiError.logid ?? "")"])
            default:
                state.status = .failing
                logger.warning("account detector failed", metadata: ["account": "\(account.accountID)", "detector": "\(detector)", "error": "\(apiError)"])
            }
        }
        do {
            try await store.recordDetector(detector, of: account.accountID, state: state)
        } catch {
            logger.error("cannot store an account detector's state", metadata: ["account": "\(account.accountID)", "error": "\(error)"])
        }
        CertWatchMetrics.accountDetectorRun(detector: detector.rawValue, status: state.status.rawValue)
    }

    // MARK: The feed

    /// The orders of `account` updated in `window`: their watches hinted, unknown ones registered.
    func feed(_ account: Account, window: (start: Int64, end: Int64), now: Int64) async throws -> (seen: Int, hinted: Int) {
        let budget = orderBudget
        let orders = try await Self.paced(budget) { () async throws(DouyinAPIError) in
            try await client.allOrders(
                OrderQuery(accountID: account.accountID, updateOrderStartTime: window.start, updateOrderEndTime: window.end),
                maxPages: Self.maxPages, beforePage: { try await budget.acquire() })
        }
        let ids = newUpdates(ordersOfInterest(orders.orders, account: account), account: account.accountID, since: window.start)
        try await registerUnknown(orderIDs: ids, account: account, source: .feed, now: now)
        let hinted = try await hint(HintTargets(orderIDs: ids, source: .feed), now: now)
        return (orders.orders.count, hinted)
    }

    // MARK: The sweep

    /// The orders of `account` created in `orders` (unknown ones registered) and its verifications
    /// recorded in `records` (checked against the events).
    func sweep(_ account: Account, orders: (start: Int64, end: Int64), records: (start: Int64, end: Int64), now: Int64)
        async throws -> (seen: Int, hinted: Int)
    {
        let orderBudget = orderBudget
        let created = try await Self.paced(orderBudget) { () async throws(DouyinAPIError) in
            try await client.allOrders(
                OrderQuery(accountID: account.accountID, createOrderStartTime: orders.start, createOrderEndTime: orders.end),
                maxPages: Self.maxPages, beforePage: { try await orderBudget.acquire() })
        }
        let registered = try await registerUnknown(
            orderIDs: ordersOfInterest(created.orders, account: account).map(\.orderID), account: account, source: .sweep, now: now)
        var hinted = try await hint(HintTargets(orderIDs: registered, source: .sweep), now: now)

        let recordBudget = verifyRecordBudget
        let verifications = try await Self.paced(recordBudget) { () async throws(DouyinAPIError) in
            try await client.allVerifyRecords(
                VerifyRecordQuery(accountID: account.accountID, poiIDs: account.settings.poiIDs, startTime: records.start, endTime: records.end),
                maxPages: Self.maxPages, beforePage: { try await recordBudget.acquire() })
        }
        // The orders' certificates name their order: a record of one is hinted by its order (watched
        // or just registered), never registered a second time by its encrypted code.
        var orderOf: [String: String] = [:]
        for order in created.orders { for certificate in order.certificates { orderOf[certificate.certificateID] = order.orderID } }
        hinted += try await reconcile(verifications.records, account: account, orderOf: orderOf, now: now)
        return (created.orders.count + verifications.records.count, hinted)
    }

    /// Checks verify records against the stored events: a verification without its
    /// `certificate.verified` makes its watch due; one already cancelled that no poll saw yields
    /// both events from the record. Returns how many watches were hinted.
    func reconcile(_ records: [VerifyHistoryRecord], account: Account, orderOf: [String: String] = [:], now: Int64) async throws -> Int {
        var expected: [String] = []
        for record in records {
            guard let certificateID = record.certificateID else { continue }
            expected.append(CertWatchEvent.eventID(subject: certificateID, type: .verified, discriminator: record.verifyID))
            expected.append(CertWatchEvent.eventID(subject: certificateID, type: .verifyCancelled, discriminator: record.verifyID))
        }
        let stored = try await store.storedEventIDs(among: expected)
        var hinted = 0
        var synthesized: [CertWatchEvent] = []
        for record in records {
            let verifiedID = record.certificateID.map {
                CertWatchEvent.eventID(subject: $0, type: .verified, discriminator: record.verifyID)
            }
            let cancelledID = record.certificateID.map {
                CertWatchEvent.eventID(subject: $0, type: .verifyCancelled, discriminator: record.verifyID)
            }
            let seenVerified = verifiedID.map(stored.contains) ?? false
            let seenCancelled = cancelledID.map(stored.contains) ?? false
            if !record.isCancelled ? seenVerified : (seenVerified && seenCancelled) { continue }
            // Its watch polls now: by certificate (stored snapshots) or encrypted code, registered by code when unknown.
            let order = record.orderID ?? record.certificateID.flatMap { orderOf[$0] }
            let targets = HintTargets(
                orderIDs: order.map { [$0] } ?? [], certificateIDs: record.certificateID.map { [$0] } ?? [],
                encryptedCodes: record.encryptedCode.map { [$0] } ?? [], source: .sweep)
            var ids = try await store.hint(targets, now: now)
            if ids.isEmpty, let code = record.encryptedCode {
                let registration = WatchRegistration(
                    encryptedCode: code, api: api, accountID: account.accountID, labels: ["source": AccountDetector.sweep.rawValue])
                if let watch = try? await store.register(registration, now: now, firstPollAt: now).watch {
                    ids = try await store.hint(HintTargets(encryptedCodes: [code], source: .sweep), now: now)
                    if ids.isEmpty { ids = [watch.id] }
                }
            }
            hinted += ids.count
            // A verification cancelled before any poll saw it: no poll ever can; the record is the evidence.
            if record.isCancelled, !seenVerified, let certificateID = record.certificateID, let watchID = ids.first,
                let watch = try await store.watch(id: watchID)
            {
                synthesized += Self.cancelledPair(record, certificateID: certificateID, watch: watch.info, now: now)
            }
        }
        if hinted > 0 { onHint() }
        if !synthesized.isEmpty {
            let appended = try await store.append(synthesized, route: route)
            if !appended.isEmpty { onAppend(appended) }
            logger.info(
                "verifications cancelled before any poll, from Douyin's verify records",
                metadata: ["account": "\(account.accountID)", "events": "\(appended.count)"])
        }
        return hinted
    }

    /// `certificate.verified` and `certificate.verify_cancelled` of a verify record with
    /// `cancel_time`, detected by the sweep at `now`, with a poll's ids.
    static func cancelledPair(_ record: VerifyHistoryRecord, certificateID: String, watch: WatchInfo, now: Int64)
        -> [CertWatchEvent]
    {
        let verification = Verification(
            verifyID: record.verifyID, poiID: record.poiID, verifyTime: record.verifyTime, verifyType: record.verifyType.map(Int64.init),
            canCancel: false)
        return [EventType.verified, .verifyCancelled].map { type in
            CertWatchEvent(
                id: CertWatchEvent.eventID(subject: certificateID, type: type, discriminator: record.verifyID),
                source: CertWatchEvent.source(of: watch), type: type, subject: certificateID, time: now,
                data: EventData(
                    watch: watch, verification: verification,
                    changes: type == .verifyCancelled
                        ? [FieldChange(field: "cancel_time", before: .null, after: record.cancelTime.map { .int($0) } ?? .null)] : [],
                    detectedBy: .sweep))
        }
    }

    // MARK: Shared

    /// Runs one API's page loop against its `budget`: a success counts towards restoring its rate, a
    /// 2119003 slows only this API's bucket.
    static func paced<T>(_ budget: QPSBudget, _ call: () async throws(DouyinAPIError) -> T) async throws(DouyinAPIError) -> T {
        do {
            let result = try await call()
            await budget.succeeded()
            return result
        } catch {
            if error.errorClass == .slowDown { await budget.slowDown() }
            throw error
        }
    }

    /// The orders of `orders` at the account's stores (every store when it names none), each once.
    func ordersOfInterest(_ orders: [DouyinOrder], account: Account) -> [DouyinOrder] {
        let stores = Set(account.settings.poiIDs)
        var seen = Set<String>()
        return orders.filter { order in
            if !stores.isEmpty, let poi = order.poiID, !stores.contains(poi) { return false }
            return seen.insert(order.orderID).inserted
        }
    }

    /// The ids of `orders` with an `update_order_time` this account's feed has not named yet (an
    /// order without one is always new); forgets what is older than `since` (the window's start).
    func newUpdates(_ orders: [DouyinOrder], account: String, since: Int64) -> [String] {
        recentUpdates.withLock { recent in
            var seen = recent[account, default: [:]].filter { $0.value >= since }
            let fresh = orders.filter { order in
                guard let updated = order.updateOrderTime else { return true }
                if seen[order.orderID].map({ $0 >= updated }) == true { return false }
                seen[order.orderID] = updated
                return true
            }
            recent[account] = seen
            return fresh.map(\.orderID)
        }
    }

    /// Registers the orders no watch follows (label `source`), due now. Returns their ids.
    @discardableResult
    func registerUnknown(orderIDs: [String], account: Account, source: Detection, now: Int64) async throws -> [String] {
        var unknown: [String] = []
        for id in orderIDs where try await store.watches(matching: id).isEmpty { unknown.append(id) }
        guard !unknown.isEmpty else { return [] }
        let registrations = unknown.map {
            WatchRegistration(orderID: $0, api: api, accountID: account.accountID, labels: ["source": source.rawValue])
        }
        let results = try await store.registerMany(registrations, now: now, firstPollAt: now)
        logger.info(
            "registered orders no backend registered", metadata: ["account": "\(account.accountID)", "by": "\(source)", "orders": "\(unknown.count)"])
        return zip(unknown, results).compactMap { id, result in (try? result.get()) != nil ? id : nil }
    }

    /// Hints `targets` (nothing when empty) and wakes the watcher when it named watches.
    func hint(_ targets: HintTargets, now: Int64) async throws -> Int {
        guard !targets.isEmpty else { return 0 }
        let ids = try await store.hint(targets, now: now)
        if !ids.isEmpty { onHint() }
        return ids.count
    }
}
