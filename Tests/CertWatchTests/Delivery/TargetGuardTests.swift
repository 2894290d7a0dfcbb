import CertWatch
import CertWatchTesting
import Foundation
import Testing

@Suite struct TargetGuardTests {
    @Test(arguments: [
        "http://127.0.0.1/hook", "http://localhost:8080/", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fe80::1]/", "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "http://0.1.2.3/",
        // 6to4 of 169.254.169.254, Teredo with a private server or a loopback client, NAT64 local-use.
        "http://[2002:a9fe:a9fe::1]/", "http://[2001:0:a9fe:a9fe::1]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        "http://[64:ff9b:1::808:808]/",
    ])
    func refusesPrivateTargets(url: String) {
        #expect(throws: TargetGuard.Refused.self) { try TargetGuard.check(URL(string: url)!, allowPrivate: false) }
    }

    @Test func allowFlagLetsPrivateTargetsThrough() throws {
        try TargetGuard.check(URL(string: "http://127.0.0.1:9/hook")!, allowPrivate: true)
    }

    @Test func refusesOtherSchemes() {
        #expect(throws: TargetGuard.Refused.self) { try TargetGuard.check(URL(string: "file:///etc/passwd")!, allowPrivate: true) }
    }

    @Test func publicAddressesPass() throws {
        #expect(TargetGuard.forbiddenReason([8, 8, 8, 8]) == nil)
        #expect(TargetGuard.forbiddenReason([203, 119, 0, 1]) == nil)
        #expect(TargetGuard.forbiddenReason([0x24, 0x08] + Array(repeating: 0, count: 13) + [1]) == nil)
        try TargetGuard.check(URL(string: "https://1.1.1.1/hook")!, allowPrivate: false)
        #expect(TargetGuard.forbiddenReason([169, 254, 169, 254]) == "metadata")
        // 6to4 and Teredo of public addresses (8.8.8.8; Teredo server 65.54.227.120) are public.
        #expect(TargetGuard.forbiddenReason([0x20, 0x02, 8, 8, 8, 8] + Array(repeating: 0, count: 9) + [1]) == nil)
        let teredo: [UInt8] = [0x20, 0x01, 0, 0, 65, 54, 227, 120, 0x80, 0, 0x63, 0xbf] + [8, 8, 8, 8].map { ~$0 }
        #expect(TargetGuard.forbiddenReason(teredo) == nil)
        #expect(TargetGuard.forbiddenReason([0x20, 0x02, 169, 254, 169, 254] + Array(repeating: 0, count: 10)) == "6to4 of a metadata")
    }

    @Test func sinkRefusesLoopbackWithoutTheFlag() async throws {
        let receiver = WebhookReceiver()
        try await receiver.withRunning { url in
            var sink = webhook(url: url)
            sink.allowPrivate = false
            let rig = try DeliveryRig(sinks: [sink])
            let event = try await rig.append([testEvent("c1")])[0]
            try await rig.dispatcher.dispatchDue()
            let delivery = try await rig.delivery(of: event, sink: "hook")
            // Refused at send time: the delivery waits (pending) and the sink is disabled with the reason.
            #expect(delivery.state == .pending)
            #expect(delivery.lastError?.contains("loopback") == true)
            #expect(try await rig.store.disabledSinks()["hook"]?.reason.contains("loopback") == true)
            #expect(receiver.requestCount == 0)
            await rig.shutdown()
        }
    }
}
