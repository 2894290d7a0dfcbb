/// The meaning certwatch gives Douyin's raw `status` and `used_status_type` codes.
///
/// Douyin does not publish these codes (the reference of 券状态批量查询 documents the fields
/// without their values). certwatch derives a certificate's lifecycle from observable fields
/// (`verify`, `verify_records`, `time_card`, `expire_time`) and reads only *refund* from the
/// status, because nothing else shows it. This table is the one place the codes are defined; the
/// sandbox emits exactly these values.
///
/// | `status` | meaning | `used_status_type` | meaning |
/// |---|---|---|---|
/// | 1 | available (未使用) | 0 | not used |
/// | 2 | used up (已使用) | 1 | partly used (times card) |
/// | 3 | refunded (已退款) | 2 | fully used |
/// | 4 | expired (已过期) | | |
public enum CertificateStatusCode {
    /// `status` 1: usable.
    public static let available: Int64 = 1
    /// `status` 2: every use consumed (single voucher verified, times card at `times_count`).
    public static let used: Int64 = 2
    /// `status` 3: refunded.
    public static let refunded: Int64 = 3
    /// `status` 4: expired unused.
    public static let expired: Int64 = 4

    /// `used_status_type` 0: never used.
    public static let notUsed: Int64 = 0
    /// `used_status_type` 1: some uses of a times card consumed.
    public static let partlyUsed: Int64 = 1
    /// `used_status_type` 2: fully used.
    public static let fullyUsed: Int64 = 2
}
