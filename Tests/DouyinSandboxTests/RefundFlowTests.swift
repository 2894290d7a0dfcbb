import DouyinOpenAPI
import DouyinSandbox
import Testing

/// Douyin's refund flow (3 requested → 6 refunding → 4 refunded, or 3 → 5 refund failed), `code`
/// shown only once verified and no longer cancellable, and `verify_type` — on the manual clock.
@Suite struct RefundFlowTests {
    func current(_ sandbox: DouyinSandbox, _ orderID: String, _ index: Int = 0) async throws -> Certificate {
        try await sandbox.order(id: orderID).certificates[index]
    }

    @Test func requestThenRejectLeavesTheVoucherUsable() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let id = order.certificates[0].certificateID
        let requested = try await sandbox.requestRefund(certificateID: id)
        #expect(requested.status == CertificateStatusCode.refundRequested)
        // Awaiting review: nothing else may happen, not even a second request.
        await #expect(throws: SandboxAdminError.self) { try await sandbox.verify(certificateID: id) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.expire(certificateID: id) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.requestRefund(certificateID: id) }
        try await sandbox.advanceClock(by: 600)
        let rejected = try await sandbox.rejectRefund(certificateID: id)
        #expect(rejected.status == CertificateStatusCode.refundFailed)
        #expect(rejected.usedStatusType == CertificateStatusCode.notUsed)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.rejectRefund(certificateID: id) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.approveRefund(certificateID: id) }
        // Usable again: the buyer picks it up.
        let used = try await sandbox.verify(certificateID: id)
        #expect(used.status == CertificateStatusCode.used)
        #expect(used.usedStatusType == CertificateStatusCode.fullyUsed)
        // Cancelling that verification brings back "refund failed", not "unused".
        let cancelled = try await sandbox.cancelVerification(certificateID: id)
        #expect(cancelled.status == CertificateStatusCode.refundFailed)
    }

    @Test func aRejectedTimesCardMayBeRefundedLater() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let id = order.certificates[1].certificateID
        try await sandbox.use(certificateID: id)
        try await sandbox.requestRefund(certificateID: id)
        // The open verification stopped being cancellable, and stays so after the rejection.
        #expect(try await current(sandbox, order.orderID, 1).verify?.canCancel == false)
        try await sandbox.rejectRefund(certificateID: id)
        let afterRejection = try await current(sandbox, order.orderID, 1)
        #expect(afterRejection.status == CertificateStatusCode.refundFailed)
        #expect(afterRejection.usedStatusType == CertificateStatusCode.partlyUsed)
        #expect(afterRejection.verify?.canCancel == false)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.cancelVerification(certificateID: id) }
        // A later use gets its own window; a later request closes it again.
        let again = try await sandbox.use(certificateID: id)
        #expect(again.verify?.canCancel == true)
        #expect(again.status == CertificateStatusCode.refundFailed)
        try await sandbox.requestRefund(certificateID: id)
        let refunding = try await sandbox.approveRefund(certificateID: id, refunding: 600)
        #expect(refunding.status == CertificateStatusCode.refunding)
        #expect(refunding.verifyRecords?.allSatisfy { $0.canCancel == false } == true)
        try await sandbox.advanceClock(by: 600)
        let refunded = try await current(sandbox, order.orderID, 1)
        #expect(refunded.status == CertificateStatusCode.refunded)
        #expect(refunded.timeCard?.timesUsed == 2)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.use(certificateID: id) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.requestRefund(certificateID: id) }
    }

    @Test func requestThenApproveRefundsAfterTheRefundingPhase() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let id = order.certificates[0].certificateID
        await #expect(throws: SandboxAdminError.self) { try await sandbox.approveRefund(certificateID: id) }  // nothing to approve
        try await sandbox.requestRefund(certificateID: id)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.approveRefund(certificateID: id, refunding: -1) }
        let approved = try await sandbox.approveRefund(certificateID: id)
        #expect(approved.status == CertificateStatusCode.refunding)
        try await sandbox.advanceClock(by: Double(VoucherLifecycle.defaultRefunding - 1))
        #expect(try await current(sandbox, order.orderID).status == CertificateStatusCode.refunding)
        try await sandbox.advanceClock(by: 1)
        #expect(try await current(sandbox, order.orderID).status == CertificateStatusCode.refunded)
        await #expect(throws: SandboxAdminError.self) { try await sandbox.rejectRefund(certificateID: id) }
        await #expect(throws: SandboxAdminError.self) { try await sandbox.verify(certificateID: id) }
        // The one-step refund is request + approval with no refunding phase.
        let other = try await sandbox.refund(certificateID: order.certificates[1].certificateID)
        #expect(other.status == CertificateStatusCode.refunded)
    }

    @Test func codeIsOmittedUntilVerifiedAndNoLongerCancellable() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        let voucher = order.certificates[0]
        #expect(try await current(sandbox, order.orderID).code == nil)
        #expect(try await sandbox.verify(certificateID: voucher.certificateID).code == nil)  // still cancellable
        try await sandbox.advanceClock(by: 3_599)
        #expect(try await current(sandbox, order.orderID).code == nil)
        try await sandbox.advanceClock(by: 1)
        #expect(try await current(sandbox, order.orderID).code == voucher.code)
        // A times card: shown once its uses are past cancelling, hidden again while a new use is cancellable.
        let card = order.certificates[1]
        try await sandbox.use(certificateID: card.certificateID)
        #expect(try await current(sandbox, order.orderID, 1).code == nil)
        try await sandbox.advanceClock(by: 3_600)
        #expect(try await current(sandbox, order.orderID, 1).code == card.code)
        try await sandbox.use(certificateID: card.certificateID)
        #expect(try await current(sandbox, order.orderID, 1).code == nil)
        // A refund request ends cancelling, so the code shows.
        try await sandbox.requestRefund(certificateID: card.certificateID)
        #expect(try await current(sandbox, order.orderID, 1).code == card.code)
        // Unverified and refunded: no code.
        let second = try await sandbox.createOrder(twoCertificateOrder)
        try await sandbox.refund(certificateID: second.certificates[0].certificateID)
        #expect(try await current(sandbox, second.orderID).code == nil)
    }

    @Test func verifyTypeIsChosenDefaultingToQRScan() async throws {
        let sandbox = DouyinSandbox(clock: .manual())
        let order = try await sandbox.createOrder(twoCertificateOrder)
        #expect(try await sandbox.verify(certificateID: order.certificates[0].certificateID).verify?.verifyType == 2)
        let card = order.certificates[1].certificateID
        #expect(try await sandbox.use(certificateID: card, channel: .codeInput).verify?.verifyType == 3)
        #expect(try await sandbox.use(certificateID: card, channel: .selfVerified).verify?.verifyType == 1)
        let api = try await sandbox.use(certificateID: card, channel: .openAPI)
        #expect(api.verify?.verifyType == 4)
        #expect(api.verify?.verifierUniqueID == "开放平台API")
        #expect(api.verifyRecords?.map(\.verifyType) == [3, 1, 4])
    }
}
