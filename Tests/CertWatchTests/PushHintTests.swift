import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A push hint jumps the queue: the named watches are polled at once, ahead of routine polls, once
/// per second at most, once per `Msg-Id`.
@Suite("Push hints")
struct PushHintTests {
    static let secret = "sandbox_secret"

    static func headers(_ body: String, msgID: String? = nil) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields[HTTPField.Name("X-Douyin-Signature")!] = DouyinPushSignature.hex(clientSecret: secret, body: Data(body.utf8))
        if let msgID { fields[HTTPField.Name("Msg-Id")!] = msgID }
        return fields
    }

    static func post(_ client: some TestClientProtocol, _ body: String, msgID: String? = nil) async throws -> JSONValue {
        try await client.execute(uri: "/douyin/webhook", method: .post, headers: headers(body, msgID: msgID), body: ByteBuffer(string: body)) {
            response throws -> JSONValue in
            #expect(response.status == .ok)
            return try JSONValue(parsing: Data(buffer: response.body))
        }
    }

    @Test("issue 18's exact body, signed, makes the named watch poll at once and the poll finds the verification")
    func issueBodyPollsAtOnce() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 600, maxInterval: 600)) { h in
            let order = try await h.sandbox.createOrder(
                OrderSpec(certificates: [.init(kind: .voucher)], orderID: "1068000000001745533"))
            let watch = try await h.register(order.orderID)
            _ = try await h.run(for: 2)  // discovered; the next routine poll is 10 minutes away
            try await h.sandbox.verify(certificateID: order.certificates[0].certificateID)
            #expect(try await h.watcher.pollDue().isEmpty)  // without the push nothing is due
            let push = DouyinPushIntake(clientSecret: Self.secret, store: h.store, clock: h.clock, policy: PollPolicy())
            let app = Application(router: CertWatchAPI(store: h.store, clock: h.clock, apiKeys: ["k"], push: push).makeRouter())
            try await app.test(.router) { client in
                let answer = try await Self.post(client, PushMessageTests.issueBody, msgID: "issue-18")
                #expect(answer["status"] == .string("polling"))
                #expect(answer["watches"] == .int(1))
            }
            // At the same second: polled, and the verification found by it is recorded as push-detected.
            let outcomes = try await h.watcher.pollDue()
            #expect(outcomes.count == 1)
            guard case .polled(let events)? = outcomes.first else {
                Issue.record("no poll: \(outcomes)")
                return
            }
            let verified = events.first { $0.type == .verified }
            #expect(verified?.data.watch.id == watch.id)
            #expect(verified?.time == h.clock.unixNow)
            let detections = try await h.store.detections().filter { $0.type == EventType.verified.rawValue }
            #expect(detections.map(\.detectedBy) == [.push])
        }
    }

    @Test("duplicate Msg-Id: 200, no second poll; several hints within a second: one poll; unknown events: 200 ignored")
    func coalescing() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 600, maxInterval: 600)) { h in
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            try await h.register(order.orderID)
            _ = try await h.run(for: 2)
            let push = DouyinPushIntake(clientSecret: Self.secret, store: h.store, clock: h.clock, policy: PollPolicy())
            let app = Application(router: CertWatchAPI(store: h.store, clock: h.clock, apiKeys: ["k"], push: push).makeRouter())
            let body = #"{"event":"life_trade_certificate_notify","content":{"action":"verify","certificate":{"order_id":"\#(order.orderID)"}}}"#
            try await app.test(.router) { client in
                let answer1 = try await Self.post(client, body, msgID: "m-1")
                #expect(answer1["status"] == .string("polling"))
                let answer2 = try await Self.post(client, body, msgID: "m-1")
                #expect(answer2["status"] == .string("duplicate"))
                let answer3 = try await Self.post(client, body, msgID: "m-2")
                #expect(answer3["status"] == .string("polling"))
                let answer4 = try await Self.post(client, body)
                #expect(answer4["status"] == .string("polling"))
                let other = #"{"event":"life_product_status_change","content":"{\"product_id\":\"1\",\"status\":\"GOODS_ONLINE\"}"}"#
                let answer5 = try await Self.post(client, other, msgID: "m-3")
                #expect(answer5["status"] == .string("ignored"))
            }
            #expect(try await h.watcher.pollDue().count == 1)  // three hints, one second: one poll
            #expect(try await h.watcher.pollDue().isEmpty)
            // A hint in the second of that poll is kept for the next second, not lost.
            try await app.test(.router) { client in
                let answer6 = try await Self.post(client, body, msgID: "m-4")
                #expect(answer6["status"] == .string("polling"))
            }
            #expect(try await h.watcher.pollDue().isEmpty)
            h.clock.advance(1)
            #expect(try await h.watcher.pollDue().count == 1)
        }
    }

    @Test("a hint finds watches by certificate id in stored snapshots and by encrypted code")
    func lookups() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 600, maxInterval: 600)) { h in
            let first = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            let second = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            let byOrder = try await h.register(first.orderID)
            let byCode = try await h.store.register(
                WatchRegistration(encryptedCode: second.certificates[0].encryptedCode), now: h.clock.unixNow,
                firstPollAt: h.clock.unixNow + 1
            ).watch
            _ = try await h.run(for: 2)
            let now = h.clock.unixNow
            #expect(try await h.store.hint(HintTargets(certificateIDs: [first.certificates[0].certificateID]), now: now) == [byOrder.id])
            #expect(try await h.store.hint(HintTargets(encryptedCodes: [second.certificates[0].encryptedCode]), now: now) == [byCode.id])
            #expect(try await h.store.hint(HintTargets(certificateIDs: ["1"], encryptedCodes: ["nope"]), now: now).isEmpty)
            #expect(Set(try await h.store.claimDue(now: now, limit: 10).map(\.id)) == [byOrder.id, byCode.id])
        }
    }

    @Test("hinted watches are claimed before every routine watch that is due")
    func priority() async throws {
        let store = try temporaryStore()
        let now: Int64 = 1_734_169_082
        for index in 0..<50 {
            _ = try await store.register(WatchRegistration(orderID: "\(1000 + index)"), now: now - 100, firstPollAt: now - 100 + Int64(index))
        }
        let late = try await store.register(WatchRegistration(orderID: "9999"), now: now, firstPollAt: now + 3600).watch
        #expect(try await store.hint(HintTargets(orderIDs: ["9999"]), now: now) == [late.id])
        #expect(try await store.nextDue(now: now) == now - 100)
        let claimed = try await store.claimDue(now: now, limit: 3)
        #expect(claimed.map(\.orderID) == ["9999", "1000", "1001"])
        #expect(claimed.map { $0.hintedAt != nil } == [true, false, false])
        #expect(try await store.claimHinted(now: now, limit: 10).isEmpty)
    }
}
