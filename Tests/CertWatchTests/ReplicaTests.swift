@testable import CertWatch
import CertWatchCore
import Foundation
import Synchronization
import Testing
import DouyinSandbox

@Suite("Replicas: the shared QPS budget and the heartbeat")
struct ReplicaTests {
    /// The clock times of `count` acquisitions in a row.
    private func acquisitions(_ budget: QPSBudget, clock: ManualWallClock, count: Int) async throws -> [Double] {
        var times: [Double] = []
        for _ in 0..<count {
            try await budget.acquire()
            times.append(clock.now())
        }
        return times
    }

    /// The most acquisitions within any one second (a window starting at each acquisition).
    private func busiestSecond(_ times: [Double]) -> Int {
        times.map { start in times.filter { $0 >= start && $0 < start + 1 - 1e-9 }.count }.max() ?? 0
    }

    @Test("the bucket holds one token: never more than the share within any second, even after idling")
    func oneTokenBucket() async throws {
        let clock = ManualWallClock()
        let budget = QPSBudget(qps: 10, clock: clock)
        clock.advance(60)  // idle: a bucket of qps tokens would now send 10 at once, then 10 more in the second
        #expect(busiestSecond(try await acquisitions(budget, clock: clock, count: 40)) == 9)  // 10 × headroom
        await budget.share(among: 2)
        clock.advance(60)
        let shared = try await acquisitions(budget, clock: clock, count: 20)
        #expect(busiestSecond(shared) == 5)
        #expect(await budget.rates == (configured: 10, current: 4.5))
    }

    @Test("a share keeps a slow-down in proportion; a hold sends nothing before its time")
    func shareAndHold() async throws {
        let clock = ManualWallClock(1_000)
        let budget = QPSBudget(qps: 10, clock: clock)
        await budget.slowDown()
        #expect(await budget.slowedAt == 1_000)
        #expect(await budget.rates.current == 4.5)
        await budget.share(among: 2)
        #expect(await budget.rates.current == 2.25)
        await budget.share(among: 1)
        #expect(await budget.rates.current == 4.5)
        await budget.followSlowDown()
        #expect(await budget.rates.current == 2.25)
        #expect(await budget.slowedAt == 1_000)
        await budget.hold(until: 1_030)
        try await budget.acquire()
        #expect(clock.now() >= 1_030)
    }

    @Test("heartbeats: a replica joining waits its hold and takes half; a 2119003 slows both; the survivor of a silent one takes it all")
    func heartbeats() async throws {
        let clock = ManualWallClock(1_000)
        let first = try temporaryStore()
        let second = try Store(path: first.path)
        let one = QPSBudget(qps: 10, clock: clock)
        let two = QPSBudget(qps: 10, clock: clock)
        let beatOne = ReplicaHeartbeat(store: first, budget: one, clock: clock, interval: 5, logger: quietLogger())
        let beatTwo = ReplicaHeartbeat(store: second, budget: two, clock: clock, interval: 5, logger: quietLogger())
        #expect(beatOne.staleAfter == 15 && beatTwo.joinHold == 7.5)
        #expect(try await beatOne.beat().live == 1)
        #expect(await one.rates.current == 9)
        // Two joins: it takes half and holds until one's next heartbeat has taken its half.
        #expect(try await beatTwo.beat().live == 2)
        #expect(await two.rates.current == 4.5)
        try await two.acquire()
        #expect(clock.now() == 1_007.5)
        #expect(try await beatOne.beat().live == 2)
        #expect(await one.rates.current == 4.5)
        // One is rate limited: two follows at its next heartbeat, once.
        await one.slowDown()
        try await beatOne.beat()
        try await beatTwo.beat()
        #expect(await two.rates.current == 2.25)
        try await beatTwo.beat()
        #expect(await two.rates.current == 2.25)
        // One falls silent: 15 s on, two reaps it and takes the whole quota (still slowed: half).
        clock.advance(16)
        let membership = try await beatTwo.beat()
        #expect(membership.reaped == [first.instanceID] && membership.live == 1)
        #expect(await two.rates == (configured: 10, current: 4.5))
    }

    @Test("the heartbeat interval follows the Douyin request timeout: a third of it, 1 to 5 s")
    func interval() {
        #expect(ReplicaHeartbeat.interval(requestTimeout: 15) == 5)
        #expect(ReplicaHeartbeat.interval(requestTimeout: 6) == 2)
        #expect(ReplicaHeartbeat.interval(requestTimeout: 1) == 1)
        #expect(ReplicaHeartbeat.interval(requestTimeout: 60) == 5)
    }

    @Test("a replica out of tokens claims nothing: the other polls every due watch at once")
    func noClaimWithoutToken() async throws {
        try await Harness.with { h in
            for _ in 0..<8 {
                try await h.register(try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)])).orderID)
            }
            h.clock.advance(3_600)
            // Replica "held" shares the file, is due the same watches, and has no token for an hour.
            let stopped = StoppedClock(h.clock.now())
            let held = Watcher(
                store: try Store(path: h.store.path), client: h.client, clock: stopped,
                configuration: WatcherConfiguration(policy: h.watcher.configuration.policy, qps: 10_000, concurrency: 4),
                logger: quietLogger())
            await held.budget.hold(until: stopped.now() + 3_600)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await held.run() }
                // Its four workers and its hint lane are all waiting (for a token, or for work).
                await stopped.untilSleeping(5)
                let outcomes = try await h.watcher.pollDue()
                #expect(outcomes.count == 8)
                #expect(outcomes.allSatisfy { if case .polled = $0 { true } else { false } })
                group.cancelAll()
            }
        }
    }
}

/// A clock that stands still: ``sleep(seconds:)`` returns only when cancelled, and
/// ``untilSleeping(_:)`` waits until that many callers are asleep.
final class StoppedClock: WallClock {
    private let time: Double
    private let sleeping = Mutex(0)
    private let counts: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init(_ time: Double) {
        self.time = time
        (counts, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    func now() -> Double { time }

    func sleep(seconds: Double) async throws {
        continuation.yield(sleeping.withLock { $0 += 1; return $0 })
        defer { sleeping.withLock { $0 -= 1 } }
        // Not a timed wait: this clock's time never comes, so only cancellation ends it.
        try await Task.sleep(for: .seconds(365 * 86_400))
    }

    /// Returns once `count` callers sleep at the same time.
    func untilSleeping(_ count: Int) async {
        for await sleeping in counts where sleeping >= count { return }
    }
}
