/// One record of 验券历史查询 (`data.records_v2[]`, else `data.records[]`): one verification of a
/// certificate, still standing or cancelled.
///
/// (Named `VerifyHistoryRecord` because ``VerifyRecord`` is already the `verify` / `verify_records`
/// entry of a certificate.) Shape as SKIT.FlurlHttpClient.ByteDance's
/// `GoodLifeFulfilmentCertificateVerifyRecordQueryV1Response` and
/// TonySteven/genesis-meituan-openapi-java-sdk's `FulfilmentVerifyRecordResponse` show it.
/// Douyin's record carries no `order_id`: it names its certificate and encrypted code.
///
/// Amounts are integers in fen; times are Unix seconds (10^12 or more: milliseconds, normalized with
/// a warning); ids are decimal strings read from numbers or strings. `cursor`, `verify_id` and
/// `verify_time` are required; `certificate_id`, `can_cancel`, `status` and `cancel_time` throw when
/// unreadable; every other field of an unexpected type reads as `nil` with a warning (kept in ``raw``).
public struct VerifyHistoryRecord: Sendable, Hashable {
    /// `cursor`: the paging position of this record (no business meaning); the next page starts after it.
    public var cursor: String
    /// `verify_id`: the verification, the same id as in the certificate query's `verify_records`.
    public var verifyID: String
    /// `certificate_id`.
    public var certificateID: String?
    /// `encrypted_code`: what the certificate query takes.
    public var encryptedCode: String?
    /// `code`: the plain code, when Douyin shows it.
    public var code: String?
    /// `order_id`: not in Douyin's record per the SDKs; read when an answer has it.
    public var orderID: String?
    /// `verify_type`: 1 buyer, 2 QR scanned, 3 code typed, 4 open API (0 default).
    public var verifyType: Int?
    /// `verify_time`, Unix seconds.
    public var verifyTime: Int64
    /// `can_cancel`: whether the verification can still be cancelled.
    public var canCancel: Bool?
    /// `status`: 1 verified, 2 cancelled (genesis-meituan-openapi-java-sdk's comment).
    public var status: Int?
    /// `cancel_time`, Unix seconds: present when the verification was cancelled.
    public var cancelTime: Int64?
    /// `poi_id`: the store that verified, when the answer has it (the sandbox sends it).
    public var poiID: String?
    /// `amount`: the money of this verification (for a times card: of this use), fen.
    public var amount: Amount?
    /// `sku`: the product.
    public var sku: SKU?
    /// The record's JSON as received, unknown fields included (`.null` when decoded on its own).
    public var raw: JSONValue

    public init(
        cursor: String, verifyID: String, certificateID: String? = nil, encryptedCode: String? = nil,
        code: String? = nil, orderID: String? = nil, verifyType: Int? = nil, verifyTime: Int64, canCancel: Bool? = nil,
        status: Int? = nil, cancelTime: Int64? = nil, poiID: String? = nil, amount: Amount? = nil, sku: SKU? = nil,
        raw: JSONValue = .null
    ) {
        self.cursor = cursor
        self.verifyID = verifyID
        self.certificateID = certificateID
        self.encryptedCode = encryptedCode
        self.code = code
        self.orderID = orderID
        self.verifyType = verifyType
        self.verifyTime = verifyTime
        self.canCancel = canCancel
        self.status = status
        self.cancelTime = cancelTime
        self.poiID = poiID
        self.amount = amount
        self.sku = sku
        self.raw = raw
    }

    /// `status` of a standing verification.
    public static let statusVerified = 1
    /// `status` of a cancelled verification (it then carries `cancel_time`).
    public static let statusCancelled = 2

    /// Whether the verification was cancelled: `status` 2 or a `cancel_time`.
    public var isCancelled: Bool { status == Self.statusCancelled || cancelTime != nil }

    enum CodingKeys: String, CodingKey {
        case cursor, verifyID = "verify_id", certificateID = "certificate_id", encryptedCode = "encrypted_code"
        case code, orderID = "order_id", verifyType = "verify_type", verifyTime = "verify_time"
        case canCancel = "can_cancel", status, cancelTime = "cancel_time", poiID = "poi_id", amount, sku
    }
}

extension VerifyHistoryRecord: Decodable {
    /// Reads a record (see the type's rules). Throws `DecodingError` naming the field.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cursor = try c.decode(DouyinID.self, forKey: .cursor).value
        if cursor.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .cursor, in: c, debugDescription: "cursor must not be empty")
        }
        verifyID = try c.decode(DouyinID.self, forKey: .verifyID).value
        if verifyID.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .verifyID, in: c, debugDescription: "verify_id must not be empty")
        }
        guard let time = try c.decodeUnixTimeIfPresent(forKey: .verifyTime, warningsFrom: decoder) else {
            throw DecodingError.keyNotFound(
                CodingKeys.verifyTime, .init(codingPath: c.codingPath, debugDescription: "verify_time is required"))
        }
        verifyTime = time
        certificateID = try c.decodeIfPresent(DouyinID.self, forKey: .certificateID)?.value
        canCancel = try c.decodeIfPresent(Bool.self, forKey: .canCancel)
        status = try c.decodeIfPresent(Int.self, forKey: .status)
        cancelTime = try c.decodeUnixTimeIfPresent(forKey: .cancelTime, warningsFrom: decoder)
        encryptedCode = c.decodeSetAsideIfPresent(String.self, forKey: .encryptedCode, warningsFrom: decoder)
        code = c.decodeSetAsideIfPresent(String.self, forKey: .code, warningsFrom: decoder)
        orderID = c.decodeSetAsideIfPresent(DouyinID.self, forKey: .orderID, warningsFrom: decoder)?.value
        verifyType = c.decodeSetAsideIfPresent(Int.self, forKey: .verifyType, warningsFrom: decoder)
        poiID = c.decodeSetAsideIfPresent(DouyinID.self, forKey: .poiID, warningsFrom: decoder)?.value
        amount = c.decodeSetAsideIfPresent(Amount.self, forKey: .amount, warningsFrom: decoder)
        sku = c.decodeSetAsideIfPresent(SKU.self, forKey: .sku, warningsFrom: decoder)
        raw = .null  // set by the page decoder from its parsed tree
    }
}
