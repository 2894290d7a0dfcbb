import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite struct ScenarioTests {
    /// `deploy/sandbox/scenarios/pickup-store-day.yaml` in this repository.
    static let shippedScenario = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/sandbox/scenarios/pickup-store-day.yaml").path

    @Test func pickupStoreDayPlaysOut() async throws {
        let scenario = try Scenario.load(path: Self.shippedScenario)
        #expect(scenario.speed == 60)
        let sandbox = DouyinSandbox(configuration: SandboxConfiguration(scenario: scenario), clock: .manual())
        let start: Int64 = 1_734_169_082
        func certificates(_ label: String) async throws -> [Certificate] {
            let orderID = try #require(await sandbox.orderID(forLabel: label))
            return try await sandbox.order(id: orderID).certificates
        }

        #expect(await sandbox.listOrders().count == 8)  // created at 0s
        try await sandbox.advanceClock(by: 2 * 3_600 + 5 * 60)  // 10:05: C#2 verified by mistake
        #expect(try await certificates("C")[1].verify?.canCancel == true)
        try await sandbox.advanceClock(by: 20 * 60)  // 10:25: cancelled, C#1 verified instead
        let c = try await certificates("C")
        #expect(c[1].verify == nil && c[1].status == CertificateStatusCode.unused)
        #expect(c[0].verify?.verifyTime == start + 2 * 3_600 + 21 * 60)
        try await sandbox.advanceClock(by: 40 * 60)  // 11:05: J's and E's refunds requested
        #expect(try await certificates("J")[0].status == CertificateStatusCode.refundRequested)
        #expect(try await certificates("E")[0].status == CertificateStatusCode.refundRequested)
        try await sandbox.advanceClock(by: 30 * 60)  // 11:35: J's rejected
        #expect(try await certificates("J")[0].status == CertificateStatusCode.refundFailed)
        try await sandbox.advanceClock(by: 100 * 60)  // 13:15: E's approved at 12:45, refunding for an hour
        #expect(try await certificates("E")[0].status == CertificateStatusCode.refunding)
        #expect(await sandbox.faultProfile().name == "none")  // the configured profile is back after lunch

        try await sandbox.advanceClock(by: 10 * 3_600)  // past closing
        let a = try await certificates("A")[0]
        #expect(a.status == CertificateStatusCode.used)
        #expect(a.verify?.canCancel == false)
        let b = try await certificates("B")[0]
        #expect(b.timeCard?.timesUsed == 4)
        #expect(b.usedStatusType == CertificateStatusCode.partlyUsed)
        #expect(try await certificates("D")[0].status == CertificateStatusCode.unused)
        #expect(try await certificates("E")[0].status == CertificateStatusCode.refunded)
        #expect(try await certificates("F")[0].timeCard?.timesUsed == 2)
        let g = try await certificates("G")[0]
        #expect(g.verify?.poiID?.value == "7100000000000000202")
        #expect(g.verify?.verifyType == 3)
        #expect(g.code != nil)  // verified and no longer cancellable
        let j = try await certificates("J")[0]
        #expect(j.status == CertificateStatusCode.used)  // picked up after the rejected refund
        #expect(j.verify?.verifyType == 2)
        #expect(try await certificates("I")[0].verify?.verifyType == 1)
        #expect(try await certificates("H")[0].status == CertificateStatusCode.unused)
        #expect(try await certificates("I")[0].status == CertificateStatusCode.used)
        #expect(try await certificates("K-unregistered")[0].status == CertificateStatusCode.used)
        // Verified and cancelled in the same second: unused again, no verification.
        let l = try await certificates("L-unregistered")[0]
        #expect(l.status == CertificateStatusCode.unused && l.verify == nil)

        let status = await sandbox.scenarioStatus()
        #expect(status.remaining == 0)
        // The late cancel of A is refused by the state rules, and only that step.
        let refused = status.applied.filter { $0.error != nil }
        #expect(refused.map(\.action) == ["cancel A#1"])
        #expect(await sandbox.faultProfile().name == "none")
    }

    @Test func scenarioErrorsNameTheStep() {
        do {
            _ = try Scenario.parse(yaml: "steps:\n  - at: 10s\n    verify: {order: Z, certificate: 1}\n")
            Issue.record("accepted an unknown order")
        } catch {
            #expect(error.field == "steps[0].verify.order")
        }
        do {
            _ = try Scenario.parse(yaml: "steps:\n  - at: soon\n    faults: none\n")
            Issue.record("accepted a bad offset")
        } catch {
            #expect(error.field == "steps[0].at")
        }
        do {
            _ = try Scenario.parse(yaml: "steps:\n  - at: 1m\n    faults: none\n    refund: {order: A}\n")
            Issue.record("accepted two actions")
        } catch {
            #expect(error.field == "steps[0]")
        }
        #expect(ScenarioDuration(text: "1h30m")?.seconds == 5_400)
        #expect(ScenarioDuration(text: "2d")?.seconds == 172_800)
        #expect(ScenarioDuration(text: "90")?.seconds == 90)
        #expect(ScenarioDuration(text: "h") == nil)
    }

    @Test func resetReplaysTheScenario() async throws {
        let scenario = try Scenario.load(path: Self.shippedScenario)
        let sandbox = DouyinSandbox(configuration: SandboxConfiguration(scenario: scenario), clock: .manual())
        let first = await sandbox.listOrders()
        try await sandbox.advanceClock(by: 3_600 * 15)
        await sandbox.reset()
        let again = await sandbox.listOrders()
        #expect(again == first)  // same seed, same ids
        #expect(await sandbox.scenarioStatus().remaining > 0)
    }
}
