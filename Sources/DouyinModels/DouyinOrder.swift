/// One order of 订单查询 (`data.orders[]`), in the shape SKIT.FlurlHttpClient.ByteDance's
/// `GoodLifeTradeOrderQueryV1Response` shows.
///
/// Amounts are integers in fen (分); times are Unix seconds (values of 10^12 or more are read as
/// milliseconds and normalized, with a ``DouyinDecodeWarning``); ids are decimal strings, read from
/// JSON numbers or strings alike, never through `Double`. Fields the change feed and the sweep derive
/// from (`order_id`, `order_status`, `create_order_time`, `update_order_time`, `certificate[]` with
/// its `certificate_id`, `item_status` and `item_update_time`) must be readable or decoding throws
/// naming the JSON path; every other field of an unexpected type reads as `nil` with a warning and
/// stays in ``raw``. `contacts` (buyer name and phone: personal data) is kept only in ``raw``.
public struct DouyinOrder: Sendable, Hashable {
    /// `order_id`.
    public var orderID: String
    /// `order_status`: Douyin's order status code, carried as is.
    public var orderStatus: Int?
    /// `order_type`: Douyin's order type code.
    public var orderType: Int?
    /// `poi_id`: the store (the top-level `poi_id`, else `poi.poi_id`, as SKIT.FlurlHttpClient.ByteDance's
    /// `GoodLifeTradeOrderQueryV1Response` also shows it).
    public var poiID: String?
    /// `create_order_time`, Unix seconds.
    public var createOrderTime: Int64?
    /// `update_order_time`, Unix seconds: moves when the order changes (which changes, Douyin does not document).
    public var updateOrderTime: Int64?
    /// `pay_time`, Unix seconds.
    public var payTime: Int64?
    /// `pay_amount`: what the buyer paid, fen.
    public var payAmount: Int64?
    /// `original_amount`, fen.
    public var originalAmount: Int64?
    /// `payment_discount`: payment discount, fen.
    public var paymentDiscount: Int64?
    /// `sku_id`.
    public var skuID: String?
    /// `sku_name`.
    public var skuName: String?
    /// `count`: how many certificates the order holds.
    public var count: Int?
    /// `certificate[]`: the order's certificates (an absent list reads as empty).
    public var certificates: [OrderCertificate]
    /// The order's JSON as received, unknown fields included (`.null` when decoded on its own).
    public var raw: JSONValue

    public init(
        orderID: String, orderStatus: Int? = nil, orderType: Int? = nil, poiID: String? = nil,
        createOrderTime: Int64? = nil, updateOrderTime: Int64? = nil, payTime: Int64? = nil, payAmount: Int64? = nil,
        originalAmount: Int64? = nil, paymentDiscount: Int64? = nil, skuID: String? = nil, skuName: String? = nil,
        count: Int? = nil, certificates: [OrderCertificate] = [], raw: JSONValue = .null
    ) {
        self.orderID = orderID
        self.orderStatus = orderStatus
        self.orderType = orderType
        self.poiID = poiID
        self.createOrderTime = createOrderTime
        self.updateOrderTime = updateOrderTime
        self.payTime = payTime
        self.payAmount = payAmount
        self.originalAmount = originalAmount
        self.paymentDiscount = paymentDiscount
        self.skuID = skuID
        self.skuName = skuName
        self.count = count
        self.certificates = certificates
        self.raw = raw
    }

    enum CodingKeys: String, CodingKey {
        case poi
        case orderID = "order_id", orderStatus = "order_status", orderType = "order_type", poiID = "poi_id"
        case createOrderTime = "create_order_time", updateOrderTime = "update_order_time", payTime = "pay_time"
        case payAmount = "pay_amount", originalAmount = "original_amount", paymentDiscount = "payment_discount"
        case skuID = "sku_id", skuName = "sku_name", count, certificates = "certificate"
    }
}

extension DouyinOrder: Decodable {
    /// Reads an order (see the type's rules). Throws `DecodingError` for an unreadable field state is
    /// derived from, a missing or empty `order_id`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        orderID = try c.decode(DouyinID.self, forKey: .orderID).value
        if orderID.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .orderID, in: c, debugDescription: "order_id must not be empty")
        }
        orderStatus = try c.decodeIfPresent(Int.self, forKey: .orderStatus)
        createOrderTime = try c.decodeUnixTimeIfPresent(forKey: .createOrderTime, warningsFrom: decoder)
        updateOrderTime = try c.decodeUnixTimeIfPresent(forKey: .updateOrderTime, warningsFrom: decoder)
        certificates = try c.decodeIfPresent([OrderCertificate].self, forKey: .certificates) ?? []
        orderType = c.decodeSetAsideIfPresent(Int.self, forKey: .orderType, warningsFrom: decoder)
        poiID =
            c.decodeSetAsideIfPresent(DouyinID.self, forKey: .poiID, warningsFrom: decoder)?.value
            ?? c.decodeSetAsideIfPresent(OrderPOI.self, forKey: .poi, warningsFrom: decoder)?.poiID?.value
        payTime = c.decodeSetAsideUnixTimeIfPresent(forKey: .payTime, warningsFrom: decoder)
        payAmount = c.decodeSetAsideIfPresent(Int64.self, forKey: .payAmount, warningsFrom: decoder)
        originalAmount = c.decodeSetAsideIfPresent(Int64.self, forKey: .originalAmount, warningsFrom: decoder)
        paymentDiscount = c.decodeSetAsideIfPresent(Int64.self, forKey: .paymentDiscount, warningsFrom: decoder)
        skuID = c.decodeSetAsideIfPresent(DouyinID.self, forKey: .skuID, warningsFrom: decoder)?.value
        skuName = c.decodeSetAsideIfPresent(String.self, forKey: .skuName, warningsFrom: decoder)
        count = c.decodeSetAsideIfPresent(Int.self, forKey: .count, warningsFrom: decoder)
        raw = .null  // set by the page decoder from its parsed tree
    }
}

/// One certificate of an order (`data.orders[].certificate[]`). Amounts in fen, times in Unix seconds.
public struct OrderCertificate: Sendable, Hashable {
    /// `certificate_id` (a string in SKIT's model, a number elsewhere: both read).
    public var certificateID: String
    /// `order_item_id`: the order item this certificate is.
    public var orderItemID: String?
    /// `item_status`: Douyin's item status code, carried as is.
    public var itemStatus: Int?
    /// `item_update_time`, Unix seconds.
    public var itemUpdateTime: Int64?
    /// `refund_amount`, fen.
    public var refundAmount: Int64?
    /// `refund_time`, Unix seconds.
    public var refundTime: Int64?

    public init(
        certificateID: String, orderItemID: String? = nil, itemStatus: Int? = nil, itemUpdateTime: Int64? = nil,
        refundAmount: Int64? = nil, refundTime: Int64? = nil
    ) {
        self.certificateID = certificateID
        self.orderItemID = orderItemID
        self.itemStatus = itemStatus
        self.itemUpdateTime = itemUpdateTime
        self.refundAmount = refundAmount
        self.refundTime = refundTime
    }

    enum CodingKeys: String, CodingKey {
        case certificateID = "certificate_id", orderItemID = "order_item_id", itemStatus = "item_status"
        case itemUpdateTime = "item_update_time", refundAmount = "refund_amount", refundTime = "refund_time"
    }
}

extension OrderCertificate: Decodable {
    /// Reads an order's certificate: `certificate_id` (required, not empty), `item_status` and
    /// `item_update_time` throw when unreadable; the refund fields read as `nil` with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificateID = try c.decode(DouyinID.self, forKey: .certificateID).value
        if certificateID.isEmpty {
            throw DecodingError.dataCorruptedError(
                forKey: .certificateID, in: c, debugDescription: "certificate_id must not be empty")
        }
        itemStatus = try c.decodeIfPresent(Int.self, forKey: .itemStatus)
        itemUpdateTime = try c.decodeUnixTimeIfPresent(forKey: .itemUpdateTime, warningsFrom: decoder)
        orderItemID = c.decodeSetAsideIfPresent(DouyinID.self, forKey: .orderItemID, warningsFrom: decoder)?.value
        refundAmount = c.decodeSetAsideIfPresent(Int64.self, forKey: .refundAmount, warningsFrom: decoder)
        refundTime = c.decodeSetAsideUnixTimeIfPresent(forKey: .refundTime, warningsFrom: decoder)
    }
}

/// `poi`: the store object some answers carry instead of a top-level `poi_id`.
struct OrderPOI: Decodable {
    var poiID: DouyinID?
    enum CodingKeys: String, CodingKey { case poiID = "poi_id" }
}
