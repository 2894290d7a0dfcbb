import CertWatchCore
import DouyinOpenAPI
import Foundation

/// Simulated days of a store's vouchers on a virtual clock (no HTTP, no waiting): the adaptive
/// schedule (``AdaptiveSchedule``, the watcher's own code) against uniform fixed-interval polling
/// and main's fixed split, measured by API calls and by the detection latency of each ground-truth
/// event, with and without Douyin's pushes.
///
/// The workload (seeded; its parameters and the reasons for them are in BENCHMARKS.md, "The
/// schedule-efficiency model"): 40 stores (24 restaurants with lunch and dinner peaks, 8 cafés,
/// 8 entertainment venues open into the night), each its own merchant account and `poi_id`.
/// Vouchers are bought at a constant daily rate (hour of day: half flat over 08–24 local time, half
/// the store's profile an hour early); at the start of the warm-up day exactly `watchCount` are still
/// active, bought during the previous 90 days. A single voucher (80 %, valid 30 days) is used
/// soon (45 %: the first busy moment of the store after purchase), later (20 %: after a
/// log-normal delay, median 3 days, then the next busy moment), refunded (10 %, log-normal, median
/// 1 day) or never (25 %: it expires); 5 % of uses are cancelled within the hour. A times card
/// (20 %, 10 uses, valid 90 days) has its first use soon or later (half each), then one use every
/// log-normal 4 days (median) at busy moments; 5 % are refunded. "Busy moment": a Poisson process
/// whose intensity follows the store's hourly profile, one per hour on average while open.
///
/// The simulation runs a warm-up day (the schedule learns; nothing scored), the scored day, and a
/// 2-hour tail (so late events can still be detected). A poll at second `t` observes the
/// certificate exactly as it is at `t`. An event is detected at the first poll at or after it
/// (after it, for `expired`); a verification cancelled before any poll saw it leaves no trace, so
/// both its `verified` and its `verify_cancelled` count as missed; a `cancel_window_closed` needs a
/// poll that saw the verification while it was still cancellable.
package struct ScheduleSimulation: Sendable {
    /// Event types in the model, in report order.
    package static let eventTypes: [EventType] = [
        .verified, .verifyCancelled, .cancelWindowClosed, .timesCardUsed, .expiringSoon, .expired, .refunded,
    ]

    /// Start of the scored day, Unix seconds (16:00 UTC: 00:00 in China).
    package let dayStart: Int64 = 1_734_192_000
    /// Length of the scored day, seconds.
    package let dayLength: Int64 = 86_400
    /// Simulated before the scored day (the schedule learns), seconds.
    package let warmUp: Int64 = 86_400
    /// Simulated after the scored day (late events can be detected; not scored), seconds.
    package let tail: Int64 = 7_200
    /// How long a verification stays cancellable, seconds.
    package let cancelWindow: Int64 = 3_600
    /// Watches active at the start of the warm-up day that certwatch knows (registered by the backend).
    package let backlog: Int
    /// Entries of ``watches`` drawn for the backlog (the registered ones and the unregistered ones
    /// active at the start): the first `backlogEntries` indices.
    let backlogEntries: Int
    /// Share of bought vouchers the backend never registers (known to certwatch only once the change
    /// feed or the sweep registers them).
    package static let unregisteredShare = 0.1
    /// The watches' hidden timelines (backlog first, then those bought during the simulation).
    let watches: [SimulatedWatch]
    /// The stores.
    let stores: [Store]
    /// Every ground-truth event of the scored day.
    let events: [TruthEvent]
    /// Every change Douyin pushes a message for (verify, verify cancel, refund): (watch, time),
    /// over the whole simulation, time-ordered. The same changes may move the order's
    /// `update_order_time` (the change feed, at its fidelity).
    let pushes: [(watch: Int, time: Int64)]
    /// Per account (= store): indices into ``pushes`` of its changes, time-ordered.
    let accountChanges: [[Int]]
    /// Per account: its verifications (验券历史 records, cancelled ones included) over the whole
    /// simulation, (watch, index into its `uses`), ordered by `verify_time`.
    let accountUses: [[(watch: Int, use: Int)]]
    /// Per account: its orders by creation time, (watch) indices ordered by `registeredAt` (backlog included).
    let accountOrders: [[Int]]

    /// Simulation start, Unix seconds.
    package var simulationStart: Int64 { dayStart - warmUp }
    /// Simulation end, Unix seconds.
    package var simulationEnd: Int64 { dayStart + dayLength + tail }

    struct Store: Sendable {
        var poi: String
        var account: String
        /// Relative activity per UTC hour of day.
        var profile: [Double]
    }

    struct Use: Sendable {
        var id: String
        var time: Int64
        var cancelledAt: Int64?
    }

    struct SimulatedWatch: Sendable {
        var certificateID: String
        /// When it was bought (`create_order_time`); the backend registers it then unless `unregistered`.
        var registeredAt: Int64
        /// Never registered by the backend: certwatch knows it only once the feed or the sweep registers it.
        var unregistered = false
        var store: Int
        var expireTime: Int64
        var timesCount: Int64?
        var uses: [Use]
        var refundAt: Int64?
    }

    struct TruthEvent: Sendable {
        var watch: Int
        var type: EventType
        /// When it happened.
        var time: Int64
        /// Must be seen before this time, or it is missed (a verification later cancelled).
        var before: Int64?
        /// Requires a poll in `[seenFrom, time)` first (seen cancellable / seen verified).
        var seenFrom: Int64?
        /// Detected only strictly after `time` (`expired`).
        var strict: Bool = false
        /// The verification (index into the watch's `uses`) of a cancelled pair's `verified` and
        /// `verify_cancelled` (the sweep can report both from the verify record).
        var use: Int?
    }

    /// Local-time (UTC+8) hourly activity of the three kinds of store.
    static let restaurant: [Double] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 6, 3, 1, 0.5, 0.7, 3, 6, 5, 2, 1, 0, 0]
    static let cafe: [Double] = [0, 0, 0, 0, 0, 0, 0, 2, 4, 3, 2, 1.5, 2, 2, 3, 3, 2, 1.5, 1, 0, 0, 0, 0, 0]
    static let entertainment: [Double] = [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1.5, 2, 2, 1.5, 2, 3, 5, 6, 5, 3]

    /// Draws the stores and timelines from `seed`: `watchCount` watches active at the start of the
    /// warm-up day, plus those bought during the simulation at the same daily rate.
    package init(watchCount: Int, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var stores: [Store] = []
        var popularity: [Double] = []
        for index in 0..<40 {
            let local = index < 24 ? Self.restaurant : index < 32 ? Self.cafe : Self.entertainment
            let utc = (0..<24).map { local[($0 + 8) % 24] }
            stores.append(Store(poi: "70000000000000\(1000 + index)", account: "71000000000000\(1000 + index)", profile: utc))
            popularity.append(1 / pow(Double(index % 8 + 1), 0.8))
        }
        self.stores = stores
        self.backlog = watchCount
        let totalPopularity = popularity.reduce(0, +)
        let history: Int64 = 90 * 86_400
        let simulationStart = dayStart - warmUp
        let simulationEnd = dayStart + dayLength + tail
        let generator = TimelineGenerator(stores: stores, cancelWindow: cancelWindow)

        func pickStore() -> Int {
            var roll = Double.random(in: 0..<totalPopularity, using: &random)
            for (index, weight) in popularity.enumerated() {
                roll -= weight
                if roll < 0 { return index }
            }
            return stores.count - 1
        }

        // Which vouchers the backend never registers: a generator of their own, so the timelines
        // are drawn from the same stream as without them.
        var registration = SeededGenerator(seed: seed &+ 0x7265_6769)
        var watches: [SimulatedWatch] = []
        var draws = 0
        var known = 0
        while known < watchCount {
            draws += 1
            let store = pickStore()
            let purchase = generator.purchaseTime(store: store, from: simulationStart - history, to: simulationStart, random: &random)
            var watch = generator.timeline(index: watches.count, store: store, purchase: purchase, random: &random)
            watch.unregistered = Double.random(in: 0..<1, using: &registration) < Self.unregisteredShare
            if generator.isActive(watch, at: simulationStart) {
                watches.append(watch)
                if !watch.unregistered { known += 1 }
            }
        }
        self.backlogEntries = watches.count
        let span = simulationEnd - simulationStart
        let newPurchases = Int((Double(draws) * Double(span) / Double(history)).rounded())
        for _ in 0..<newPurchases {
            let store = pickStore()
            let purchase = generator.purchaseTime(store: store, from: simulationStart, to: simulationEnd, random: &random)
            var watch = generator.timeline(index: watches.count, store: store, purchase: purchase, random: &random)
            watch.unregistered = Double.random(in: 0..<1, using: &registration) < Self.unregisteredShare
            watches.append(watch)
        }
        self.watches = watches

        var events: [TruthEvent] = []
        var pushes: [(watch: Int, time: Int64)] = []
        let scored = dayStart..<(dayStart + dayLength)
        for (index, watch) in watches.enumerated() {
            let settledAt = generator.settledAt(watch)
            for (number, use) in watch.uses.enumerated() {
                pushes.append((index, use.time))
                if let cancel = use.cancelledAt {
                    pushes.append((index, cancel))
                    if scored.contains(use.time) {
                        events.append(TruthEvent(watch: index, type: .verified, time: use.time, before: cancel, use: number))
                    }
                    if scored.contains(cancel) {
                        events.append(
                            TruthEvent(watch: index, type: .verifyCancelled, time: cancel, seenFrom: use.time, use: number))
                    }
                    continue
                }
                if scored.contains(use.time) {
                    events.append(TruthEvent(watch: index, type: watch.timesCount == nil ? .verified : .timesCardUsed, time: use.time))
                }
                if scored.contains(use.time + cancelWindow) {
                    events.append(
                        TruthEvent(watch: index, type: .cancelWindowClosed, time: use.time + cancelWindow, seenFrom: use.time))
                }
            }
            if let refund = watch.refundAt {
                pushes.append((index, refund))
                if scored.contains(refund) { events.append(TruthEvent(watch: index, type: .refunded, time: refund)) }
            }
            if settledAt.map({ $0 > watch.expireTime }) ?? true {
                if scored.contains(watch.expireTime) {
                    events.append(TruthEvent(watch: index, type: .expired, time: watch.expireTime, strict: true))
                }
                let lead = watch.expireTime - 86_400
                if scored.contains(lead), lead >= watch.registeredAt, settledAt.map({ $0 > lead }) ?? true {
                    events.append(TruthEvent(watch: index, type: .expiringSoon, time: lead))
                }
            }
        }
        self.events = events
        let changes = pushes.filter { $0.time >= simulationStart && $0.time < simulationEnd }.sorted { $0.time < $1.time }
        self.pushes = changes
        var accountChanges = [[Int]](repeating: [], count: stores.count)
        for (number, change) in changes.enumerated() { accountChanges[watches[change.watch].store].append(number) }
        self.accountChanges = accountChanges
        var accountUses = [[(watch: Int, use: Int)]](repeating: [], count: stores.count)
        var accountOrders = [[Int]](repeating: [], count: stores.count)
        for (index, watch) in watches.enumerated() {
            accountOrders[watch.store].append(index)
            for number in watch.uses.indices { accountUses[watch.store].append((index, number)) }
        }
        self.accountUses = accountUses.map { $0.sorted { watches[$0.watch].uses[$0.use].time < watches[$1.watch].uses[$1.use].time } }
        self.accountOrders = accountOrders.map { $0.sorted { watches[$0].registeredAt < watches[$1].registeredAt } }
        self.oracle = OracleHazard(stores: stores, generator: generator)
    }

    /// The workload's true hazards (``OracleHazard``), for the oracle run.
    let oracle: OracleHazard

    /// Ground-truth events of the scored day on orders the backend never registered, per type.
    package func unregisteredEventCounts() -> [EventType: Int] {
        events.filter { watches[$0.watch].unregistered }.reduce(into: [:]) { $0[$1.type, default: 0] += 1 }
    }

    /// Vouchers bought during the simulation (registered or not).
    package var boughtDuringSimulation: Int { watches.count - backlogEntries }

    /// Vouchers the backend never registered: active at the start, and bought during the simulation.
    package var unregisteredCounts: (backlog: Int, bought: Int) {
        let backlog = watches[..<backlogEntries].filter(\.unregistered).count
        return (backlog, watches[backlogEntries...].filter(\.unregistered).count)
    }

    /// Number of watches (backlog and bought during the simulation).
    package var watchCount: Int { watches.count }

    /// Ground-truth events of the scored day per type.
    package func eventCounts() -> [EventType: Int] {
        events.reduce(into: [:]) { $0[$1.type, default: 0] += 1 }
    }

    /// The certificate of watch `index` as Douyin would return it at `now`.
    func snapshot(of index: Int, at now: Int64) -> CertificateSnapshot {
        let watch = watches[index]
        let store = stores[watch.store]
        var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID(watch.certificateID), raw: .null), observedAt: now)
        snapshot.expireTime = watch.expireTime
        snapshot.startTime = watch.registeredAt
        snapshot.sku = SKU(accountID: DouyinID(store.account))
        let active = watch.uses.filter { $0.time <= now && ($0.cancelledAt.map { $0 > now } ?? true) }
        snapshot.verifications = active.map {
            Verification(verifyID: $0.id, poiID: store.poi, verifyTime: $0.time, verifyType: 1, canCancel: now < $0.time + cancelWindow)
        }
        if let count = watch.timesCount { snapshot.timesCard = TimesCard(timesCount: count, timesUsed: Int64(active.count)) }
        snapshot.status = CertificateStatusCode.unused
        if let refund = watch.refundAt, refund <= now {
            snapshot.status = CertificateStatusCode.refunded
        } else if snapshot.isFullyUsed {
            snapshot.status = CertificateStatusCode.used
        }
        snapshot.state = snapshot.derivedState(at: now)
        return snapshot
    }

    // MARK: Runs

    /// What one schedule achieved over the scored day.
    package struct Outcome: Sendable {
        /// Name of the schedule.
        package var name: String
        /// API calls made during the scored day.
        package var calls: Int
        /// Busiest minute of the scored day, calls per second.
        package var peakQPS: Double
        /// Detection latencies per type, seconds, sorted.
        package var latencies: [EventType: [Double]]
        /// Events never detected (per type).
        package var missed: [EventType: Int]
        /// All detection latencies, seconds, sorted.
        package var all: [Double]
        /// Change-feed calls (order query by `update_order_time`, pages of 100) in the scored day:
        /// their own quota bucket, not the certificate query's.
        package var feedCalls = 0
        /// Sweep calls (order query by creation time, pages of 100, and verify-record query, pages of
        /// 20) in the scored day: their own quota buckets.
        package var sweepCalls = 0
        /// Orders the backend never registered that the feed or the sweep registered (whole simulation).
        package var registeredByDetectors = 0
        /// Cancelled pairs (`verified` + `verify_cancelled`) reported from a verify record because no
        /// poll saw the verification (scored day).
        package var pairsFromSweep = 0

        /// Median latency of `type` (all events when nil), seconds.
        package func p50(_ type: EventType? = nil) -> Double {
            BenchSupport.percentile(type.map { latencies[$0] ?? [] } ?? all, 0.5)
        }
        /// 99th-percentile latency of `type` (all events when nil), seconds.
        package func p99(_ type: EventType? = nil) -> Double {
            BenchSupport.percentile(type.map { latencies[$0] ?? [] } ?? all, 0.99)
        }
        /// Missed events, all types.
        package var missedTotal: Int { missed.values.reduce(0, +) }
    }

    /// Scores a schedule given `firstPoll(watch, atOrAfter:)` (nil: no poll until the simulation ends)
    /// and `fromRecord(watch, use)`: when the sweep reported a cancelled pair from its verify record
    /// (nil: it did not).
    func score(
        name: String, calls: Int, peakQPS: Double, firstPoll: (Int, Int64) -> Int64?,
        fromRecord: (Int, Int) -> Int64? = { _, _ in nil }
    ) -> Outcome {
        var latencies: [EventType: [Double]] = [:]
        var missed: [EventType: Int] = [:]
        for type in Self.eventTypes { missed[type] = 0 }
        for event in events {
            // A cancelled pair no poll saw: the sweep's verify record reports both, at the sweep.
            let record = event.use.flatMap { fromRecord(event.watch, $0) }
            if let seenFrom = event.seenFrom {
                guard let seen = firstPoll(event.watch, seenFrom), seen < event.time else {
                    if let record { latencies[event.type, default: []].append(Double(record - event.time)) } else {
                        missed[event.type, default: 0] += 1
                    }
                    continue
                }
            }
            guard let poll = firstPoll(event.watch, event.strict ? event.time + 1 : event.time),
                event.before.map({ poll < $0 }) ?? true
            else {
                if let record { latencies[event.type, default: []].append(Double(record - event.time)) } else {
                    missed[event.type, default: 0] += 1
                }
                continue
            }
            latencies[event.type, default: []].append(Double(poll - event.time))
        }
        for type in latencies.keys { latencies[type]!.sort() }
        let all = latencies.values.flatMap { $0 }.sorted()
        return Outcome(name: name, calls: calls, peakQPS: peakQPS, latencies: latencies, missed: missed, all: all)
    }

    /// Watch-seconds registered during the scored day (what a uniform schedule covers).
    var scoredCoverage: Double {
        let end = dayStart + dayLength
        return watches.reduce(0) { $0 + Double(max(0, end - max(dayStart, $1.registeredAt))) }
    }

    /// The uniform interval that makes `calls` calls during the scored day, seconds.
    package func uniformInterval(calls: Int) -> Int64 {
        max(1, Int64((scoredCoverage / Double(max(calls, 1))).rounded()))
    }

    /// Every watch polled every `interval` seconds from a random phase once registered, never
    /// stopping (the naive cron job).
    package func uniform(interval: Int64, seed: UInt64 = 7) -> Outcome {
        var random = SeededGenerator(seed: seed)
        let phases = watches.indices.map { _ in Int64.random(in: 0..<interval, using: &random) }
        let end = simulationEnd
        let scoredEnd = dayStart + dayLength
        func poll(_ index: Int, _ time: Int64) -> Int64 {
            let first = simulationStart + phases[index]
            let from = max(time, watches[index].registeredAt)
            return from <= first ? first : first + ((from - first + interval - 1) / interval) * interval
        }
        var calls = 0
        for index in watches.indices {
            let time = poll(index, dayStart)
            if time < scoredEnd { calls += Int((scoredEnd - time + interval - 1) / interval) }
        }
        return score(name: "uniform every \(interval) s", calls: calls, peakQPS: scoredCoverage / Double(dayLength) / Double(interval)) {
            index, time in
            let at = poll(index, time)
            return at < end ? at : nil
        }
    }

    /// Which scheduling code a run uses.
    package enum Scheduler: Sendable {
        /// ``AdaptiveSchedule``: routine intervals by learned change rate under the budget (the watcher's).
        case adaptive
        /// Main's fixed split: ``PollPolicy/fitted(qps:activeWatches:)`` and ``PollPolicy/next(after:now:random:)``.
        case fixedSplit
        /// The oracle: ``AdaptiveSchedule``'s allocation (``AdaptiveSchedule/plan(after:previous:firstSeen:now:qps:activeWatches:hinted:rate:random:)``)
        /// fed the workload's true hazard of each watch (``OracleHazard``) instead of the learned rate —
        /// the bound the √-rate allocation of polling alone reaches with perfect knowledge of the rates.
        case oracle
    }

    /// The per-account detectors beside push and polling in a run.
    package struct Detectors: Sendable, Hashable {
        /// Change feed: share of changes (verify, times-card use, cancel, refund) that move the order's
        /// `update_order_time` (nil: no feed).
        package var feedFidelity: Double?
        /// Seconds between two feed queries of one account (`feed.interval`).
        package var feedInterval: Int64 = 15
        /// How far each feed query reaches back before the previous one's end, seconds.
        package var feedOverlap: Int64 = 5
        /// Whether the sweep runs.
        package var sweep: Bool
        /// Seconds between two sweeps of one account (`sweep.interval`).
        package var sweepInterval: Int64 = 300
        /// How far the verify-record query reaches back before the previous sweep, seconds: a
        /// verification stays cancellable for an hour, so its record can gain `cancel_time` that long.
        package var sweepLookback: Int64 = 3_600
        /// How far the first sweep's order query reaches back (its backfill), seconds: 90 days.
        package var sweepBackfill: Int64 = 90 * 86_400
        /// Page sizes: order query 100, verify records 20.
        package var orderPage = 100
        package var recordPage = 20

        package init(feedFidelity: Double? = nil, sweep: Bool = false) {
            self.feedFidelity = feedFidelity
            self.sweep = sweep
        }

        /// "feed 100 %", "sweep", "feed 50 % + sweep".
        package var name: String {
            let feed = feedFidelity.map { String(format: "feed %.0f %%", $0 * 100) }
            return [feed, sweep ? "sweep" : nil].compactMap { $0 }.joined(separator: " + ")
        }
    }

    /// How Douyin's pushes reach certwatch in a run.
    package struct PushDelivery: Sendable {
        /// Share of pushes that arrive (the rest are lost).
        package var arriving: Double
        /// Share of arriving pushes sent twice.
        package var duplicated: Double = 0.1
        /// Delay of each arriving copy, seconds.
        package var delay: ClosedRange<Double> = 0...3

        package init(arriving: Double) { self.arriving = arriving }
    }

    /// A schedule run on the virtual clock: polls earliest-due first, at most `qps` calls per second
    /// (nil: unlimited); the adaptive scheduler's targeted polls (cancel window, deadlines) are served
    /// ahead of overdue routine ones, as the watcher's claim serves them; with `push`, every arriving push makes its watch due now, served ahead of
    /// routine polls inside the same budget (several copies within a second of a poll make no second poll).
    /// The adaptive scheduler learns only from the snapshots its polls return.
    ///
    /// Without a budget every routine interval is `poll.min_interval` whatever was learned, so that
    /// run starts one hour before the scored day instead of a day (the warm-up teaches nothing).
    package func run(
        _ scheduler: Scheduler, qps: Double?, push: PushDelivery? = nil, detectors: Detectors? = nil,
        policy: PollPolicy = PollPolicy(), seed: UInt64 = 11
    ) -> Outcome {
        let simulationStart = qps == nil ? dayStart - 3_600 : self.simulationStart
        var random = SeededGenerator(seed: seed)
        var schedule = AdaptiveSchedule(policy: policy)
        let budget = qps ?? .infinity
        var heap = DueHeap()
        var targetedHeap = DueHeap()
        var generation = [Int](repeating: 0, count: watches.count)
        var previous = [CertificateSnapshot?](repeating: nil, count: watches.count)
        var lastPoll = [Int64](repeating: .min, count: watches.count)
        // Whether certwatch knows the order: the backend registers it when bought, unless it is one
        // of the unregistered ones (then only the feed or the sweep can register it).
        var known = watches.map { !$0.unregistered }
        // The registered backlog is counted active (as the store counts it) from the start.
        let registered = watches.indices.filter { ($0 < backlogEntries || watches[$0].registeredAt < simulationStart) && known[$0] }
        var active = [Bool](repeating: false, count: watches.count)
        for index in registered { active[index] = true }
        var activeCount = registered.count
        let spread = max(1, min(3_600, Int64((Double(backlog) / max(budget, 1)).rounded())))
        for index in watches.indices where known[index] {
            let due = active[index]
                ? simulationStart + Int64.random(in: 0..<spread, using: &random)
                : watches[index].registeredAt + policy.firstPollDelay
            heap.push(Double(due), index, 0)
        }

        // Push arrivals: copies with delays, sorted by arrival.
        var hints: [(arrival: Double, watch: Int, message: Int)] = []
        if let push {
            var pushRandom = SeededGenerator(seed: seed &+ 1)
            for (message, item) in pushes.enumerated() where Double.random(in: 0..<1, using: &pushRandom) < push.arriving {
                let copies = Double.random(in: 0..<1, using: &pushRandom) < push.duplicated ? 2 : 1
                for _ in 0..<copies {
                    hints.append((Double(item.time) + Double.random(in: push.delay, using: &pushRandom), item.watch, message))
                }
            }
            hints.sort { $0.arrival < $1.arrival }
        }
        var nextHint = 0
        var handled = [Bool](repeating: false, count: pushes.count)

        // The feed and the sweep: ticks per account (due, account, kind 0 feed / 1 sweep), each
        // account from its own phase; hints they raise wait in `lane` (arrival, watch, the change's
        // time: no poll if one already happened since).
        var ticks = DueHeap()
        var lane = DueHeap()
        var feedMoves = [Bool](repeating: false, count: pushes.count)
        var feedFrom = [Int64](repeating: simulationStart, count: stores.count)
        var feedCursor = [Int](repeating: 0, count: stores.count)
        var ordersFrom = [Int64](repeating: simulationStart - (detectors?.sweepBackfill ?? 0), count: stores.count)
        var ordersCursor = [Int](repeating: 0, count: stores.count)
        var recordsFrom = [Int64](repeating: simulationStart, count: stores.count)
        var recordsCursor = [Int](repeating: 0, count: stores.count)
        // Per use: whether a poll saw it while it was active; when the sweep reported it as a cancelled pair.
        var useBase = [Int](repeating: 0, count: watches.count + 1)
        for index in watches.indices { useBase[index + 1] = useBase[index] + watches[index].uses.count }
        var useSeen = [Bool](repeating: false, count: useBase[watches.count])
        var fromRecord = [Int64?](repeating: nil, count: useBase[watches.count])
        var feedCalls = 0
        var sweepCalls = 0
        var registeredByDetectors = 0
        if let detectors {
            var detectorRandom = SeededGenerator(seed: seed &+ 2)
            if let fidelity = detectors.feedFidelity {
                for change in pushes.indices { feedMoves[change] = Double.random(in: 0..<1, using: &detectorRandom) < fidelity }
                for account in stores.indices {
                    let phase = Int64.random(in: 0..<detectors.feedInterval, using: &detectorRandom)
                    ticks.push(Double(simulationStart + phase), account, account * 2)
                }
            }
            if detectors.sweep {
                for account in stores.indices {
                    let phase = Int64.random(in: 0..<detectors.sweepInterval, using: &detectorRandom)
                    ticks.push(Double(simulationStart + phase), account, account * 2 + 1)
                }
            }
        }

        var polls = [[Int64]](repeating: [], count: watches.count)
        let end = Double(simulationEnd)
        let scored = dayStart..<(dayStart + dayLength)
        let spacing = qps.map { 1 / $0 } ?? 0
        var last = -Double.infinity
        var calls = 0
        var perMinute = [Int](repeating: 0, count: Int(dayLength / 60) + 1)

        /// A watch the feed or the sweep names: registered if unknown; due now on the hint lane
        /// unless a poll already happened at or after `since` or nothing can change any more.
        func hint(_ index: Int, at now: Int64, since: Int64) {
            if !known[index] {
                known[index] = true
                registeredByDetectors += 1
            } else if lastPoll[index] >= since || (!active[index] && previous[index] != nil) {
                return
            }
            lane.push(Double(now), index, Int(since))
        }

        func feed(_ account: Int, at now: Int64, _ detectors: Detectors) {
            // Orders whose update_order_time is in (from − overlap, now], the latest change of each.
            let from = feedFrom[account] - detectors.feedOverlap
            let changes = accountChanges[account]
            while feedCursor[account] < changes.count, pushes[changes[feedCursor[account]]].time <= from { feedCursor[account] += 1 }
            var named: [Int: Int64] = [:]
            var position = feedCursor[account]
            while position < changes.count, pushes[changes[position]].time <= now {
                let change = changes[position]
                if feedMoves[change] { named[pushes[change].watch] = pushes[change].time }
                position += 1
            }
            if scored.contains(now) { feedCalls += max(1, (named.count + detectors.orderPage - 1) / detectors.orderPage) }
            for (index, time) in named.sorted(by: { $0.key < $1.key }) { hint(index, at: now, since: time) }
            feedFrom[account] = now
        }

        func sweep(_ account: Int, at now: Int64, _ detectors: Detectors) {
            // Orders created in (from, now]: an unknown one is registered (first poll as a backend's).
            let orders = accountOrders[account]
            while ordersCursor[account] < orders.count, watches[orders[ordersCursor[account]]].registeredAt <= ordersFrom[account] {
                ordersCursor[account] += 1
            }
            var created = 0
            while ordersCursor[account] < orders.count, watches[orders[ordersCursor[account]]].registeredAt <= now {
                let index = orders[ordersCursor[account]]
                created += 1
                if !known[index] {
                    known[index] = true
                    registeredByDetectors += 1
                    heap.push(Double(now + policy.firstPollDelay), index, generation[index])
                }
                ordersCursor[account] += 1
            }
            ordersFrom[account] = now
            // Verify records with verify_time in (from − lookback, now], cancelled ones included.
            let uses = accountUses[account]
            let from = recordsFrom[account] - detectors.sweepLookback
            func time(_ position: Int) -> Int64 { watches[uses[position].watch].uses[uses[position].use].time }
            while recordsCursor[account] < uses.count, time(recordsCursor[account]) <= from { recordsCursor[account] += 1 }
            var records = 0
            var position = recordsCursor[account]
            while position < uses.count, time(position) <= now {
                let (index, number) = uses[position]
                position += 1
                records += 1
                let use = watches[index].uses[number]
                let slot = useBase[index] + number
                // certwatch already has this verify_id's certificate.verified, or reported the pair.
                guard !useSeen[slot], fromRecord[slot] == nil else { continue }
                if let cancelled = use.cancelledAt, cancelled <= now {
                    // Cancelled before any poll saw it: verified + verify_cancelled from the record.
                    fromRecord[slot] = now
                    if !known[index] {
                        known[index] = true
                        registeredByDetectors += 1
                        heap.push(Double(now + policy.firstPollDelay), index, generation[index])
                    }
                } else {
                    hint(index, at: now, since: use.time)
                }
            }
            recordsFrom[account] = now
            if scored.contains(now) {
                sweepCalls += max(1, (created + detectors.orderPage - 1) / detectors.orderPage)
                    + max(1, (records + detectors.recordPage - 1) / detectors.recordPage)
            }
        }

        while true {
            // Skip stale entries (rescheduled by a hinted poll, or registered-before-due).
            while let top = heap.peek(), top.generation != generation[top.index] { _ = heap.pop() }
            while let top = targetedHeap.peek(), top.generation != generation[top.index] { _ = targetedHeap.pop() }
            let slot = last + spacing
            let routineAt = heap.peek().map { max($0.due, slot) } ?? .infinity
            let targetedAt = targetedHeap.peek().map { max($0.due, slot) } ?? .infinity
            let pushAt = nextHint < hints.count ? max(hints[nextHint].arrival, slot) : .infinity
            let laneAt = lane.peek().map { max($0.due, slot) } ?? .infinity
            let hintAt = min(pushAt, laneAt)
            let time = min(routineAt, targetedAt, hintAt)
            // The feed and the sweep run on their own quotas, before any poll due at the same time.
            if let tick = ticks.peek(), tick.due <= time, tick.due < end, let detectors {
                _ = ticks.pop()
                let now = Int64(tick.due)
                if tick.generation % 2 == 0 {
                    feed(tick.index, at: now, detectors)
                    ticks.push(tick.due + Double(detectors.feedInterval), tick.index, tick.generation)
                } else {
                    sweep(tick.index, at: now, detectors)
                    ticks.push(tick.due + Double(detectors.sweepInterval), tick.index, tick.generation)
                }
                continue
            }
            if time >= end { break }
            let index: Int
            // Priority on a tie (all overdue): hints, then targeted polls, then routine ones.
            let hinted = hintAt <= min(routineAt, targetedAt)
            // Both due: the targeted poll first unless the routine one is more than
            // `targetedLead` seconds older (the watcher's claim orders them the same way).
            let targetedFirst = targetedAt == slot && routineAt == slot
                ? policy.servesTargetedFirst(targetedDue: targetedHeap.peek()!.due, routineDue: heap.peek()!.due)
                : targetedAt <= routineAt
            if hinted, pushAt <= laneAt {
                let hint = hints[nextHint]
                nextHint += 1
                index = hint.watch
                let arrival = Int64(hint.arrival.rounded(.down))
                // A second copy of a message (same Msg-Id), a watch not known or no longer polled, or
                // one polled within the last second (several hints make one poll): no poll.
                let seen = handled[hint.message]
                handled[hint.message] = true
                guard !seen, known[index], active[index] || (previous[index] == nil && watches[index].registeredAt <= arrival),
                    lastPoll[index] < arrival - 1 || lastPoll[index] < pushes[hint.message].time
                else { continue }
            } else if hinted {
                let entry = lane.pop()!
                index = entry.index
                // Polled since the change the feed or the sweep named, or done: no poll.
                guard lastPoll[index] < Int64(entry.generation), active[index] || previous[index] == nil else { continue }
            } else if targetedFirst {
                index = targetedHeap.pop()!.index
            } else {
                index = heap.pop()!.index
            }
            last = time
            let now = Int64(time.rounded(.down))
            if !active[index], previous[index] == nil {
                active[index] = true
                activeCount += 1
            }
            polls[index].append(now)
            lastPoll[index] = now
            for (number, use) in watches[index].uses.enumerated() where use.time <= now && (use.cancelledAt.map { $0 > now } ?? true) {
                useSeen[useBase[index] + number] = true
            }
            if scored.contains(now) {
                calls += 1
                perMinute[Int((now - dayStart) / 60)] += 1
            }
            let current = [snapshot(of: index, at: now)]
            let plan: PollPolicy.Plan
            switch scheduler {
            case .adaptive:
                let before = previous[index].map { [$0.certificateID: $0] } ?? [:]
                plan = schedule.next(
                    after: current, previous: before, firstSeen: watches[index].registeredAt,
                    account: nil, now: now, qps: budget, activeWatches: activeCount, hinted: hinted, random: &random)
            case .oracle:
                let before = previous[index].map { [$0.certificateID: $0] } ?? [:]
                plan = schedule.plan(
                    after: current, previous: before, firstSeen: watches[index].registeredAt, now: now, qps: budget,
                    activeWatches: activeCount, hinted: hinted, rate: oracle.rate(of: watches[index], observed: current[0], at: now),
                    random: &random)
            case .fixedSplit:
                // Main's watcher had one queue, earliest due first.
                let fitted = qps.map { policy.fitted(qps: $0, activeWatches: activeCount) } ?? policy
                plan = PollPolicy.Plan(decision: fitted.next(after: current, now: now, random: &random), targeted: false)
            }
            previous[index] = current[0]
            generation[index] += 1
            switch plan.decision {
            case .pollAt(let next) where plan.targeted: targetedHeap.push(Double(next), index, generation[index])
            case .pollAt(let next): heap.push(Double(next), index, generation[index])
            case .done:
                active[index] = false
                activeCount -= 1
            }
        }
        let schedulerName = switch scheduler {
        case .adaptive: "adaptive"
        case .oracle: "oracle (true hazards)"
        case .fixedSplit: "main's fixed split"
        }
        let budgetName = qps.map { String(format: ", %.0f QPS", $0) } ?? ", no budget"
        let pushName = push.map { String(format: ", push %.0f %%", $0.arriving * 100) } ?? ""
        let detectorName = detectors.map { ", " + $0.name } ?? ""
        var outcome = score(
            name: schedulerName + budgetName + pushName + detectorName, calls: calls, peakQPS: Double(perMinute.max() ?? 0) / 60
        ) { index, time in
            let list = polls[index]
            var low = 0
            var high = list.count
            while low < high {
                let middle = (low + high) / 2
                if list[middle] < time { low = middle + 1 } else { high = middle }
            }
            return low < list.count ? list[low] : nil
        } fromRecord: { index, number in
            fromRecord[useBase[index] + number]
        }
        outcome.feedCalls = feedCalls
        outcome.sweepCalls = sweepCalls
        outcome.registeredByDetectors = registeredByDetectors
        outcome.pairsFromSweep = fromRecord.indices.filter { slot in
            fromRecord[slot].map { scored.contains($0) } ?? false
        }.count
        return outcome
    }
}

/// Draws one voucher's hidden timeline (see ``ScheduleSimulation``; parameters in BENCHMARKS.md).
struct TimelineGenerator {
    let stores: [ScheduleSimulation.Store]
    let cancelWindow: Int64
    /// Validity of a single voucher and of a times card, seconds.
    let voucherValidity: Int64 = 30 * 86_400
    let cardValidity: Int64 = 90 * 86_400
    let cardUses: Int64 = 10

    /// A purchase time in `from..<to`: a day uniformly, then an hour half from a flat 08–24 local
    /// (00–16 UTC) profile, half from the store's profile one hour earlier; the second uniform.
    func purchaseTime(store: Int, from: Int64, to: Int64, random: inout SeededGenerator) -> Int64 {
        while true {
            let day = from - from % 86_400 + 86_400 * Int64.random(in: 0...((to - from) / 86_400 + 1), using: &random)
            let hour: Int64
            if Bool.random(using: &random) {
                hour = Int64.random(in: 0..<16, using: &random)
            } else {
                let profile = stores[store].profile
                var roll = Double.random(in: 0..<profile.reduce(0, +), using: &random)
                var pick = 0
                for (bin, weight) in profile.enumerated() {
                    roll -= weight
                    if roll < 0 { pick = bin; break }
                }
                hour = Int64((pick + 23) % 24)
            }
            let time = day + hour * 3_600 + Int64.random(in: 0..<3_600, using: &random)
            if time >= from, time < to { return time }
        }
    }

    /// The first "busy moment" of the store at or after `time`: an inhomogeneous Poisson process
    /// whose intensity is the store's hourly profile scaled so that an average open hour holds one.
    func busyMoment(store: Int, after time: Int64, random: inout SeededGenerator) -> Int64 {
        let profile = stores[store].profile
        let open = profile.filter { $0 > 0 }
        let mean = open.reduce(0, +) / Double(open.count)
        let peak = profile.max()!
        let maximumRate = peak / mean / 3_600
        var now = Double(time)
        while true {
            now += -log(Double.random(in: Double.leastNonzeroMagnitude..<1, using: &random)) / maximumRate
            let bin = Int((Int64(now) % 86_400) / 3_600)
            if Double.random(in: 0..<1, using: &random) < profile[bin] / peak { return Int64(now) }
        }
    }

    func logNormal(median: Double, sigma: Double, random: inout SeededGenerator) -> Double {
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &random)
        let u2 = Double.random(in: 0..<1, using: &random)
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return median * exp(sigma * normal)
    }

    func timeline(index: Int, store: Int, purchase: Int64, random: inout SeededGenerator) -> ScheduleSimulation.SimulatedWatch {
        var watch = ScheduleSimulation.SimulatedWatch(
            certificateID: "7\(String(format: "%015d", index))", registeredAt: purchase, store: store,
            expireTime: purchase + voucherValidity, timesCount: nil, uses: [], refundAt: nil)
        func use(_ number: Int, at time: Int64) {
            var use = ScheduleSimulation.Use(id: "v\(index)-\(number)", time: time)
            if watch.timesCount == nil, Double.random(in: 0..<1, using: &random) < 0.05 {
                use.cancelledAt = time + Int64.random(in: 60...3_540, using: &random)
            }
            watch.uses.append(use)
        }
        if Double.random(in: 0..<1, using: &random) < 0.8 {
            let roll = Double.random(in: 0..<1, using: &random)
            if roll < 0.45 {
                let time = busyMoment(store: store, after: purchase, random: &random)
                if time < watch.expireTime { use(1, at: time) }
            } else if roll < 0.65 {
                let delay = Int64(logNormal(median: 3 * 86_400, sigma: 0.8, random: &random))
                let time = busyMoment(store: store, after: purchase + delay, random: &random)
                if time < watch.expireTime { use(1, at: time) }
            } else if roll < 0.75 {
                let delay = Int64(logNormal(median: 86_400, sigma: 1, random: &random))
                if purchase + delay < watch.expireTime { watch.refundAt = purchase + max(60, delay) }
            }
        } else {
            watch.timesCount = cardUses
            watch.expireTime = purchase + cardValidity
            if Double.random(in: 0..<1, using: &random) < 0.05 {
                watch.refundAt = purchase + max(60, Int64(logNormal(median: 86_400, sigma: 1, random: &random)))
                return watch
            }
            var time = Bool.random(using: &random)
                ? busyMoment(store: store, after: purchase, random: &random)
                : busyMoment(
                    store: store, after: purchase + Int64(logNormal(median: 3 * 86_400, sigma: 0.8, random: &random)),
                    random: &random)
            var number = 1
            while time < watch.expireTime, Int64(number) <= cardUses {
                use(number, at: time)
                number += 1
                let gap = Int64(logNormal(median: 4 * 86_400, sigma: 0.7, random: &random))
                time = busyMoment(store: store, after: time + max(gap, cancelWindow), random: &random)
            }
        }
        return watch
    }

    /// When nothing can change any more (refunded, or fully used with the cancel window closed), or nil.
    func settledAt(_ watch: ScheduleSimulation.SimulatedWatch) -> Int64? {
        if let refund = watch.refundAt { return refund }
        let kept = watch.uses.filter { $0.cancelledAt == nil }
        let needed = Int(watch.timesCount ?? 1)
        guard kept.count >= needed else { return nil }
        return kept[needed - 1].time
    }

    /// Whether a poll at `time` still has something to watch: not settled (window included) nor expired.
    func isActive(_ watch: ScheduleSimulation.SimulatedWatch, at time: Int64) -> Bool {
        if let settled = settledAt(watch), settled + (watch.refundAt == nil ? cancelWindow : 0) <= time { return false }
        return watch.expireTime >= time
    }
}

/// A binary min-heap of (due time, watch index, generation).
struct DueHeap {
    private var items: [(due: Double, index: Int, generation: Int)] = []

    /// Entries in the heap.
    var count: Int { items.count }

    /// The earliest entry.
    func peek() -> (due: Double, index: Int, generation: Int)? { items.first }

    mutating func push(_ due: Double, _ index: Int, _ generation: Int) {
        items.append((due, index, generation))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent].due <= items[child].due { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> (due: Double, index: Int, generation: Int)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count, items[left].due < items[smallest].due { smallest = left }
                if right < items.count, items[right].due < items[smallest].due { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
