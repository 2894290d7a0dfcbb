/// 订单查询 `GET /goodlife/v1/trade/order/query/`: the orders of one merchant account, by creation
/// or update window, page by page (`page_num` / `page_size`).
///
/// Parameters as SKIT.FlurlHttpClient.ByteDance's `GoodLifeTradeOrderQueryV1Request` shows them.
/// Times are Unix seconds; Douyin's own `page_size` default is 10, certwatch asks for 100.
public struct OrderQuery: Sendable, Hashable {
    /// `account_id`: the merchant account (总店), also sent as `Rpc-Transit-Life-Account`.
    public var accountID: String
    /// `page_num`, from 1.
    public var pageNum: Int
    /// `page_size`.
    public var pageSize: Int
    /// `order_id`: one order only.
    public var orderID: String?
    /// `create_order_start_time`, Unix seconds.
    public var createOrderStartTime: Int64?
    /// `create_order_end_time`, Unix seconds.
    public var createOrderEndTime: Int64?
    /// `update_order_start_time`, Unix seconds: with `update_order_end_time`, the change feed.
    public var updateOrderStartTime: Int64?
    /// `update_order_end_time`, Unix seconds.
    public var updateOrderEndTime: Int64?
    /// `ext_order_id`: the merchant's own order id.
    public var extOrderID: String?
    /// `order_status`: only orders in this status (Douyin's code, sent as is).
    public var orderStatus: Int?

    public init(
        accountID: String, pageNum: Int = 1, pageSize: Int = 100, orderID: String? = nil,
        createOrderStartTime: Int64? = nil, createOrderEndTime: Int64? = nil, updateOrderStartTime: Int64? = nil,
        updateOrderEndTime: Int64? = nil, extOrderID: String? = nil, orderStatus: Int? = nil
    ) {
        self.accountID = accountID
        self.pageNum = pageNum
        self.pageSize = pageSize
        self.orderID = orderID
        self.createOrderStartTime = createOrderStartTime
        self.createOrderEndTime = createOrderEndTime
        self.updateOrderStartTime = updateOrderStartTime
        self.updateOrderEndTime = updateOrderEndTime
        self.extOrderID = extOrderID
        self.orderStatus = orderStatus
    }

    /// The query parameters, in a fixed order; absent values are not sent.
    package var queryItems: [(String, String)] {
        var items = [("account_id", accountID), ("page_num", String(pageNum)), ("page_size", String(pageSize))]
        let optional: [(String, String?)] = [
            ("order_id", orderID), ("ext_order_id", extOrderID), ("order_status", orderStatus.map(String.init)),
            ("create_order_start_time", createOrderStartTime.map(String.init)),
            ("create_order_end_time", createOrderEndTime.map(String.init)),
            ("update_order_start_time", updateOrderStartTime.map(String.init)),
            ("update_order_end_time", updateOrderEndTime.map(String.init)),
        ]
        for case let (name, value?) in optional { items.append((name, value)) }
        return items
    }
}
