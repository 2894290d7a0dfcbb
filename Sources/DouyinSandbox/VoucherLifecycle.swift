/// The sandbox's state-change rules: the one place that decides whether an action is allowed and
/// what it changes. Every action takes the time it happens at (sandbox Unix seconds), so scenario
/// steps applied late still carry their scheduled time.
///
/// | action | allowed when | effect |
/// |---|---|---|
/// | verify / use | not refunded, `start_time ≤ at ≤ expire_time`, `times_used < times_count` | appends a verification (`verify_type` 1, new `verify_id`); `times_used + 1` |
/// | cancel | not refunded, the verification is still cancellable | removes that verification (default: the latest) |
/// | refund | not refunded, not every use consumed | sets `refundedAt`; open verifications stop being cancellable |
/// | expire | not refunded, not every use consumed, not yet expired | sets `expire_time` to `at - 1` |
///
/// A verification is cancellable (`can_cancel`) while `at < verify_time + 3600` and the
/// certificate is not refunded. Refused actions throw ``SandboxAdminError/conflict(_:)``
/// (HTTP 409, `douyin_error_code` 4000002).
public enum VoucherLifecycle {
    /// How long a verification can be cancelled, seconds (Douyin allows about an hour).
    public static let cancelWindow: Int64 = 3_600

    /// Whether `record` of `certificate` can still be cancelled at `now`.
    public static func canCancel(_ record: SandboxVerification, of certificate: SandboxCertificate, at now: Int64) -> Bool {
        certificate.refundedAt == nil && now < record.verifyTime + cancelWindow
    }

    /// Verifies (uses once) `certificate` at `at` in store `poiID`.
    static func verify(
        _ certificate: inout SandboxCertificate, at: Int64, poiID: UInt64, verifyID: String, verifierID: String
    ) throws(SandboxAdminError) {
        try requireNotRefunded(certificate)
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
                verifierID: verifierID))
    }

    /// Cancels the verification `verifyID` (default: the latest) of `certificate` at `at`.
    static func cancel(_ certificate: inout SandboxCertificate, verifyID: String?, at: Int64) throws(SandboxAdminError) {
        try requireNotRefunded(certificate)
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
                "verification \(record.verifyID) can no longer be cancelled (window closed at \(record.verifyTime + cancelWindow))")
        }
        certificate.verifications.remove(at: index)
        // Later uses keep their records; serial numbers are not reused.
    }

    /// Refunds `certificate` at `at`.
    static func refund(_ certificate: inout SandboxCertificate, at: Int64) throws(SandboxAdminError) {
        try requireNotRefunded(certificate)
        guard certificate.timesUsed < certificate.timesCount else {
            throw .conflict("certificate \(certificate.certificateID) is fully used and cannot be refunded")
        }
        certificate.refundedAt = at
    }

    /// Makes `certificate` expire at `at` (its `expire_time` becomes `at - 1`).
    static func expire(_ certificate: inout SandboxCertificate, at: Int64) throws(SandboxAdminError) {
        try requireNotRefunded(certificate)
        guard certificate.timesUsed < certificate.timesCount else {
            throw .conflict("certificate \(certificate.certificateID) is fully used; nothing can expire")
        }
        guard at <= certificate.expireTime else {
            throw .conflict("certificate \(certificate.certificateID) already expired at \(certificate.expireTime)")
        }
        certificate.expireTime = at - 1
    }

    private static func requireNotRefunded(_ certificate: SandboxCertificate) throws(SandboxAdminError) {
        if let refundedAt = certificate.refundedAt {
            throw .conflict("certificate \(certificate.certificateID) was refunded at \(refundedAt)")
        }
    }
}
