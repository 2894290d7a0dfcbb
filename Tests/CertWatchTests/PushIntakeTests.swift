import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Douyin push intake")
struct PushIntakeTests {
    static let secret = "sandbox_secret"

    func headers(_ body: String, msgID: String? = nil, secret: String = secret) -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields[HTTPField.Name("X-Douyin-Signature")!] = DouyinPushIntake.signature(secret: secret, body: Data(body.utf8))
        if let msgID { fields[HTTPField.Name("Msg-Id")!] = msgID }
        return fields
    }

    func queries(_ h: Harness) async -> Int {
        await h.sandbox.requests().filter { $0.path.contains("certificate/query") }.count
    }

    @Test("a signed push polls the order now; a duplicate Msg-Id polls once; a bad signature does nothing")
    func hint() async throws {
        try await Harness.with { h in
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            try await h.register(order.orderID)
            _ = try await h.run(for: 2)  // first poll: discovered; next poll in 5 minutes
            let before = await queries(h)
            let push = DouyinPushIntake(clientSecret: Self.secret, store: h.store, clock: h.clock, policy: PollPolicy())
            let api = CertWatchAPI(store: h.store, clock: h.clock, apiKeys: ["k"], push: push)
            let app = Application(router: api.makeRouter())
            let content = #"{\"action\":\"verify\",\"order_id\":\"\#(order.orderID)\"}"#
            let body = #"{"event":"life_trade_certificate_notify","client_key":"ck","content":"\#(content)"}"#
            try await app.test(.router) { client in
                try await client.execute(
                    uri: "/douyin/webhook", method: .post, headers: headers(body, secret: "wrong"), body: ByteBuffer(string: body)
                ) { response throws in
                    #expect(response.status == .unauthorized)
                }
                #expect(try await h.watcher.pollDue().isEmpty)
                for _ in 0..<2 {
                    try await client.execute(
                        uri: "/douyin/webhook", method: .post, headers: headers(body, msgID: "m-1"), body: ByteBuffer(string: body)
                    ) { response throws in
                        #expect(response.status == .ok)
                    }
                }
            }
            #expect(try await h.watcher.pollDue().count == 1)
            #expect(await queries(h) == before + 1)
        }
    }

    @Test("the verification handshake echoes the challenge; auto_register registers unknown orders")
    func handshakeAndAutoRegister() async throws {
        let store = try temporaryStore()
        let clock = ManualWallClock()
        let push = DouyinPushIntake(clientSecret: Self.secret, autoRegister: true, store: store, clock: clock, policy: PollPolicy())
        let api = CertWatchAPI(store: store, clock: clock, apiKeys: ["k"], push: push)
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            let handshake = #"{"event":"verify_webhook","client_key":"","content":{"challenge":12345}}"#
            try await client.execute(
                uri: "/douyin/webhook", method: .post, headers: headers(handshake), body: ByteBuffer(string: handshake)
            ) { response throws in
                #expect(try JSONValue(parsing: Data(buffer: response.body)) == .object(["challenge": .int(12345)]))
            }
            let message = #"{"event":"life_trade_order_notify","content":{"order_id":8800001}}"#
            try await client.execute(
                uri: "/douyin/webhook", method: .post, headers: headers(message, msgID: "m-2"), body: ByteBuffer(string: message)
            ) { response throws in
                #expect(response.status == .ok)
            }
        }
        let watches = try await store.watches()
        #expect(watches.map(\.orderID) == ["8800001"])
        #expect(watches.first?.labels == ["source": "douyin-push"])
    }
}
