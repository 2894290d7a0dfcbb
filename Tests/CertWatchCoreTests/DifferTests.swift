import CertWatchCore
import DouyinModels
import Testing

/// Builds a snapshot observed at `at`.
func snapshot(
    id: String = "7001", at: Int64, status: Int64 = CertificateStatusCode.unused, used: Int64 = 0,
    expire: Int64 = 1_000_000, verifications: [(String, Bool)] = [], timesCard: (count: Int64, used: Int64)? = nil
) -> CertificateSnapshot {
    let records = verifications.enumerated().map { index, item in
        VerifyRecord(
            verifyID: DouyinID(item.0), poiID: DouyinID(number: 42), verifyTime: 100 + Int64(index), canCancel: item.1)
    }
    let certificate = Certificate(
        certificateID: DouyinID(id), status: status, usedStatusType: used, startTime: 0, expireTime: expire,
        amount: Amount(payAmount: 9900), timeCard: timesCard.map { TimeCard(timesCount: $0.count, timesUsed: $0.used) },
        verify: records.last, verifyRecords: records.isEmpty ? nil : records,
        reserveInfo: ReserveInfo(orderReserveUserInfoList: [ReserveUser(name: "张三", phone: "13812345678")]))
    return CertificateSnapshot(certificate, observedAt: at)
}

func types(_ transitions: [Transition]) -> [EventType] { transitions.map(\.type) }

@Suite("Differ")
struct DifferTests {
    let differ = Differ(expiringLeadTimes: [86_400])

    @Test("first sight is discovered, plus what the certificate already shows")
    func discovered() {
        let plain = differ.transitions(from: nil, to: snapshot(at: 10), now: 10)
        #expect(types(plain) == [.discovered])
        let verified = differ.transitions(from: nil, to: snapshot(at: 10, verifications: [("v1", true)]), now: 10)
        #expect(types(verified) == [.discovered, .verified])
        #expect(verified[1].discriminator == "v1")
    }

    @Test("one verified per new verify_id, none for one seen before")
    func verifiedOncePerID() {
        let a = snapshot(at: 10, verifications: [("v1", true)])
        let b = snapshot(at: 20, verifications: [("v1", true), ("v2", true)])
        let result = differ.transitions(from: a, to: b, now: 20)
        #expect(types(result) == [.verified])
        #expect(result[0].verification?.verifyID == "v2")
        #expect(differ.transitions(from: b, to: snapshot(at: 30, verifications: [("v1", true), ("v2", true)]), now: 30).isEmpty)
    }

    @Test("times_used 1 → 3 in one poll is two numbered uses")
    func timesCardUses() {
        let a = snapshot(at: 10, verifications: [("v1", true)], timesCard: (5, 1))
        let b = snapshot(at: 20, verifications: [("v1", true), ("v2", true), ("v3", true)], timesCard: (5, 3))
        let uses = differ.transitions(from: a, to: b, now: 20).filter { $0.type == .timesCardUsed }
        #expect(uses.map(\.use?.number) == [2, 3])
        #expect(uses.map(\.discriminator) == ["use-2:v2", "use-3:v3"])
        #expect(uses.allSatisfy { $0.use?.timesCount == 5 && $0.use?.timesUsed == 3 })
    }

    @Test("a vanished verify_id is one verify_cancelled; times_used going down counts once with it")
    func verifyCancelled() {
        let a = snapshot(at: 10, status: CertificateStatusCode.used, verifications: [("v1", true)])
        let b = snapshot(at: 20)
        let result = differ.transitions(from: a, to: b, now: 20)
        #expect(types(result).contains(.verifyCancelled))
        #expect(result.first { $0.type == .verifyCancelled }?.discriminator == "v1")

        let card1 = snapshot(at: 10, verifications: [("v1", false), ("v2", true)], timesCard: (5, 2))
        let card2 = snapshot(at: 20, verifications: [("v1", false)], timesCard: (5, 1))
        #expect(types(differ.transitions(from: card1, to: card2, now: 20)) == [.verifyCancelled])

        // No records at all: times_used 3 → 1 is two cancellations.
        let bare1 = snapshot(at: 10, timesCard: (5, 3))
        let bare2 = snapshot(at: 20, timesCard: (5, 1))
        let bare = differ.transitions(from: bare1, to: bare2, now: 20)
        #expect(bare.map(\.discriminator) == ["use-3@10", "use-2@10"])
    }

    @Test("can_cancel true → false closes the window once")
    func cancelWindowClosed() {
        let a = snapshot(at: 10, verifications: [("v1", true)])
        let b = snapshot(at: 20, verifications: [("v1", false)])
        let result = differ.transitions(from: a, to: b, now: 20)
        #expect(types(result) == [.cancelWindowClosed])
        #expect(result[0].changes == [FieldChange(field: "can_cancel", before: .bool(true), after: .bool(false))])
        #expect(differ.transitions(from: b, to: snapshot(at: 30, verifications: [("v1", false)]), now: 30).isEmpty)
    }

    @Test("expiring_soon and expired come from the clock even when nothing changed")
    func clockEvents() {
        let expire: Int64 = 200_000
        let early = snapshot(at: 100_000, expire: expire)
        let later = snapshot(at: 120_000, expire: expire)
        #expect(types(differ.transitions(from: early, to: later, now: 120_000)) == [.expiringSoon])
        let again = snapshot(at: 130_000, expire: expire)
        #expect(differ.transitions(from: later, to: again, now: 130_000).isEmpty)
        let after = snapshot(at: 200_001, expire: expire)
        #expect(types(differ.transitions(from: again, to: after, now: 200_001)) == [.expired])
        #expect(differ.transitions(from: after, to: snapshot(at: 200_100, expire: expire), now: 200_100).isEmpty)
        // A used certificate does not expire.
        let used = snapshot(at: 130_000, expire: expire, verifications: [("v1", false)])
        let usedAfter = snapshot(at: 200_001, expire: expire, verifications: [("v1", false)])
        #expect(differ.transitions(from: used, to: usedAfter, now: 200_001).isEmpty)
    }

    /// Polls a certificate through `statuses` (observed 10 s apart), carrying each snapshot over
    /// as the watcher does; returns the refund events' types and discriminators.
    func refundEvents(_ statuses: [Int64]) -> [(EventType, String)] {
        var previous: CertificateSnapshot?
        var result: [(EventType, String)] = []
        for (index, status) in statuses.enumerated() {
            let current = differ.carried(snapshot(at: 10 * Int64(index + 1), status: status), from: previous)
            for transition in differ.transitions(from: previous, to: current, now: current.observedAt)
            where ![.discovered, .statusChanged].contains(transition.type) {
                result.append((transition.type, transition.discriminator))
            }
            previous = current
        }
        return result
    }

    @Test("refund flow as Douyin documents it: a request may be rejected (5) or end refunded (4)")
    func refundFlow() {
        let rejected = refundEvents([1, 3, 5])
        #expect(rejected.map(\.0) == [.refundRequested, .refundFailed])
        let refunded = refundEvents([1, 3, 4])
        #expect(refunded.map(\.0) == [.refundRequested, .refunded])
        let processing = refundEvents([1, 3, 6, 4])
        #expect(processing.map(\.0) == [.refundRequested, .refunding, .refunded])
        // A second request after a rejection is a new request, with its own ids.
        let twice = refundEvents([1, 3, 5, 3, 5, 3, 4])
        #expect(twice.map(\.0) == [.refundRequested, .refundFailed, .refundRequested, .refundFailed, .refundRequested, .refunded])
        #expect(twice.map(\.1) == ["request-1", "request-1", "request-2", "request-2", "request-3", ""])
        // A request and its rejection between two polls: both reported, same ids as when seen one by one.
        let missed = refundEvents([1, 5])
        #expect(missed.map(\.0) == [.refundRequested, .refundFailed])
        #expect(missed.map(\.1) == rejected.map(\.1))
        // Pending and rejected refunds leave the certificate usable; only 4 is refunded.
        for status in [CertificateStatusCode.refundRequested, CertificateStatusCode.refunding, CertificateStatusCode.refundFailed] {
            #expect(snapshot(at: 10, status: status).derivedState(at: 10) == .available)
        }
        #expect(snapshot(at: 10, status: CertificateStatusCode.refunded).derivedState(at: 10) == .refunded)
    }

    @Test("an unknown status is reported as status_changed only, never guessed")
    func unknownStatus() {
        let result = differ.transitions(from: snapshot(at: 10), to: snapshot(at: 20, status: 42), now: 20)
        #expect(types(result) == [.statusChanged])
        #expect(snapshot(at: 20, status: 42).derivedState(at: 20) == .available)
    }

    @Test("refunded straight from unused: the unseen request is reported too, then refunded and status_changed")
    func refundAndStatus() {
        let a = snapshot(at: 10)
        let b = snapshot(at: 20, status: CertificateStatusCode.refunded)
        let result = differ.transitions(from: a, to: b, now: 20)
        #expect(types(result) == [.refundRequested, .refunded, .statusChanged])
        #expect(result[2].changes == [FieldChange(field: "status", before: .int(1), after: .int(4))])
        #expect(result[2].discriminator == "status:1->4;used:0->0;last_verify:-")
        let usedType = differ.transitions(from: a, to: snapshot(at: 20, used: 1), now: 20)
        #expect(types(usedType) == [.statusChanged])
        #expect(usedType[0].changes.map(\.field) == ["used_status_type"])
    }

    @Test("a snapshot not newer than the stored one is ignored")
    func outOfOrder() {
        let newer = snapshot(at: 20, verifications: [("v1", true)])
        let older = snapshot(at: 10)
        #expect(differ.transitions(from: newer, to: older, now: 30).isEmpty)
        #expect(differ.transitions(from: newer, to: snapshot(at: 20), now: 30).isEmpty)
    }

    @Test("event ids are deterministic and distinct per discriminator; PII is masked in events")
    func eventIDs() {
        let watch = WatchInfo(id: "w_1", orderID: "1001", labels: ["store": "sh-01"])
        let current = snapshot(at: 20, verifications: [("v1", true)])
        let transitions = differ.transitions(from: nil, to: current, now: 20)
        let first = transitions.map { CertWatchEvent(transition: $0, snapshot: current, watch: watch, time: 20) }
        let again = transitions.map { CertWatchEvent(transition: $0, snapshot: current, watch: watch, time: 99) }
        #expect(first.map(\.id) == again.map(\.id))
        #expect(Set(first.map(\.id)).count == first.count)
        #expect(first[0].id.hasPrefix("evt_") && first[0].id.count == 36)
        #expect(first[0].data.certificate?.reserveUsers.first?.name == "张*")
        #expect(first[0].data.certificate?.reserveUsers.first?.phone == "138****5678")
        #expect(first[0].source == "/douyin/compre_retail/orders/1001")
    }

    @Test("the envelope is CloudEvents JSON with ids as strings and RFC 3339 copies of times")
    func envelope() throws {
        let watch = WatchInfo(id: "w_1", orderID: "1001")
        let current = snapshot(at: 1_734_169_082, verifications: [("v1", true)])
        let event = CertWatchEvent(
            transition: Transition(type: .verified, discriminator: "v1", verification: current.verifications[0]),
            snapshot: current, watch: watch, time: 1_734_169_082)
        let json = try JSONValue(parsing: event.jsonData())
        #expect(json["specversion"] == .string("1.0"))
        #expect(json["time"] == .string("2024-12-14T09:38:02Z"))
        #expect(json["subject"] == .string("7001"))
        #expect(json["data"]?["verification"]?["poi_id"] == .string("42"))
        #expect(json["data"]?["certificate"]?["amount"]?["pay_amount"] == .int(9900))
        #expect(json["data"]?["certificate"]?["observed_at_rfc3339"] == .string("2024-12-14T09:38:02Z"))
        let decoded = try DouyinJSON.decode(CertWatchEvent.self, from: event.jsonData())
        #expect(decoded == event)
    }
}

@Suite("Poll policy")
struct PollPolicyTests {
    let policy = PollPolicy(jitter: 0)
    var random = SeededGenerator(seed: 1)

    @Test("usable: base interval; cancellable: 30 s; expiry deadlines pull the next poll in")
    mutating func intervals() {
        #expect(policy.next(after: [snapshot(at: 0, expire: 1_000_000)], now: 0, random: &random) == .pollAt(300))
        let cancellable = snapshot(at: 0, expire: 1_000_000, verifications: [("v1", true)])
        #expect(policy.next(after: [cancellable], now: 0, random: &random) == .pollAt(30))
        guard case .pollAt(let at) = policy.next(after: [snapshot(at: 0, expire: 86_500)], now: 0, random: &random) else {
            Issue.record("expected a poll")
            return
        }
        #expect((101...105).contains(at))  // just after the expiring_soon lead time (86_500 − 86_400)
        guard case .pollAt(let atExpiry) = policy.next(after: [snapshot(at: 100, expire: 200)], now: 100, random: &random)
        else {
            Issue.record("expected a poll")
            return
        }
        #expect((201...205).contains(atExpiry))
    }

    @Test("done when nothing can change any more")
    mutating func done() {
        #expect(policy.next(after: [snapshot(at: 0, status: CertificateStatusCode.refunded)], now: 0, random: &random) == .done)
        #expect(policy.next(after: [snapshot(at: 0, verifications: [("v1", false)])], now: 0, random: &random) == .done)
        #expect(policy.next(after: [snapshot(at: 0, verifications: [("v1", true)])], now: 0, random: &random) != .done)
        #expect(policy.next(after: [snapshot(at: 300, expire: 200)], now: 300, random: &random) == .done)
        #expect(policy.next(after: [], now: 0, random: &random) == .pollAt(300))
        // A times card with uses left is not done.
        #expect(policy.next(after: [snapshot(at: 0, verifications: [("v1", false)], timesCard: (5, 1))], now: 0, random: &random) != .done)
    }

    @Test("a tight QPS budget stretches only the base interval, to fit the active watches in 60 % of it")
    mutating func fittedToBudget() {
        let fitted = policy.fitted(qps: 10, activeWatches: 10_000)
        #expect(fitted.baseInterval == 1_667)  // 10,000 / (10 × 0.6), rounded up
        #expect(fitted.cancellableInterval == 30)
        #expect(fitted.next(after: [snapshot(at: 0, expire: 1_000_000)], now: 0, random: &random) == .pollAt(1_667))
        let cancellable = snapshot(at: 0, expire: 1_000_000, verifications: [("v1", true)])
        #expect(fitted.next(after: [cancellable], now: 0, random: &random) == .pollAt(30))
        #expect(policy.fitted(qps: 10, activeWatches: 1_800) == policy)  // 1,800 watches fit in 300 s at 6 QPS
        #expect(policy.fitted(qps: 10, activeWatches: 1_801).baseInterval == 301)
        #expect(policy.fitted(qps: 0, activeWatches: 10_000) == policy)
        #expect(policy.fitted(qps: 1e-12, activeWatches: 10_000).baseInterval == 1_000_000_000)
    }

    @Test("jitter stays within ±10 %")
    mutating func jitter() {
        let jittered = PollPolicy()
        for _ in 0..<200 {
            guard case .pollAt(let at) = jittered.next(after: [snapshot(at: 0)], now: 0, random: &random) else { return }
            #expect((270...330).contains(at))
        }
    }

    @Test("retry backoff doubles from 5 s to a 10-minute cap")
    mutating func backoff() {
        let backoff = RetryBackoff(jitter: 0)
        #expect((1...9).map { backoff.delay(attempt: $0, random: &random) } == [5, 10, 20, 40, 80, 160, 320, 600, 600])
    }

    @Test("rate limiter: bucket, halving on 2119003, additive recovery")
    func rateLimiter() {
        var limiter = RateLimiter(rate: 10, burst: 1)
        #expect(limiter.acquire(now: 0) == 0)
        #expect(abs(limiter.acquire(now: 0) - 0.1) < 1e-9)
        limiter.slowDown()
        #expect(limiter.currentRate == 5)
        for _ in 0..<20 { limiter.succeeded() }
        #expect(limiter.currentRate == 6)
        for _ in 0..<200 { limiter.succeeded() }
        #expect(limiter.currentRate == 10)
    }

    @Test("rate limiter: a token given back is taken again at once, and never beyond the bucket")
    func rateLimiterGiveBack() {
        var limiter = RateLimiter(rate: 2, burst: 1)
        #expect(limiter.take(now: 100) == 0)
        #expect(limiter.take(now: 100) == 0.5)
        limiter.giveBack()
        #expect(limiter.take(now: 100) == 0)
        limiter.giveBack()
        limiter.giveBack()  // the bucket holds one
        #expect(limiter.take(now: 100) == 0)
        #expect(limiter.take(now: 100) == 0.5)
    }
}

@Suite("Differ guards")
struct DifferGuardTests {
    @Test("an absurd times_used jump (the documented example's 4.5e18) yields at most 100 use events")
    func absurdCounter() {
        let before = snapshot(at: 10, timesCard: (6_598_224_680_460_579_000, 0))
        let after = snapshot(at: 20, timesCard: (6_598_224_680_460_579_000, 4_481_550_764_903_564_000))
        let uses = Differ().transitions(from: before, to: after, now: 20).filter { $0.type == .timesCardUsed }
        #expect(uses.count == 100)
        #expect(uses.last?.use?.number == 4_481_550_764_903_564_000)
        let back = Differ().transitions(from: after, to: snapshot(at: 30, timesCard: (6_598_224_680_460_579_000, 0)), now: 30)
        #expect(back.filter { $0.type == .verifyCancelled }.count == 100)
    }
}
