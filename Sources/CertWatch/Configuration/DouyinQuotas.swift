/// Each Douyin API's own quota, queries per second for the whole app (`douyin.quotas.*`): each
/// API has its own scope and its own limit, so each has its own token bucket, shared among live
/// replicas as `poll.qps` is, and a 2119003 slows only the API that answered it.
///
/// Defaults: the certificate query `poll.qps` (10), the order query 5, the verify-record query 5 —
/// below what Douyin grants an app by default, so a first run is never rate-limited; raise them to
/// what the app's console (开放平台 → 能力 → 接口调用额度) shows.
public struct DouyinQuotas: Sendable, Hashable {
    /// 券码查询 (`/goodlife/v1/fulfilment/certificate/query/` and the pickup family), queries per second.
    public var certificateQuery: Double
    /// 订单查询 (`/goodlife/v1/trade/order/query/`), queries per second.
    public var orderQuery: Double
    /// 验券历史查询 (`/goodlife/v1/fulfilment/certificate/verify_record/query/`), queries per second.
    public var verifyRecordQuery: Double

    public init(certificateQuery: Double = 10, orderQuery: Double = 5, verifyRecordQuery: Double = 5) {
        self.certificateQuery = certificateQuery
        self.orderQuery = orderQuery
        self.verifyRecordQuery = verifyRecordQuery
    }

    /// Reads `douyin.quotas.*` (and `poll.qps`, the certificate query's older name) from `file`.
    /// Throws ``ConfigurationError`` at the value for a number outside 0.01…100,000, or when both
    /// `poll.qps` and `douyin.quotas.certificate_query` are set.
    init(file: ConfigurationFile) throws(ConfigurationError) {
        let range = 0.01...100_000.0
        let defaults = DouyinQuotas()
        if file.contains("poll.qps"), file.contains("douyin.quotas.certificate_query") {
            throw ConfigurationError(
                location: file.location(of: "douyin.quotas.certificate_query"), key: "douyin.quotas.certificate_query",
                message: "poll.qps is set too: keep one of the two (douyin.quotas.certificate_query is the newer name)")
        }
        let certificateQuery = try file.number("douyin.quotas.certificate_query", range: range)
        let pollQPS = try file.number("poll.qps", range: range)
        self.init(
            certificateQuery: certificateQuery ?? pollQPS ?? defaults.certificateQuery,
            orderQuery: try file.number("douyin.quotas.order_query", range: range) ?? defaults.orderQuery,
            verifyRecordQuery: try file.number("douyin.quotas.verify_record_query", range: range) ?? defaults.verifyRecordQuery)
    }
}
