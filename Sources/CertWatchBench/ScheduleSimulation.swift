import CertWatchCore
import DouyinOpenAPI
import Foundation

/// A simulated day of N watches on a virtual clock (no HTTP, no waiting): the adaptive
/// ``PollPolicy`` against uniform fixed-interval polling, measured by API calls and by the
/// detection latency of each ground-truth event.
///
/// The model (seeded, see BENCHMARKS.md): every watch holds one certificate that is usable at the
/// start of the day; its hidden timeline is drawn from this mix —
/// 57 % untouched; 18 % verified once (Douyin lets the merchant cancel for 3,600 s, so a
/// `cancel_window_closed` follows); 4 % verified and the verification cancelled 60…3,540 s later;
/// 8 % times cards of 5 uses with 1…3 uses during the day (each cancellable for 3,600 s);
/// 5 % expire during the day; 5 % expire during the next day (`expiring_soon` fires today at the
/// one-day lead); 3 % refunded. Event times are uniform over the first 23 hours.
///
/// A poll at second `t` observes the certificate exactly as it is at `t`. An event is detected at
/// the first poll at or after it (after it, for `expired`, which needs `now > expire_time`); a
/// verification cancelled before any poll saw it leaves no trace, so both its `verified` and its
/// `verify_cancelled` count as missed; a `cancel_window_closed` needs a poll that saw the
/// verification while it was still cancellable. Events not detected by the end of the day are missed.
public struct ScheduleSimulation: Sendable {
    /// Event types in the model, in report order.
    public static let eventTypes: [EventType] = [
        .verified, .verifyCancelled, .cancelWindowClosed, .timesCardUsed, .expiringSoon, .expired, .refunded,
    ]

    /// Start of the simulated day, Unix seconds.
    public let dayStart: Int64 = 1_734_192_000
    /// Length of the day, seconds.
    public let dayLength: Int64 = 86_400
    /// How long a verification stays cancellable, seconds.
    public let cancelWindow: Int64 = 3_600
    /// The watches' hidden timelines.
    let watches: [SimulatedWatch]
    /// Every ground-truth event.
    let events: [TruthEvent]

    struct Use: Sendable {
        var id: String
        var time: Int64
        var cancelledAt: Int64?
    }

    struct SimulatedWatch: Sendable {
        var certificateID: String
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
    }

    /// Draws `watchCount` timelines from `seed`.
    public init(watchCount: Int, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        let start = dayStart
        let activeSpan: Int64 = 82_800
        func uniform(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &random) }
        var watches: [SimulatedWatch] = []
        var events: [TruthEvent] = []
        watches.reserveCapacity(watchCount)
        for index in 0..<watchCount {
            let roll = Double.random(in: 0..<1, using: &random)
            var watch = SimulatedWatch(
                certificateID: "7\(String(format: "%011d", index))", expireTime: start + uniform(2 * 86_400...30 * 86_400),
                timesCount: nil, uses: [], refundAt: nil)
            if roll < 0.18 {
                let time = start + uniform(0...activeSpan)
                watch.uses = [Use(id: "v\(index)-1", time: time)]
                events.append(TruthEvent(watch: index, type: .verified, time: time))
                events.append(TruthEvent(watch: index, type: .cancelWindowClosed, time: time + cancelWindow, seenFrom: time))
            } else if roll < 0.22 {
                let time = start + uniform(0...activeSpan)
                let cancel = time + uniform(60...3_540)
                watch.uses = [Use(id: "v\(index)-1", time: time, cancelledAt: cancel)]
                events.append(TruthEvent(watch: index, type: .verified, time: time, before: cancel))
                events.append(TruthEvent(watch: index, type: .verifyCancelled, time: cancel, seenFrom: time))
            } else if roll < 0.30 {
                watch.timesCount = 5
                let count = Int(uniform(1...3))
                let times = (0..<count).map { _ in start + uniform(0...activeSpan) }.sorted()
                for (number, time) in times.enumerated() {
                    watch.uses.append(Use(id: "v\(index)-\(number + 1)", time: time))
                    events.append(TruthEvent(watch: index, type: .timesCardUsed, time: time))
                    events.append(TruthEvent(watch: index, type: .cancelWindowClosed, time: time + cancelWindow, seenFrom: time))
                }
            } else if roll < 0.35 {
                watch.expireTime = start + uniform(0...activeSpan)
                events.append(TruthEvent(watch: index, type: .expired, time: watch.expireTime, strict: true))
            } else if roll < 0.40 {
                watch.expireTime = start + 86_400 + uniform(0...activeSpan)
                events.append(TruthEvent(watch: index, type: .expiringSoon, time: watch.expireTime - 86_400))
            } else if roll < 0.43 {
                let time = start + uniform(0...activeSpan)
                watch.refundAt = time
                events.append(TruthEvent(watch: index, type: .refunded, time: time))
            }
            watches.append(watch)
        }
        self.watches = watches
        self.events = events
    }

    /// Number of watches.
    public var watchCount: Int { watches.count }

    /// Ground-truth events per type.
    public func eventCounts() -> [EventType: Int] {
        events.reduce(into: [:]) { $0[$1.type, default: 0] += 1 }
    }

    /// The certificate of watch `index` as Douyin would return it at `now`.
    func snapshot(of index: Int, at now: Int64) -> CertificateSnapshot {
        let watch = watches[index]
        var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID(watch.certificateID), raw: .null), observedAt: now)
        snapshot.expireTime = watch.expireTime
        let active = watch.uses.filter { $0.time <= now && ($0.cancelledAt.map { $0 > now } ?? true) }
        snapshot.verifications = active.map {
            Verification(verifyID: $0.id, poiID: "poi-1", verifyTime: $0.time, verifyType: 1, canCancel: now < $0.time + cancelWindow)
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

    /// What one schedule achieved over the day.
    public struct Outcome: Sendable {
        /// Name of the schedule.
        public var name: String
        /// API calls made during the day.
        public var calls: Int
        /// Busiest minute, calls per second.
        public var peakQPS: Double
        /// Detection latencies per type, seconds, sorted.
        public var latencies: [EventType: [Double]]
        /// Events never detected (per type).
        public var missed: [EventType: Int]
        /// All detection latencies, seconds, sorted.
        public var all: [Double]

        /// Median latency of `type` (all events when nil), seconds.
        public func p50(_ type: EventType? = nil) -> Double {
            BenchSupport.percentile(type.map { latencies[$0] ?? [] } ?? all, 0.5)
        }
        /// 99th-percentile latency of `type` (all events when nil), seconds.
        public func p99(_ type: EventType? = nil) -> Double {
            BenchSupport.percentile(type.map { latencies[$0] ?? [] } ?? all, 0.99)
        }
        /// Missed events, all types.
        public var missedTotal: Int { missed.values.reduce(0, +) }
    }

    /// Scores a schedule given `firstPoll(watch, atOrAfter:)` (nil: no poll until the end of the day).
    func score(name: String, calls: Int, peakQPS: Double, firstPoll: (Int, Int64) -> Int64?) -> Outcome {
        var latencies: [EventType: [Double]] = [:]
        var missed: [EventType: Int] = [:]
        for type in Self.eventTypes { missed[type] = 0 }
        for event in events {
            if let seenFrom = event.seenFrom {
                guard let seen = firstPoll(event.watch, seenFrom), seen < event.time else {
                    missed[event.type, default: 0] += 1
                    continue
                }
            }
            guard let poll = firstPoll(event.watch, event.strict ? event.time + 1 : event.time),
                event.before.map({ poll < $0 }) ?? true
            else {
                missed[event.type, default: 0] += 1
                continue
            }
            latencies[event.type, default: []].append(Double(poll - event.time))
        }
        for type in latencies.keys { latencies[type]!.sort() }
        let all = latencies.values.flatMap { $0 }.sorted()
        return Outcome(name: name, calls: calls, peakQPS: peakQPS, latencies: latencies, missed: missed, all: all)
    }

    /// Every watch polled every `interval` seconds from a random phase, all day, never stopping
    /// (the naive cron job). Its QPS is `watchCount / interval`.
    public func uniform(interval: Int64, seed: UInt64 = 7) -> Outcome {
        var random = SeededGenerator(seed: seed)
        let phases = watches.indices.map { _ in Int64.random(in: 0..<interval, using: &random) }
        let end = dayStart + dayLength
        var calls = 0
        for phase in phases { calls += Int((dayLength - phase + interval - 1) / interval) }
        return score(
            name: "uniform every \(interval) s", calls: calls, peakQPS: Double(watchCount) / Double(interval)
        ) { index, time in
            let first = dayStart + phases[index]
            let poll = time <= first ? first : first + ((time - first + interval - 1) / interval) * interval
            return poll < end ? poll : nil
        }
    }

    /// The adaptive policy, earliest-due first, at most `qps` calls per second (nil: unlimited),
    /// its base interval fitted to the budget and the watches still active after every poll
    /// (``PollPolicy/fitted(qps:activeWatches:)``, as the watcher does).
    /// Starts in steady state: each watch's next poll uniform in the first (fitted) base interval.
    public func adaptive(policy: PollPolicy = PollPolicy(), qps: Double?, seed: UInt64 = 11) -> Outcome {
        var random = SeededGenerator(seed: seed)
        var heap = DueHeap()
        let start = qps.map { policy.fitted(qps: $0, activeWatches: watches.count) } ?? policy
        for index in watches.indices {
            heap.push(Double(dayStart + Int64.random(in: 0..<start.baseInterval, using: &random)), index)
        }
        var polls = [[Int64]](repeating: [], count: watches.count)
        let end = Double(dayStart + dayLength)
        let spacing = qps.map { 1 / $0 } ?? 0
        var last = -Double.infinity
        var calls = 0
        var perMinute = [Int](repeating: 0, count: Int(dayLength / 60) + 1)
        while let (due, index) = heap.pop() {
            let time = max(due, last + spacing)
            if time >= end { break }
            last = time
            let now = Int64(time.rounded(.down))
            polls[index].append(now)
            calls += 1
            perMinute[Int((now - dayStart) / 60)] += 1
            // The watcher fits the base interval to the budget and the watches still active.
            let fitted = qps.map { policy.fitted(qps: $0, activeWatches: heap.count + 1) } ?? policy
            switch fitted.next(after: [snapshot(of: index, at: now)], now: now, random: &random) {
            case .pollAt(let next): heap.push(Double(next), index)
            case .done: break
            }
        }
        let name = qps.map { String(format: "adaptive, budget %.0f QPS", $0) } ?? "adaptive, no budget"
        return score(name: name, calls: calls, peakQPS: Double(perMinute.max() ?? 0) / 60) { index, time in
            let list = polls[index]
            var low = 0
            var high = list.count
            while low < high {
                let middle = (low + high) / 2
                if list[middle] < time { low = middle + 1 } else { high = middle }
            }
            return low < list.count ? list[low] : nil
        }
    }
}

/// A binary min-heap of (due time, watch index).
struct DueHeap {
    private var items: [(Double, Int)] = []

    /// Entries in the heap.
    var count: Int { items.count }

    mutating func push(_ due: Double, _ index: Int) {
        items.append((due, index))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent].0 <= items[child].0 { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> (Double, Int)? {
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
                if left < items.count, items[left].0 < items[smallest].0 { smallest = left }
                if right < items.count, items[right].0 < items[smallest].0 { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
