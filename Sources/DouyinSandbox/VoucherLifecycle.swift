import DouyinOpenAPI

/// The sandbox's state-change rules: the one place that decides whether an action is allowed and
/// what it changes. Every action takes the time it happens at (sandbox Unix seconds), so scenario
/// steps applied late still carry their scheduled time.
///
/// | action | allowed when | effect |
/// |---|---|---|
/// | verify / use | no refund requested or approved, `start_time ≤ at ≤ expire_time`, `times_used < times_count` | appends a verification (`verify_type` as chosen, default 2; new `verify_id`); `times_used + 1` |
/// | cancel | no refund requested or approved, the verification is still cancellable | removes that verification (default: the latest) |
/// | request refund | no refund requested or approved (a rejected one may be asked again), not every use consumed | `status` 3; open verifications stop being cancellable, for good |
/// | approve refund | a request awaiting review | `status` 6 (refunding) for `refunding` seconds, then 4 (refunded) |
/// | reject refund | a request awaiting review | `status` 5 (refund failed): usable again |
/// | refund (one step) | as request refund | request + approve with no refunding phase: `status` 4 at once |
/// | expire | no refund requested or approved, not every use consumed, not yet expired | sets `expire_time` to `at - 1` |
///
/// A verification is cancellable (`can_cancel`) while `at < verify_time + 3600`, no refund is
/// requested or approved, and no refund was requested since it was made. Refused actions throw
/// ``SandboxAdminError/conflict(_:)`` (HTTP 409, `douyin_error_code` 4000002).
///
/// The refund flow and `code` follow Douyin's certificate query documentation as quoted by a
/// third-party Java SDK (fengwensheng100/douyin-java-sdk, `CertificateQueryResp.java`): status
/// "3 退款申请中（待审核），4 退款成功，5 退款失败，6 退款中", and `code` "未核销时不返回、已核销可撤销时不返回".
package enum VoucherLifecycle {
    /// How long a verification can be cancelled, seconds (Douyin allows about an hour).
    package static let cancelWindow: Int64 = 3_600
    /// How long an approved refund stays `status` 6 (refunding) before 4, seconds, unless the
    /// approval says otherwise.
    package static let defaultRefunding: Int64 = 1_800
    /// The longest refunding phase an approval may ask for, seconds (30 days).
    package static let maxRefunding: Int64 = 30 * 86_400

    /// Whether `record` of `certificate` can still be cancelled at `now`.
    package static func canCancel(_ record: SandboxVerification, of certificate: SandboxCertificate, at now: Int64) -> Bool {
        !certificate.refundHolds && !record.closedByRefund && now < record.verifyTime + cancelWindow
    }

    /// Whether Douyin shows `code` for `certificate` at `now`: only once it is verified and no
    /// verification can be cancelled any more (Douyin: "未核销时不返回、已核销可撤销时不返回").
    package static func showsCode(_ certificate: SandboxCertificate, at now: Int64) -> Bool {
        !certificate.verifications.isEmpty && !certificate.verifications.contains { canCancel($0, of: certificate, at: now) }
    }

    /// Verifies (uses once) `certificate` at `at` in store `poiID` through `channel`.
    static func verify(
        _ certificate: inout SandboxCertificate, at: Int64, poiID: UInt64, channel: VerifyChannel, verifyID: String,
        verifierID: String
    ) throws(SandboxAdminError) {
        try requireNoRefundHold(certificate)
        guard at >= certificate.startTime else {
            throw .conflict("certificate \(certificate.certificateID) is not valid before start_time \(certificate.startTime)")
        }
        guard certificate.timesUsed < certificate.timesCount else {
            throw .conflict(
                "certificate \(certificate.certificateID) is used up (\(certificate.timesUsed) of \(certificate.timesCount) uses)")
        }
        guard at <= certificate.expireTime else {
            throw .conflict("certificate \(certificate.certificateID) expired at \(certificate.expireTime)")
        }
        certificate.verifications.append(
            SandboxVerification(
                verifyID: verifyID, verifyTime: at, poiID: poiID, serialNumber: certificate.timesUsed + 1,
                // Douyin names the open platform as the verifier of API verifications (the Java SDK's
                // `verifier_unique_id`: 当核销类型verify_type=4时，默认为"开放平台API").
                verifierID: channel == .openAPI ? "开放平台API" : verifierID, channel: channel))
    }

    /// Cancels the verification `verifyID` (default: the latest) of `certificate` at `at`.
    static func cancel(_ certificate: inout SandboxCertificate, verifyID: String?, at: Int64) throws(SandboxAdminError) {
        try requireNoRefundHold(certificate)
        let index: Int?
        if let verifyID {
            index = certificate.verifications.firstIndex { $0.verifyID == verifyID }
            guard index != nil else { throw .notFound("no verification \(verifyID) on certificate \(certificate.certificateID)", field: "verify_id") }
        } else {
            index = certificate.verifications.indices.last
        }
        guard let index else { throw .conflict("certificate \(certificate.certificateID) has no verification to cancel") }
        let record = certificate.verifications[index]
        guard canCancel(record, of: certificate, at: at) else {
            throw .conflict(
                record.closedByRefund
                    ? "verification \(record.verifyID) can no longer be cancelled (a refund was requested after it)"
                    : "verification \(record.verifyID) can no longer be cancelled (window closed at \(record.verifyTime + cancelWindow))")
        }
        certificate.verifications.remove(at: index)
        // Later uses keep their records; serial numbers are not reused.
    }

    /// The buyer asks for a refund of `certificate` at `at`: `status` 3, awaiting review.
    static func requestRefund(_ certificate: inout SandboxCertificate, at: Int64) throws(SandboxAdminError) {
        try requireNoRefundHold(certificate)
        guard certificate.timesUsed < certificate.timesCount else {
            throw .conflict("certificate \(certificate.certificateID) is fully used and cannot be refunded")
        }
        certificate.refund = .requested(at: at)
        for index in certificate.verifications.indices { certificate.verifications[index].closedByRefund = true }
    }

    /// Approves the pending request at `at`: refunding (`status` 6) for `refunding` seconds, then refunded (4).
    static func approveRefund(_ certificate: inout SandboxCertificate, at: Int64, refunding: Int64) throws(SandboxAdminError) {
        try requirePendingRequest(certificate)
        certificate.refund = .approved(at: at, refundedAt: at + refunding)
    }

    /// Rejects the pending request at `at`: refund failed (`status` 5), the certificate usable again.
    static func rejectRefund(_ certificate: inout SandboxCertificate, at: Int64) throws(SandboxAdminError) {
        try requirePendingRequest(certificate)
        certificate.refund = .rejected(at: at)
    }

    /// Refunds `certificate` at `at` in one step (request + approval without a refunding phase).
    static func refund(_ certificate: inout SandboxCertificate, at: Int64) throws(SandboxAdminError) {
        try requestRefund(&certificate, at: at)
        try approveRefund(&certificate, at: at, refunding: 0)
    }

    /// Makes `certificate` expire at `at` (its `expire_time` becomes `at - 1`).
    static func expire(_ certificate: inout SandboxCertificate, at: Int64) throws(SandboxAdminError) {
        try requireNoRefundHold(certificate)
        guard certificate.timesUsed < certificate.timesCount else {
            throw .conflict("certificate \(certificate.certificateID) is fully used; nothing can expire")
        }
        guard at <= certificate.expireTime else {
            throw .conflict("certificate \(certificate.certificateID) already expired at \(certificate.expireTime)")
        }
        certificate.expireTime = at - 1
    }

    /// Checks a refunding phase (seconds) given to an approval; throws `invalid_argument` naming `field`.
    static func validateRefunding(_ seconds: Int64, field: String) throws(SandboxAdminError) {
        guard (0...maxRefunding).contains(seconds) else {
            throw .invalid(field, "\(field) must be 0…\(maxRefunding) seconds, got \(seconds)")
        }
    }

    private static func requireNoRefundHold(_ certificate: SandboxCertificate) throws(SandboxAdminError) {
        switch certificate.refund {
        case .requested(let at):
            throw .conflict("certificate \(certificate.certificateID) has a refund request awaiting review (since \(at))")
        case .approved(let at, _):
            throw .conflict("certificate \(certificate.certificateID) was refunded (approved at \(at))")
        case .rejected, nil:
            return
        }
    }

    private static func requirePendingRequest(_ certificate: SandboxCertificate) throws(SandboxAdminError) {
        guard case .requested = certificate.refund else {
            throw .conflict("certificate \(certificate.certificateID) has no refund request awaiting review")
        }
    }
}
