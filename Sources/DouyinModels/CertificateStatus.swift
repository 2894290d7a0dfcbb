/// Douyin's `status` and `verify_type` codes of a certificate, as Douyin documents them for
/// 券状态查询 (certificate query). Douyin's reference page of 券状态批量查询 in `douyin/reference/`
/// lists the fields without their values; the values below are Douyin's documentation as quoted
/// in third-party SDKs' response models (e.g. the Java SDK's `status` of 券状态查询: "0 初始
/// 1 未使用 2 已使用 3 退款申请中/待审核 4 退款成功 5 退款失败 6 退款中").
///
/// | `status` | meaning |
/// |---|---|
/// | 0 | initial (初始) |
/// | 1 | unused (未使用) |
/// | 2 | used (已使用) |
/// | 3 | refund requested, awaiting review (退款申请中/待审核) — may still be rejected |
/// | 4 | refunded (退款成功) |
/// | 5 | refund failed or rejected (退款失败): usable again |
/// | 6 | refunding (退款中) |
///
/// There is no expired code: expiry is derived from `expire_time`. A value outside the table is
/// carried as is and warned about, never mapped to a guess.
public enum CertificateStatusCode {
    /// `status` 0: initial (初始).
    public static let initial: Int64 = 0
    /// `status` 1: unused (未使用).
    public static let unused: Int64 = 1
    /// `status` 2: used (已使用): every use consumed.
    public static let used: Int64 = 2
    /// `status` 3: the buyer asked for a refund, awaiting review (退款申请中/待审核).
    public static let refundRequested: Int64 = 3
    /// `status` 4: refunded (退款成功).
    public static let refunded: Int64 = 4
    /// `status` 5: the refund was rejected or failed (退款失败); the certificate is usable again.
    public static let refundFailed: Int64 = 5
    /// `status` 6: refund in progress (退款中).
    public static let refunding: Int64 = 6

    /// Every documented `status` value.
    public static let documented: ClosedRange<Int64> = 0...6

    /// `used_status_type` 0: never used (as the sandbox emits it; Douyin carries the field without
    /// documenting its values, so certwatch only reports its changes).
    public static let notUsed: Int64 = 0
    /// `used_status_type` 1: some uses of a times card consumed.
    public static let partlyUsed: Int64 = 1
    /// `used_status_type` 2: fully used.
    public static let fullyUsed: Int64 = 2
}

/// How a certificate was verified: Douyin's `verify_type` (source as for ``CertificateStatusCode``).
public enum VerifyChannel: String, Sendable, Hashable, Codable, CaseIterable {
    /// `verify_type` 1: the buyer verified it themselves (用户自助核销).
    case selfVerified = "self"
    /// `verify_type` 2: the merchant scanned the buyer's QR code (商家扫码).
    case qrScan = "qr_scan"
    /// `verify_type` 3: the merchant typed the code (商家手动输码).
    case codeInput = "code_input"
    /// `verify_type` 4: through the open platform's verify API (开放平台接口).
    case openAPI = "open_api"

    /// The channel of a raw `verify_type`, `nil` outside 1…4.
    public init?(verifyType: Int64?) {
        switch verifyType {
        case 1: self = .selfVerified
        case 2: self = .qrScan
        case 3: self = .codeInput
        case 4: self = .openAPI
        default: return nil
        }
    }

    /// The raw `verify_type`.
    public var verifyType: Int64 {
        switch self {
        case .selfVerified: 1
        case .qrScan: 2
        case .codeInput: 3
        case .openAPI: 4
        }
    }
}
