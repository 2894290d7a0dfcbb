import CertWatch
import CertWatchCore
import CertWatchTesting
import Foundation
import Testing

@Suite struct SinkTests {
    @Test func stdoutWritesJSONLinesOrPrettyLines() async throws {
        let lines = LineCollector()
        let rig = try DeliveryRig(sinks: [SinkConfiguration(name: "stdout", kind: .stdout)], stdout: lines.write)
        let events = try await rig.append([testEvent("a"), testEvent("b")])
        try await rig.dispatcher.dispatchDue()
        #expect(lines.lines.count == 2)
        let decoded = try lines.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(Set(decoded.map { $0["id"] as! String }) == Set(events.map(\.id)))
        #expect(StdoutSink.prettyLine(events[0]).contains("certificate.verified  cert=a  order=o-a"))
    }

    @Test func fileSinkAppendsAndRotates() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-file-\(UUID().uuidString)").path
        let path = directory + "/events.jsonl"
        let sink = SinkConfiguration(name: "archive", kind: .file, path: path, maxBytes: 2048, maxFiles: 2)
        let rig = try DeliveryRig(sinks: [sink])
        try await rig.append((1...12).map { testEvent("c\($0)") })
        try await rig.dispatcher.dispatchDue()
        let manager = FileManager.default
        #expect(manager.fileExists(atPath: path) && manager.fileExists(atPath: path + ".1"))
        #expect(!manager.fileExists(atPath: path + ".3"))
        let current = try String(contentsOfFile: path, encoding: .utf8)
        #expect(current.split(separator: "\n").allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        #expect(try await rig.deliveries.deliveryCounts()["archive"]?[.delivered] == 12)
        await rig.shutdown()
    }

    @Test func douyinPushShape() async throws {
        let receiver = WebhookReceiver()
        try await receiver.withRunning { url in
            let sink = SinkConfiguration(
                name: "legacy", kind: .webhook, url: url, secrets: ["client-secret"], format: .douyinPush, clientKey: "awx123",
                allowPrivate: true)
            let rig = try DeliveryRig(sinks: [sink])
            let verified = testEvent("7000000000000000001", .verified)
            let discovered = testEvent("7000000000000000001", .discovered)
            try await rig.append([discovered, verified])
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.delivery(of: discovered, sink: "legacy").state == .cancelled)
            let got = try #require(receiver.received.first)
            #expect(receiver.received.count == 1)
            #expect(got.headers["msg-id"] == verified.id)
            #expect(got.headers["x-douyin-signature"] == DouyinPushFormat.signature(clientSecret: "client-secret", body: got.body))
            let body = try #require(got.json)
            #expect(body["event"] as? String == "life_trade_certificate_notify")
            #expect(body["client_key"] as? String == "awx123")
            let content = try JSONSerialization.jsonObject(with: Data((body["content"] as! String).utf8)) as! [String: Any]
            #expect(content["action"] as? String == "verify")
            let certificate = content["certificate"] as! [String: Any]
            #expect(certificate["certificate_id"] as? String == "7000000000000000001")
            #expect(certificate["order_id"] as? String == "o-7000000000000000001")
            #expect(certificate["account_id"] as? String == "acc-1")
            await rig.shutdown()
        }
    }

    @Test func chatBotsFormatsSigningAndErrorCodes() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(decide: { _ in nil }))
        try await receiver.withRunning { url in
            // Each bot's answer is chosen by path through a tiny stub: the receiver answers {"ok":true}
            // (no code field) — a bot answer without a success code is a failure.
            let sinks = [
                SinkConfiguration(name: "feishu", kind: .feishu, url: url + "/feishu", secrets: ["fsecret"], allowPrivate: true),
                SinkConfiguration(name: "ding", kind: .dingtalk, url: url + "/ding?access_token=t", secrets: ["dsecret"], allowPrivate: true),
                SinkConfiguration(name: "wecom", kind: .wecom, url: url + "/wecom?key=k", allowPrivate: true),
            ]
            let rig = try DeliveryRig(sinks: sinks)
            let event = try await rig.append([testEvent("a")])[0]
            try await rig.dispatcher.dispatchDue()
            for name in ["feishu", "ding", "wecom"] {
                #expect(try await rig.delivery(of: event, sink: name).state == .retrying)
            }
            let byPath = Dictionary(receiver.received.map { ($0.path, $0) }) { a, _ in a }
            let feishu = try #require(byPath["/feishu"]?.json)
            #expect(feishu["msg_type"] as? String == "text")
            #expect(feishu["sign"] as? String == ChatBotSigning.feishu(timestampSeconds: Int64(feishu["timestamp"] as! String)!, secret: "fsecret"))
            let ding = try #require(byPath["/ding"])
            #expect((ding.json?["msgtype"] as? String) == "markdown")
            let wecom = try #require(byPath["/wecom"]?.json)
            #expect(((wecom["markdown"] as? [String: Any])?["content"] as? String)?.contains("券已核销") == true)
            await rig.shutdown()
        }
    }

    @Test func botErrorCodesAreFailuresAndRateLimitsWait() {
        #expect(ChatBotFormat.failure(inBody: Data(#"{"errcode":0,"errmsg":"ok"}"#.utf8), kind: .wecom) == nil)
        #expect(ChatBotFormat.failure(inBody: Data(#"{"code":0,"msg":"success"}"#.utf8), kind: .feishu) == nil)
        #expect(ChatBotFormat.failure(inBody: Data(#"{"StatusCode":0}"#.utf8), kind: .feishu) == nil)
        #expect(ChatBotFormat.failure(inBody: Data(#"{"code":19021,"msg":"sign match fail"}"#.utf8), kind: .feishu)! == (19021, nil))
        #expect(ChatBotFormat.failure(inBody: Data(#"{"errcode":130101,"errmsg":"send too fast"}"#.utf8), kind: .dingtalk)! == (130101, 60))
        #expect(ChatBotFormat.failure(inBody: Data(#"{"errcode":45009}"#.utf8), kind: .wecom)! == (45009, 60))
        #expect(ChatBotFormat.failure(inBody: Data("<html>".utf8), kind: .wecom)! == (-1, nil))
    }
}
