import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// The sandbox's 券消息通知: what it pushes for each change, and the push fault keys.
@Suite struct PushTests {
    static func sandbox(_ push: PushFaults? = nil, seed: UInt64 = 1) async -> DouyinSandbox {
        let sandbox = DouyinSandbox(
            configuration: SandboxConfiguration(seed: seed, faults: FaultProfile(name: "t", push: push)), clock: .manual())
        await sandbox.enablePushes()
        return sandbox
    }

    @Test("verify, verify_cancel and refund each push a signed-shape life_trade_certificate_notify")
    func actions() async throws {
        let sandbox = await Self.sandbox()
        let order = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher), .init(kind: .voucher)]))
        let (first, second) = (order.certificates[0].certificateID, order.certificates[1].certificateID)
        try await sandbox.verify(certificateID: first)
        try await sandbox.cancelVerification(certificateID: first)
        try await sandbox.refund(certificateID: second)
        try await sandbox.expire(certificateID: first)  // not pushed
        let pushes = await sandbox.takeDuePushes()
        #expect(pushes.map(\.action) == ["verify", "verify_cancel", "refund_success"])
        #expect(pushes.map(\.certificateID) == [first, first, second])
        #expect(Set(pushes.map(\.messageID)).count == 3)
        let body = try JSONValue(parsing: pushes[0].body)
        #expect(body["event"] == .string("life_trade_certificate_notify"))
        #expect(body["client_key"] == .string("sandbox_key"))
        guard case .string(let text)? = body["content"] else {
            Issue.record("content is not a JSON string")
            return
        }
        let content = try JSONValue(parsing: Data(text.utf8))
        #expect(content["action"] == .string("verify"))
        #expect(content["msg_time"] == .int(pushes[0].changedAt))
        #expect(content["certificate"]?["certificate_id"] == .string(first))
        #expect(content["certificate"]?["order_id"] == .string(order.orderID))
        #expect(await sandbox.takeDuePushes().isEmpty)
        #expect(await sandbox.pushLog().count == 3)
    }

    @Test("no pusher attached: nothing is recorded")
    func disabled() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
        try await sandbox.verify(certificateID: order.certificates[0].certificateID)
        #expect(await sandbox.pushLog().isEmpty)
    }

    @Test("loss, duplication, delay and reordering")
    func faults() async throws {
        let lossy = await Self.sandbox(PushFaults(loss: 1))
        let a = try await lossy.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
        try await lossy.verify(certificateID: a.certificates[0].certificateID)
        #expect(await lossy.takeDuePushes().isEmpty)
        #expect(await lossy.pushLog().map(\.lost) == [true])

        let doubled = await Self.sandbox(PushFaults(duplicate: 1))
        let b = try await doubled.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
        try await doubled.verify(certificateID: b.certificates[0].certificateID)
        let twice = await doubled.takeDuePushes()
        #expect(twice.count == 2)
        #expect(twice[0] == twice[1])

        let late = await Self.sandbox(PushFaults(delayMaxSeconds: 30))
        let c = try await late.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
        try await late.verify(certificateID: c.certificates[0].certificateID)
        let wait = try #require(await late.secondsUntilNextPush())
        #expect(wait > 0 && wait <= 30)
        if wait >= 1 {
            #expect(await late.takeDuePushes().isEmpty)
        }
        try await late.advanceClock(by: 30)
        #expect(await late.takeDuePushes().count == 1)

        // Reordering: the verification's push is held back 60 s; the cancel's (no faults by then) overtakes it.
        let reordered = await Self.sandbox(PushFaults(reorder: 1, reorderDelaySeconds: 60))
        let d = try await reordered.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
        try await reordered.verify(certificateID: d.certificates[0].certificateID)
        try await reordered.setFaultProfile(FaultProfile(name: "t", push: PushFaults()))
        try await reordered.advanceClock(by: 10)
        try await reordered.cancelVerification(certificateID: d.certificates[0].certificateID)
        #expect(await reordered.takeDuePushes().map(\.action) == ["verify_cancel"])
        try await reordered.advanceClock(by: 60)
        #expect(await reordered.takeDuePushes().map(\.action) == ["verify"])
    }

    @Test("a profile without push keys installed later keeps the push faults the sandbox started with")
    func pushFaultsSurviveProfileSwitch() async throws {
        let sandbox = await Self.sandbox(PushFaults(loss: 1))
        try await sandbox.setFaultProfile(FaultProfile.builtins["busy30"]!)  // as a scenario's `faults` step does
        let order = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
        try await sandbox.verify(certificateID: order.certificates[0].certificateID)
        #expect(await sandbox.pushLog().map(\.lost) == [true])
        #expect(await sandbox.takeDuePushes().isEmpty)
    }

    @Test("the push keys parse from YAML and out-of-range values name the key")
    func profileKeys() throws {
        let profile = try FaultProfile.parse(
            yaml: "name: p\npush:\n  loss: 0.1\n  duplicate: 0.2\n  delay_max_s: 30\n  reorder: 0.3\n  reorder_delay_s: 90\n")
        #expect(profile.push == PushFaults(loss: 0.1, duplicate: 0.2, delayMaxSeconds: 30, reorder: 0.3, reorderDelaySeconds: 90))
        #expect(throws: SandboxAdminError.self) { try FaultProfile.parse(yaml: "push:\n  loss: 2\n") }
        do {
            _ = try FaultProfile.parse(yaml: "push:\n  delay_max_s: -1\n")
        } catch {
            #expect(error.message.contains("push.delay_max_s"))
        }
    }
}
