import DouyinOpenAPI
import DouyinSandbox
import Testing

/// State rules on the manual clock (no HTTP).
@Suite struct VoucherLifecycleTests {
    func query(_ sandbox: DouyinSandbox, _ orderID: String) async throws -> [Certificate] {
        try await sandbox.order(id: orderID).certificates
    }

    @Test func canCancelClosesAfterOneHourAndCancelThenFails() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let id = order.certificates[0].certificateID
        let verified = try await sandbox.verify(certificateID: id)
        #expect(verified.verify?.canCancel == true)
        try await sandbox.advanceClock(by: 3_599)
        #expect(try await query(sandbox, order.orderID)[0].verify?.canCancel == true)
        try await sandbox.advanceClock(by: 1)
        let closed = try await query(sandbox, order.orderID)[0]
        #expect(closed.verify?.canCancel == false)
        #expect(closed.verifyRecords?.first?.canCancel == false)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.cancelVerification(certificateID: id) }
        do {
            try await sandbox.cancelVerification(certificateID: id)
        } catch {
            #expect(error.status == 409)
            #expect(error.douyinErrorCode == 4_000_002)
        }
    }

    @Test func cancelWithinTheHourRestoresTheVoucher() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let id = order.certificates[0].certificateID
        try await sandbox.verify(certificateID: id)
        try await sandbox.advanceClock(by: 1_200)
        let restored = try await sandbox.cancelVerification(certificateID: id)
        #expect(restored.verify == nil)
        #expect(restored.verifyRecords == nil)
        #expect(restored.status == CertificateStatusCode.unused)
        #expect(restored.usedStatusType == CertificateStatusCode.notUsed)
    }

    @Test func timesCardCannotExceedTimesCount() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let id = order.certificates[1].certificateID
        for use in 1...5 {
            let card = try await sandbox.use(certificateID: id)
            #expect(card.timeCard?.timesUsed == Int64(use))
            #expect(card.verifyRecords?.count == use)
            #expect(card.verify?.timesCardSerialNum == Int64(use))
            #expect(card.usedStatusType == (use == 5 ? CertificateStatusCode.fullyUsed : CertificateStatusCode.partlyUsed))
            #expect(card.status == (use == 5 ? CertificateStatusCode.used : CertificateStatusCode.unused))
            try await sandbox.advanceClock(by: 60)
        }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.use(certificateID: id) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.verify(certificateID: id) }
        let card = try await query(sandbox, order.orderID)[1]
        #expect(card.timeCard?.timesUsed == 5)
        #expect(card.timeCard?.serialAmountList?.count == 5)
        // `use` is for times cards only.
        await #expect(throws: SandboxAdminError.self) { try await sandbox.use(certificateID: order.certificates[0].certificateID) }
    }

    @Test func expiredCertificatesCannotBeVerified() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        try await sandbox.use(certificateID: order.certificates[1].certificateID)
        try await sandbox.advanceClock(by: 86_401)
        let certificates = try await query(sandbox, order.orderID)
        #expect(certificates[0].status == CertificateStatusCode.unused)
        #expect(certificates[0].usedStatusType == CertificateStatusCode.notUsed)
        #expect(certificates[1].status == CertificateStatusCode.unused)
        #expect(certificates[1].usedStatusType == CertificateStatusCode.partlyUsed)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.verify(certificateID: order.certificates[0].certificateID) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.use(certificateID: order.certificates[1].certificateID) }
    }

    @Test func expireAndRefund() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let expired = try await sandbox.expire(certificateID: order.certificates[0].certificateID)
        #expect(expired.status == CertificateStatusCode.unused)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.expire(certificateID: order.certificates[0].certificateID) }
        try await sandbox.use(certificateID: order.certificates[1].certificateID)
        let refunded = try await sandbox.refund(certificateID: order.certificates[1].certificateID)
        #expect(refunded.status == CertificateStatusCode.refunded)
        #expect(refunded.usedStatusType == CertificateStatusCode.partlyUsed)
        #expect(refunded.verify?.canCancel == false)  // refunded: nothing to cancel any more
        await #expect(throws: SandboxAdminError.self) { try await sandbox.refund(certificateID: order.certificates[1].certificateID) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.use(certificateID: order.certificates[1].certificateID) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.verify(certificateID: "404") }
    }

    @Test func notYetStartedCertificatesCannotBeVerified() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(OrderSpec(certificates: [.init()], expireIn: 86_400, startIn: 3_600))
        await #expect(throws: SandboxAdminError.self) { try await sandbox.verify(certificateID: order.certificates[0].certificateID) }
        try await sandbox.advanceClock(by: 3_600)
        try await sandbox.verify(certificateID: order.certificates[0].certificateID)
    }

    @Test func systemClockRunsAtSpeed() {
        let start = Date(timeIntervalSince1970: 1_000)
        var clock = SandboxClock.system(speed: 3_600, now: start)
        #expect(clock.now >= 1_000)
        clock.advance(by: 60)
        #expect(clock.now >= 1_060)
        #expect(clock.speed == 3_600)
        #expect(!clock.isManual)
    }

    @Test func sameSeedSameIds() async throws {
        let a = try await DouyinSandbox(clock: .manual()).createRandomOrders(RandomOrdersSpec(count: 20, seed: 9))
        let b = try await DouyinSandbox(clock: .manual()).createRandomOrders(RandomOrdersSpec(count: 20, seed: 9))
        #expect(a == b)
        #expect(Set(a.flatMap { $0.certificates.map(\.certificateID) }).count == a.reduce(0) { $0 + $1.certificates.count })
        #expect(a.contains { $0.certificates.contains { $0.kind == .timesCard } })
    }
}

import Foundation
