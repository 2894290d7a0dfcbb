import CertWatch
import Foundation
import Testing

@Suite struct SignatureTests {
    // Source: the reference example of the Standard Webhooks specification
    // (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md,
    // "Signature scheme" example, also used by the official libraries' tests).
    let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    let timestamp: Int64 = 1_614_265_330
    let body = Data(#"{"test": 2432232314}"#.utf8)
    let expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    @Test func standardWebhooksReferenceVector() throws {
        let key = try StandardWebhooks.key(fromSecret: testSecret)
        #expect(StandardWebhooks.signature(id: id, timestamp: timestamp, body: body, key: key) == expected)
        try StandardWebhooks.verify(
            id: id, timestamp: "\(timestamp)", signatureHeader: expected, body: body, secrets: [testSecret],
            now: Double(timestamp) + 10)
    }

    @Test func rotationSignsWithEverySecretAndVerifiesWithAny() throws {
        let other = "whsec_" + Data("another-secret-of-32-bytes-long!".utf8).base64EncodedString()
        let header = try StandardWebhooks.signatureHeader(id: id, timestamp: timestamp, body: body, secrets: [other, testSecret])
        #expect(header.split(separator: " ").count == 2)
        #expect(header.hasSuffix(expected))
        try StandardWebhooks.verify(id: id, timestamp: "\(timestamp)", signatureHeader: header, body: body, secrets: [testSecret], now: Double(timestamp))
    }

    @Test func verificationRejectsTamperingAndOldTimestamps() {
        #expect(throws: StandardWebhooks.Failure.noMatchingSignature) {
            try StandardWebhooks.verify(
                id: id, timestamp: "\(timestamp)", signatureHeader: expected, body: Data(#"{"test": 1}"#.utf8),
                secrets: [testSecret], now: Double(timestamp))
        }
        #expect(throws: StandardWebhooks.Failure.timestampOutOfTolerance) {
            try StandardWebhooks.verify(
                id: id, timestamp: "\(timestamp)", signatureHeader: expected, body: body, secrets: [testSecret],
                now: Double(timestamp) + 301)
        }
        #expect(throws: StandardWebhooks.Failure.missingHeader("webhook-signature")) {
            try StandardWebhooks.verify(id: id, timestamp: "\(timestamp)", signatureHeader: nil, body: body, secrets: [testSecret], now: 0)
        }
        #expect(throws: StandardWebhooks.Failure.invalidSecret) { try StandardWebhooks.key(fromSecret: "whsec_!!!") }
    }

    // DingTalk custom robot 加签 and Feishu custom bot 签名校验 vectors: computed independently with
    // Python's hmac/hashlib following each vendor's documented algorithm
    // (DingTalk: base64(HMAC-SHA256(secret, "ts\nsecret")), URL-encoded;
    //  Feishu: base64(HMAC-SHA256(key: "ts\nsecret", message: "")).
    @Test func dingTalkSign() {
        #expect(
            ChatBotSigning.dingTalk(timestampMilliseconds: 1_577_262_236_757, secret: "SEC1234567890abcdef")
                == "f7qQ1A8KagEZ45y1gasTtKsEq5ERTeDXP9T%2BWkIqzDk%3D")
    }

    @Test func feishuSign() {
        #expect(
            ChatBotSigning.feishu(timestampSeconds: 1_599_360_473, secret: "SEC1234567890abcdef")
                == "LXUvnhRSRxoK60JevBv36QCDMMC9hnDYEYFFDfmmD/M=")
    }

    // Douyin push: X-Douyin-Signature = hex sha1(client secret + body) (券消息通知 签名规则).
    @Test func douyinPushSignature() {
        #expect(DouyinPushFormat.signature(clientSecret: "secret", body: Data(#"{"a":1}"#.utf8)) == "6d3ece5e32c56a029e1bc9209c84b0707179c504")
    }
}
