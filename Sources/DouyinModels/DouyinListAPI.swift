/// The paths of Douyin's two list APIs that certwatch reads (see `docs/douyin-list-apis.md`).
public enum DouyinListAPI {
    /// 订单查询: `GET /goodlife/v1/trade/order/query/` (scope `life.capacity.order.query`).
    public static let orderQueryPath = "/goodlife/v1/trade/order/query/"
    /// 验券历史查询: `GET /goodlife/v1/fulfilment/certificate/verify_record/query/` (scope `life.capacity.billing`).
    public static let verifyRecordQueryPath = "/goodlife/v1/fulfilment/certificate/verify_record/query/"
}

/// A Douyin API with its own scope, hence its own QPS quota: the name of its quota bucket.
public enum DouyinAPIKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The certificate query and get endpoints (both families share one quota).
    case certificateQuery = "certificate_query"
    /// 订单查询, ``DouyinListAPI/orderQueryPath``.
    case orderQuery = "order_query"
    /// 验券历史查询, ``DouyinListAPI/verifyRecordQueryPath``.
    case verifyRecordQuery = "verify_record_query"
}
