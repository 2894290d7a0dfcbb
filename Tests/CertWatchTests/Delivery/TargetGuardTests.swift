import CertWatch
import CertWatchTesting
import Foundation
import Testing

@Suite struct TargetGuardTests {
    @Test(arguments: [
        "http://127.0.0.1/hook", "http://localhost:8080/", "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://[fe80::1]/", "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/",
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
            #expect(delivery.state == .retrying)
            #expect(delivery.lastError?.contains("loopback") == true)
            #expect(receiver.requestCount == 0)
            await rig.shutdown()
        }
    }
}
