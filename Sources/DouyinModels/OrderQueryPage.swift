import Foundation

/// One page of 订单查询: `data.orders[]` and `data.page`.
public struct OrderQueryPage: Sendable, Hashable {
    /// `data.orders[]`, in Douyin's order (an absent list reads as empty).
    public var orders: [DouyinOrder]
    /// `data.page.page_num`: the page Douyin says it answered.
    public var pageNum: Int?
    /// `data.page.page_size`.
    public var pageSize: Int?
    /// `data.page.total`: how many orders the whole window holds, by Douyin's count.
    public var total: Int?
    /// `extra.logid`.
    public var logid: String?
    /// `extra.now`, Unix seconds.
    public var serverNow: Int64?
    /// What was read anyway: normalized times, set-aside fields.
    public var warnings: [DouyinDecodeWarning]

    public init(
        orders: [DouyinOrder], pageNum: Int? = nil, pageSize: Int? = nil, total: Int? = nil, logid: String? = nil,
        serverNow: Int64? = nil, warnings: [DouyinDecodeWarning] = []
    ) {
        self.orders = orders
        self.pageNum = pageNum
        self.pageSize = pageSize
        self.total = total
        self.logid = logid
        self.serverNow = serverNow
        self.warnings = warnings
    }

    /// Reads an order query answer body, like ``CertificateQueryResult/read(body:httpStatus:)``.
    /// Throws ``DouyinAPIError``: a business error of the envelope with its class, code and logid;
    /// an HTTP status outside 2xx (5xx and 429: `retry`); a body that is empty, not JSON or has an
    /// unreadable field state is derived from (`retry`, carrying the ``DouyinDecodingError`` with its
    /// JSON path, e.g. `data.orders[0].update_order_time`).
    public static func read(body: Data, httpStatus: Int = 200) throws(DouyinAPIError) -> OrderQueryPage {
        try DouyinEnvelopeReader.read(
            body: body, httpStatus: httpStatus, decode: OrderQueryResponse.decode,
            build: { response throws(DouyinDecodingError) in
                OrderQueryPage(
                    orders: response.data?.orders ?? [], pageNum: response.data?.page?.pageNum,
                    pageSize: response.data?.page?.pageSize, total: response.data?.page?.total,
                    logid: response.extra?.logid, serverNow: response.extra?.now, warnings: response.warnings)
            })
    }
}

/// The answer of 订单查询: `{"data": {"orders": […], "page": {…}, "error_code", "description"}, "extra": …}`.
typealias OrderQueryResponse = DouyinListResponse<OrderQueryData>

/// `data` of 订单查询.
struct OrderQueryData: DouyinListData {
    /// `data.page`.
    struct Page: Decodable {
        var pageNum: Int?
        var pageSize: Int?
        var total: Int?
        enum CodingKeys: String, CodingKey { case pageNum = "page_num", pageSize = "page_size", total }

        /// `page_num` decides whether a page loop advanced and must be readable; `page_size` and
        /// `total` read as `nil` with a warning when they are not integers.
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            pageNum = try c.decodeIfPresent(Int.self, forKey: .pageNum)
            pageSize = c.decodeSetAsideIfPresent(Int.self, forKey: .pageSize, warningsFrom: decoder)
            total = c.decodeSetAsideIfPresent(Int.self, forKey: .total, warningsFrom: decoder)
        }
    }

    var orders: [DouyinOrder]?
    var page: Page?
    var errorCode: Int64?
    var description: String?
    enum CodingKeys: String, CodingKey { case orders, page, errorCode = "error_code", description }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        orders = try c.decodeIfPresent([DouyinOrder].self, forKey: .orders)
        page = try c.decodeIfPresent(Page.self, forKey: .page)
        errorCode = try c.decodeIfPresent(Int64.self, forKey: .errorCode)
        description = c.decodeSetAsideIfPresent(String.self, forKey: .description, warningsFrom: decoder)
    }

    mutating func attachRaw(from data: JSONValue?) {
        orders = attachingRaw(orders, from: data?["orders"]) { $0.raw = $1 }
    }
}
