import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Douyin's push in the shapes it takes (see ``DouyinPushMessage``), read exactly.
@Suite("Douyin push message shapes")
struct PushMessageTests {
    static let issueBody =
        #"{"event":"life_trade_certificate_notify","client_key":"sandbox_key","content":"{\"action\":\"verify\",\"msg_time\":\"1764400000\",\"certificate\":{\"certificate_id\":\"7230000000002418006\",\"order_id\":\"1068000000001745533\",\"account_id\":7100000000000000001}}","log_id":"202611301200000000ABCDEF"}"#

    @Test("issue 18's body: ids inside content.certificate, msg_time a string, account_id a number")
    func issueBody() throws {
        let message = try DouyinPushMessage(parsing: Data(Self.issueBody.utf8))
        #expect(message.event == "life_trade_certificate_notify")
        #expect(message.action == "verify")
        #expect(message.msgTime == 1_764_400_000)
        #expect(message.accountID == "7100000000000000001")
        #expect(message.logID == "202611301200000000ABCDEF")
        #expect(message.targets == HintTargets(orderIDs: ["1068000000001745533"], certificateIDs: ["7230000000002418006"]))
    }

    static let shapeBodies: [(String, HintTargets, Int64?)] = [
            // content as an object, ids as numbers above 2^53 (exact, never through Double)
            (#"{"event":"life_trade_certificate_notify","content":{"action":"verify","msg_time":1679914989,"certificate":{"certificate_id":7212557509230723106,"order_id":8000007678483824642,"account_id":"7126518681177163816"}}}"#,
             HintTargets(orderIDs: ["8000007678483824642"], certificateIDs: ["7212557509230723106"]), Int64?(1_679_914_989)),
            // order_id at the top of a string content, msg_time in milliseconds
            (#"{"event":"life_trade_certificate_notify","content":"{\"order_id\":\"1095657667861145991\",\"action\":\"refund_success\",\"msg_time\":1679914989123}"}"#,
             HintTargets(orderIDs: ["1095657667861145991"]), Int64?(1_679_914_989)),
            // 订单消息通知: content.order, msg_time a millisecond string
            (#"{"event":"life_trade_order_notify","content":"{\"action\":\"pay_success\",\"msg_time\":\"1722175826000\",\"order\":{\"order_id\":\"1065946966824669548\",\"account_id\":\"7376546762393143333\",\"pay_amount\":100}}","msg_id":"13cedde5b8decd82f5c2267a60edd7ad"}"#,
             HintTargets(orderIDs: ["1065946966824669548"]), Int64?(1_722_175_826)),
            // an order message listing certificates (objects with encrypted codes, and bare ids)
            (#"{"event":"life_trade_order_notify","content":{"order_id":"1068000000000000001","certificate_list":[{"certificate_id":"7230000000000000001","encrypted_code":"CgwIARC-a"},{"certificate_id":7230000000000000002}],"certificate_ids":[7230000000000000003,"7230000000000000001"]}}"#,
             HintTargets(
                orderIDs: ["1068000000000000001"],
                certificateIDs: ["7230000000000000001", "7230000000000000003", "7230000000000000002"],
                encryptedCodes: ["CgwIARC-a"]), Int64?.none),
            // the same inside content.order.certificates
            (#"{"event":"life_trade_order_notify","content":{"order":{"order_id":18446744073709551615,"certificates":[{"certificate_id":"1","encrypted_code":"E1"}]}}}"#,
             HintTargets(orderIDs: ["18446744073709551615"], certificateIDs: ["1"], encryptedCodes: ["E1"]), Int64?.none),
        ]

    @Test("every shape names its ids exactly", arguments: shapeBodies)
    func shapes(body: String, targets: HintTargets, msgTime: Int64?) throws {
        let message = try DouyinPushMessage(parsing: Data(body.utf8))
        #expect(message.targets.orderIDs == targets.orderIDs)
        #expect(Set(message.targets.certificateIDs) == Set(targets.certificateIDs))
        #expect(message.targets.certificateIDs.count == targets.certificateIDs.count)
        #expect(message.targets.encryptedCodes == targets.encryptedCodes)
        #expect(message.msgTime == msgTime)
    }

    static let oddFields: [(String, HintTargets, String)] = [
        (#"{"event":"life_trade_certificate_notify","content":{"certificate":{"order_id":1.0e18,"certificate_id":"7"}}}"#,
         HintTargets(certificateIDs: ["7"]), "content.certificate.order_id"),
        (#"{"event":"life_trade_certificate_notify","content":{"certificate_list":[{"certificate_id":"72x"},{"certificate_id":8}]}}"#,
         HintTargets(certificateIDs: ["8"]), "content.certificate_list[0].certificate_id"),
        (#"{"event":"life_trade_certificate_notify","content":{"msg_time":"yesterday","order_id":"1"}}"#,
         HintTargets(orderIDs: ["1"]), "content.msg_time"),
        (#"{"event":"life_trade_certificate_notify","content":{"certificate":{"order_id":"2","account_id":123456789012345678901234567890}}}"#,
         HintTargets(orderIDs: ["2"]), "content.certificate.account_id"),
        (#"{"event":"life_trade_certificate_notify","order_id":"3","content":{}}"#, HintTargets(orderIDs: ["3"]), ""),
    ]

    @Test("a field of the wrong type is skipped with a warning naming its path; the readable ids still hint", arguments: oddFields)
    func oddField(body: String, targets: HintTargets, warningPath: String) throws {
        let message = try DouyinPushMessage(parsing: Data(body.utf8))
        #expect(message.targets == targets)
        if warningPath.isEmpty {
            #expect(message.warnings.isEmpty)
        } else {
            #expect(message.warnings.count == 1)
            #expect(message.warnings.first?.hasPrefix(warningPath + ":") == true)
        }
    }

    static let badBodies: [(String, Int, String?)] = [
            (#"{"event":"life_trade_certificate_notify","content":"{not json"}"#, 400, "content"),
            (#"{"content":{}}"#, 422, "event"),
            (#"[1]"#, 400, nil),
        ]

    @Test("bad input names the JSON path", arguments: badBodies)
    func badInput(body: String, status: Int, field: String?) {
        do {
            _ = try DouyinPushMessage(parsing: Data(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.status.code == status)
            #expect(error.field == field)
        }
    }

    /// One generated case of the property test.
    struct RoundTrip: Sendable {
        var type: EventType
        var certificateID: String
        /// A watch registered by encrypted code (found through its snapshot) instead of by order id.
        var byCode: Bool
        var orderID: String
        var accountID: String?
        var milliseconds: Bool
    }

    /// Random events of every type through certwatch's own `douyin-push` format, back into its own
    /// intake: each body with an action is accepted and hints the watch that emitted the event —
    /// by order id, or (a watch registered by encrypted code) by the certificate in its snapshots.
    @Test("property: every douyin-push body certwatch produces is accepted by its own intake and triggers the poll")
    func ownFormatRoundTrip() async throws {
        var random = SeededGenerator(seed: 18)
        var cases: [RoundTrip] = []
        for index in 0..<120 {
            let big = { (random: inout SeededGenerator) in String(UInt64.random(in: 1 << 53...UInt64.max, using: &random)) }
            cases.append(
                RoundTrip(
                    type: EventType.allCases.randomElement(using: &random)!,
                    certificateID: random.next() % 3 == 0 ? String(index + 1) : big(&random), byCode: random.next() % 2 == 0,
                    orderID: big(&random), accountID: random.next() % 2 == 0 ? big(&random) : nil,
                    milliseconds: random.next() % 2 == 0))
        }
        let store = try temporaryStore()
        let clock = ManualWallClock(1_734_169_082)
        let push = DouyinPushIntake(clientSecret: "s3cret", store: store, clock: clock, policy: PollPolicy())
        let app = Application(router: CertWatchAPI(store: store, clock: clock, apiKeys: ["k"], push: push).makeRouter())
        let roundTrips = cases
        let withAction = roundTrips.filter { DouyinPushFormat.action(for: $0.type) != nil }.count
        #expect(withAction > 30)
        try await app.test(.router) { client in
            for (index, item) in roundTrips.enumerated() {
                var event = EventSchema.sampleEvent(type: item.type)
                event.subject = item.certificateID
                let now = clock.unixNow
                let watch: Watch
                if item.byCode {
                    watch = try await store.register(WatchRegistration(encryptedCode: "code-\(index)"), now: now, firstPollAt: now + 600).watch
                    // Polled a second ago, so the hint is due now (a poll in this second would defer it).
                    var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID(item.certificateID)), observedAt: now - 1)
                    snapshot.encryptedCode = "code-\(index)"
                    try await store.commitPoll(
                        PollCommit(
                            watchID: watch.id, polledAt: now - 1, certificates: [StoredCertificate(snapshot: snapshot, raw: .object([:]))],
                            nextPollAt: now + 600))
                } else {
                    watch = try await store.register(WatchRegistration(orderID: item.orderID), now: now, firstPollAt: now + 600).watch
                }
                event.data.watch = watch.info
                event.data.watch.accountID = item.accountID
                let msgTime = item.milliseconds ? now * 1000 : now
                guard let body = DouyinPushFormat.body(of: event, clientKey: "ck", msgTime: msgTime) else {
                    #expect(DouyinPushFormat.action(for: item.type) == nil)
                    continue
                }
                var headers: HTTPFields = [.contentType: "application/json"]
                headers[HTTPField.Name("X-Douyin-Signature")!] = DouyinPushFormat.signature(clientSecret: "s3cret", body: body)
                headers[HTTPField.Name("Msg-Id")!] = "evt-\(index)"
                try await client.execute(uri: "/douyin/webhook", method: .post, headers: headers, body: ByteBuffer(data: body)) {
                    response throws in
                    #expect(response.status == .ok)
                    #expect(
                        try JSONValue(parsing: Data(buffer: response.body))["status"] == .string("polling"),
                        "\(item.type) by code: \(item.byCode)")
                }
                let claimed = try await store.claimDue(now: clock.unixNow, limit: 10)
                #expect(claimed.map(\.id) == [watch.id], "\(item.type) by code: \(item.byCode)")
                #expect(claimed.first?.hintedAt == now)
                clock.advance(1)
            }
        }
    }
}
