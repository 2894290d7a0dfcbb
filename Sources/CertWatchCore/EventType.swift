import DouyinModels

/// The event types of certwatch's public contract (DESIGN.md, "Transitions and events").
public enum EventType: String, Codable, Sendable, Hashable, CaseIterable, Comparable {
    /// First time a certificate of a watch is seen.
    case discovered = "certificate.discovered"
    /// A new verification (one per `verify_id`).
    case verified = "certificate.verified"
    /// A verification disappeared (or `times_used` went down): one per cancelled verification.
    case verifyCancelled = "certificate.verify_cancelled"
    /// `can_cancel` of a verification went from true to false.
    case cancelWindowClosed = "certificate.cancel_window_closed"
    /// `times_used` of a times card increased (one event per use).
    case timesCardUsed = "certificate.times_card_used"
    /// A configured lead time before `expire_time`, still usable.
    case expiringSoon = "certificate.expiring_soon"
    /// `expire_time` passed while still usable.
    case expired = "certificate.expired"
    /// `status` 3: the buyer asked for a refund, awaiting review (it may still be rejected). Also
    /// emitted when a later refund status shows a request no poll saw.
    case refundRequested = "certificate.refund_requested"
    /// `status` 6: the refund is being processed.
    case refunding = "certificate.refunding"
    /// `status` 4: refunded (退款成功).
    case refunded = "certificate.refunded"
    /// `status` 5: the refund was rejected or failed; the certificate is usable again.
    case refundFailed = "certificate.refund_failed"
    /// Raw `status` or `used_status_type` changed.
    case statusChanged = "certificate.status_changed"
    /// A permanent API error for the watch (carries code and logid).
    case watchFailed = "watch.failed"
    /// Polls of the watch keep failing (N in a row, or no success for a while); carries the last
    /// error and since when. One per episode.
    case watchStalled = "watch.stalled"
    /// A poll succeeded again after `watch.stalled`.
    case watchRecovered = "watch.recovered"

    /// Whether the event is about a watch (`watch.*`, subject: the watch id) rather than a
    /// certificate (`certificate.*`, subject: its `certificate_id`).
    public var isWatchEvent: Bool { self == .watchFailed || self == .watchStalled || self == .watchRecovered }

    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A difference between two snapshots that means something: what the differ emits.
public struct Transition: Sendable, Hashable {
    /// The event type.
    public var type: EventType
    /// What makes this transition unique for its certificate and type (`verify_id`, use number,
    /// lead time, the previous observation time for status changes, …): part of the event id.
    public var discriminator: String
    /// The verification concerned (`verified`, `verify_cancelled`, `cancel_window_closed`, `times_card_used`).
    public var verification: Verification?
    /// The use of a times card (`times_card_used`, and `verify_cancelled` of a use).
    public var use: TimesCardUse?
    /// The fields that changed, before and after.
    public var changes: [FieldChange]
    /// The lead time before `expire_time` (`expiring_soon`), seconds.
    public var leadTime: Int64?

    public init(
        type: EventType, discriminator: String, verification: Verification? = nil, use: TimesCardUse? = nil,
        changes: [FieldChange] = [], leadTime: Int64? = nil
    ) {
        self.type = type
        self.discriminator = discriminator
        self.verification = verification
        self.use = use
        self.changes = changes
        self.leadTime = leadTime
    }
}

/// One use of a times card: use `number` of `times_count`.
public struct TimesCardUse: Sendable, Hashable, Codable {
    /// Which use (1-based).
    public var number: Int64
    /// `times_used` after the change.
    public var timesUsed: Int64
    /// `times_count`.
    public var timesCount: Int64

    public init(number: Int64, timesUsed: Int64, timesCount: Int64) {
        self.number = number
        self.timesUsed = timesUsed
        self.timesCount = timesCount
    }

    enum CodingKeys: String, CodingKey {
        case number, timesUsed = "times_used", timesCount = "times_count"
    }
}

/// A field that changed: its name in the snapshot (`status`, `times_card.times_used`, …) and the values.
public struct FieldChange: Sendable, Hashable, Codable {
    /// The snapshot field path.
    public var field: String
    /// The value before (JSON; `null` when absent).
    public var before: JSONValue
    /// The value after.
    public var after: JSONValue

    public init(field: String, before: JSONValue, after: JSONValue) {
        self.field = field
        self.before = before
        self.after = after
    }
}

extension JSONValue {
    /// `.int` of an optional integer, `.null` when absent.
    public init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    /// `.string` of an optional string, `.null` when absent.
    public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
    /// `.bool` of an optional boolean, `.null` when absent.
    public init(_ value: Bool?) { self = value.map { .bool($0) } ?? .null }
}
