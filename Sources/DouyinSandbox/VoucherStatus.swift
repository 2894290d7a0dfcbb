import DouyinOpenAPI

/// The sandbox's status mapping: the one place that turns a certificate's record and the clock
/// into Douyin's raw `status` and `used_status_type`, using exactly the values of
/// ``CertificateStatusCode`` (defined once in DouyinOpenAPI, after Douyin's documentation).
///
/// | situation (checked top to bottom) | `status` | `used_status_type` |
/// |---|---|---|
/// | refund approved, refunding phase over | 4 refunded | 0 / 1 / 2 by uses consumed |
/// | refund approved, within its refunding phase | 6 refunding | by uses |
/// | refund requested, awaiting review | 3 refund requested | by uses |
/// | every use consumed (`times_used == times_count`) | 2 used | 2 fully used |
/// | the last refund request was rejected | 5 refund failed (usable again) | 0 / 1 by uses |
/// | otherwise (expired too: Douyin has no expired code) | 1 unused | 0 never used, 1 partly used (times card) |
///
/// `used_status_type` always follows the uses: 0 with none, 2 with all, 1 in between.
/// A cancelled verification is removed, so cancelling the only use of a voucher brings it back to
/// `status` 1 (or 5 after a rejected refund) / `used_status_type` 0.
package struct VoucherStatus: Sendable, Hashable {
    /// `status`.
    package var status: Int64
    /// `used_status_type`.
    package var usedStatusType: Int64

    /// The status of `certificate` at sandbox time `now` (Unix seconds).
    package init(of certificate: SandboxCertificate, at now: Int64) {
        let used = certificate.timesUsed
        usedStatusType =
            used == 0
            ? CertificateStatusCode.notUsed
            : used >= certificate.timesCount ? CertificateStatusCode.fullyUsed : CertificateStatusCode.partlyUsed
        switch certificate.refund {
        case .approved(_, let refundedAt):
            status = now >= refundedAt ? CertificateStatusCode.refunded : CertificateStatusCode.refunding
        case .requested:
            status = CertificateStatusCode.refundRequested
        case .rejected:
            status = used >= certificate.timesCount ? CertificateStatusCode.used : CertificateStatusCode.refundFailed
        case nil:
            status = used >= certificate.timesCount ? CertificateStatusCode.used : CertificateStatusCode.unused
        }
    }
}

/// Everything a rendered certificate depends on besides its record: the record's revision and the
/// time-derived values (status, usage, which verifications are still cancellable).
struct CertificateRenderKey: Hashable, Sendable {
    var revision: Int
    var status: VoucherStatus
    var cancellable: [Bool]

    init(_ certificate: SandboxCertificate, at now: Int64) {
        revision = certificate.revision
        status = VoucherStatus(of: certificate, at: now)
        cancellable = certificate.verifications.map { VoucherLifecycle.canCancel($0, of: certificate, at: now) }
    }
}
