import DouyinModels

/// The lifecycle of a certificate, derived from observable fields; refund comes from `status` 4
/// (``CertificateStatusCode/refunded``), the only place Douyin shows it.
public enum CertificateState: String, Codable, Sendable, Hashable, CaseIterable {
    /// Usable: not verified (or a times card with uses left), not expired, not refunded.
    case available
    /// Fully used: a single voucher verified, or a times card at `times_count`.
    case verified
    /// `expire_time` passed while still usable.
    case expired
    /// Refunded (status 4, ``CertificateStatusCode/refunded``). A refund request (3) or a refund in
    /// progress (6) is not a refund: the certificate stays in its state until 4 or 5.
    case refunded
}

/// One verification (核销) in certwatch's normalized form.
public struct Verification: Sendable, Hashable, Codable {
    /// `verify_id` (a string; records without one get `time-<verify_time>`).
    public var verifyID: String
    /// `poi_id`: the store.
    public var poiID: String?
    /// `verify_time`, Unix seconds.
    public var verifyTime: Int64?
    /// `verify_type` (1…4; encoded with its name as `verify_channel`, see ``VerifyChannel``).
    public var verifyType: Int64?
    /// `can_cancel`: whether it can still be cancelled.
    public var canCancel: Bool
    /// `times_card_serial_num`.
    public var timesCardSerialNum: Int64?

    public init(
        verifyID: String, poiID: String? = nil, verifyTime: Int64? = nil, verifyType: Int64? = nil,
        canCancel: Bool = false, timesCardSerialNum: Int64? = nil
    ) {
        self.verifyID = verifyID
        self.poiID = poiID
        self.verifyTime = verifyTime
        self.verifyType = verifyType
        self.canCancel = canCancel
        self.timesCardSerialNum = timesCardSerialNum
    }

    enum CodingKeys: String, CodingKey {
        case verifyID = "verify_id", poiID = "poi_id", verifyTime = "verify_time"
        case verifyTimeRFC3339 = "verify_time_rfc3339", verifyType = "verify_type", verifyChannel = "verify_channel"
        case canCancel = "can_cancel"
        case timesCardSerialNum = "times_card_serial_num"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        verifyID = try c.decode(String.self, forKey: .verifyID)
        poiID = try c.decodeIfPresent(String.self, forKey: .poiID)
        verifyTime = try c.decodeIfPresent(Int64.self, forKey: .verifyTime)
        verifyType = try c.decodeIfPresent(Int64.self, forKey: .verifyType)
        canCancel = try c.decodeIfPresent(Bool.self, forKey: .canCancel) ?? false
        timesCardSerialNum = try c.decodeIfPresent(Int64.self, forKey: .timesCardSerialNum)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(verifyID, forKey: .verifyID)
        try c.encodeIfPresent(poiID, forKey: .poiID)
        try c.encodeIfPresent(verifyTime, forKey: .verifyTime)
        try c.encodeIfPresent(verifyTime.map(UnixTime.rfc3339), forKey: .verifyTimeRFC3339)
        try c.encodeIfPresent(verifyType, forKey: .verifyType)
        try c.encodeIfPresent(VerifyChannel(verifyType: verifyType)?.rawValue, forKey: .verifyChannel)
        try c.encode(canCancel, forKey: .canCancel)
        try c.encodeIfPresent(timesCardSerialNum, forKey: .timesCardSerialNum)
    }
}

/// `times_card` in normalized form: uses held and used.
public struct TimesCard: Sendable, Hashable, Codable {
    /// `times_count`.
    public var timesCount: Int64
    /// `times_used`.
    public var timesUsed: Int64

    public init(timesCount: Int64, timesUsed: Int64) {
        self.timesCount = timesCount
        self.timesUsed = timesUsed
    }

    enum CodingKeys: String, CodingKey {
        case timesCount = "times_count", timesUsed = "times_used"
    }
}

/// The normalized state of one certificate as last observed: what the differ compares and what
/// events carry as `data.certificate`. Ids are strings, amounts fen, times Unix seconds (with
/// RFC 3339 copies when encoded).
public struct CertificateSnapshot: Sendable, Hashable, Codable {
    /// `certificate_id`.
    public var certificateID: String
    /// `code`: the plain certificate code, when Douyin returns it.
    public var code: String?
    /// `encrypted_code`.
    public var encryptedCode: String?
    /// The derived lifecycle at ``observedAt``.
    public var state: CertificateState
    /// Douyin's raw `status`.
    public var status: Int64?
    /// Douyin's raw `used_status_type`.
    public var usedStatusType: Int64?
    /// `start_time`, Unix seconds.
    public var startTime: Int64?
    /// `expire_time`, Unix seconds.
    public var expireTime: Int64?
    /// `amount`, fen.
    public var amount: Amount?
    /// `sku`.
    public var sku: SKU?
    /// `time_card`, for times cards.
    public var timesCard: TimesCard?
    /// Every verification (`verify` and `verify_records` together), oldest first.
    public var verifications: [Verification]
    /// `reserve_info.order_reserve_user_info_list` (personal data; see ``masked()``).
    public var reserveUsers: [ReserveUser]
    /// When certwatch observed this state, Unix seconds.
    public var observedAt: Int64
    /// Refund requests certwatch has seen for this certificate so far (carried from snapshot to
    /// snapshot by ``Differ/carried(_:from:)``; numbers each request's events).
    public var refundRequests: Int64 = 0

    /// Normalizes a decoded certificate observed at `observedAt` (Unix seconds).
    public init(_ certificate: Certificate, observedAt: Int64) {
        certificateID = certificate.certificateID.value
        code = certificate.code
        encryptedCode = certificate.encryptedCode
        status = certificate.status
        usedStatusType = certificate.usedStatusType
        startTime = certificate.startTime
        expireTime = certificate.expireTime
        amount = certificate.amount
        sku = certificate.sku
        timesCard = certificate.timeCard.flatMap { card in
            card.timesCount.map { TimesCard(timesCount: $0, timesUsed: card.timesUsed ?? 0) }
        }
        verifications = certificate.allVerifications.map { record in
            Verification(
                verifyID: record.verifyID?.value ?? "time-\(record.verifyTime ?? 0)", poiID: record.poiID?.value,
                verifyTime: record.verifyTime, verifyType: record.verifyType, canCancel: record.canCancel ?? false,
                timesCardSerialNum: record.timesCardSerialNum)
        }.sorted { ($0.verifyTime ?? 0, $0.verifyID) < ($1.verifyTime ?? 0, $1.verifyID) }
        reserveUsers = certificate.reserveInfo?.orderReserveUserInfoList ?? []
        self.observedAt = observedAt
        state = .available
        state = derivedState(at: observedAt)
    }

    /// Whether every use is consumed: a single voucher with a verification, a times card at `times_count`.
    public var isFullyUsed: Bool {
        if let timesCard { return timesCard.timesUsed >= timesCard.timesCount }
        return !verifications.isEmpty || status == CertificateStatusCode.used
    }

    /// Whether any verification can still be cancelled.
    public var isCancellable: Bool { verifications.contains { $0.canCancel } }

    /// Whether Douyin reports the certificate refunded (status 4).
    public var isRefunded: Bool { status == CertificateStatusCode.refunded }

    /// Whether a refund is pending: requested (3) or in progress (6).
    public var isRefundPending: Bool {
        status == CertificateStatusCode.refundRequested || status == CertificateStatusCode.refunding
    }

    /// The lifecycle at `now` (Unix seconds).
    public func derivedState(at now: Int64) -> CertificateState {
        if isRefunded { return .refunded }
        if isFullyUsed { return .verified }
        if let expireTime, now > expireTime { return .expired }
        return .available
    }

    /// A copy with reserve users' personal data masked (`张*`, `138****5678`, `1101**********1234`).
    public func masked() -> CertificateSnapshot {
        var copy = self
        copy.reserveUsers = reserveUsers.map { user in
            ReserveUser(
                name: user.name.map(Masking.name), phone: user.phone.map(Masking.phone),
                credentialType: user.credentialType, credentialNumb: user.credentialNumb.map(Masking.credential))
        }
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case certificateID = "certificate_id", code, encryptedCode = "encrypted_code", state, status
        case usedStatusType = "used_status_type", startTime = "start_time", startTimeRFC3339 = "start_time_rfc3339"
        case expireTime = "expire_time", expireTimeRFC3339 = "expire_time_rfc3339", amount, sku
        case timesCard = "times_card", verifications, reserveUsers = "reserve_users", observedAt = "observed_at"
        case observedAtRFC3339 = "observed_at_rfc3339", refundRequests = "refund_requests"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificateID = try c.decode(String.self, forKey: .certificateID)
        code = try c.decodeIfPresent(String.self, forKey: .code)
        encryptedCode = try c.decodeIfPresent(String.self, forKey: .encryptedCode)
        state = try c.decode(CertificateState.self, forKey: .state)
        status = try c.decodeIfPresent(Int64.self, forKey: .status)
        usedStatusType = try c.decodeIfPresent(Int64.self, forKey: .usedStatusType)
        startTime = try c.decodeIfPresent(Int64.self, forKey: .startTime)
        expireTime = try c.decodeIfPresent(Int64.self, forKey: .expireTime)
        amount = try c.decodeIfPresent(Amount.self, forKey: .amount)
        sku = try c.decodeIfPresent(SKU.self, forKey: .sku)
        timesCard = try c.decodeIfPresent(TimesCard.self, forKey: .timesCard)
        verifications = try c.decodeIfPresent([Verification].self, forKey: .verifications) ?? []
        reserveUsers = try c.decodeIfPresent([ReserveUser].self, forKey: .reserveUsers) ?? []
        observedAt = try c.decode(Int64.self, forKey: .observedAt)
        refundRequests = try c.decodeIfPresent(Int64.self, forKey: .refundRequests) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(certificateID, forKey: .certificateID)
        try c.encodeIfPresent(code, forKey: .code)
        try c.encodeIfPresent(encryptedCode, forKey: .encryptedCode)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(usedStatusType, forKey: .usedStatusType)
        try c.encodeIfPresent(startTime, forKey: .startTime)
        try c.encodeIfPresent(startTime.map(UnixTime.rfc3339), forKey: .startTimeRFC3339)
        try c.encodeIfPresent(expireTime, forKey: .expireTime)
        try c.encodeIfPresent(expireTime.map(UnixTime.rfc3339), forKey: .expireTimeRFC3339)
        try c.encodeIfPresent(amount, forKey: .amount)
        try c.encodeIfPresent(sku, forKey: .sku)
        try c.encodeIfPresent(timesCard, forKey: .timesCard)
        try c.encode(verifications, forKey: .verifications)
        try c.encode(reserveUsers, forKey: .reserveUsers)
        try c.encode(observedAt, forKey: .observedAt)
        try c.encode(UnixTime.rfc3339(observedAt), forKey: .observedAtRFC3339)
        try c.encode(refundRequests, forKey: .refundRequests)
    }
}

/// Masks personal data from `reserve_info` before it leaves certwatch.
public enum Masking {
    /// `张三` → `张*`, `欧阳娜娜` → `欧***`.
    public static func name(_ text: String) -> String {
        guard let first = text.first else { return text }
        return String(first) + String(repeating: "*", count: max(text.count - 1, 1))
    }

    /// `13812345678` → `138****5678`; short numbers keep only their last two characters.
    public static func phone(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count >= 7 else {
            return String(repeating: "*", count: max(characters.count - 2, 0)) + String(characters.suffix(2))
        }
        return String(characters.prefix(3)) + String(repeating: "*", count: characters.count - 7)
            + String(characters.suffix(4))
    }

    /// Identity document numbers keep the first 4 and last 4 characters.
    public static func credential(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count > 8 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(4)) + String(repeating: "*", count: characters.count - 8)
            + String(characters.suffix(4))
    }
}
