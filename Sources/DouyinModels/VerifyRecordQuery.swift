/// 验券历史查询 `GET /goodlife/v1/fulfilment/certificate/verify_record/query/`: every verification
/// of one merchant account in a time window, cancelled ones included, page by page (`cursor`).
///
/// Parameters as fengwensheng100/douyin-java-sdk's `VerifyRecordQueryReq` and SKIT's
/// `GoodLifeFulfilmentCertificateVerifyRecordQueryV1Request` show them. Times are Unix seconds.
public struct VerifyRecordQuery: Sendable, Hashable {
    /// `account_id` (required): the merchant account (总店), also sent as `Rpc-Transit-Life-Account`.
    public var accountID: String
    /// `cursor` (required): `"0"` for the first page, then the last record's `cursor`.
    public var cursor: String
    /// `size` (required): records per page, 1…20 (Douyin answers a parameter error outside).
    public var size: Int
    /// `poi_ids`: stores, sent comma-separated; empty means every store of the account.
    public var poiIDs: [String]
    /// `start_time`, Unix seconds; absent means today (China time) on Douyin's side.
    public var startTime: Int64?
    /// `end_time`, Unix seconds.
    public var endTime: Int64?

    public init(
        accountID: String, cursor: String = "0", size: Int = 20, poiIDs: [String] = [], startTime: Int64? = nil,
        endTime: Int64? = nil
    ) {
        self.accountID = accountID
        self.cursor = cursor
        self.size = size
        self.poiIDs = poiIDs
        self.startTime = startTime
        self.endTime = endTime
    }

    /// The query parameters, in a fixed order; absent values are not sent.
    package var queryItems: [(String, String)] {
        var items = [("account_id", accountID), ("cursor", cursor), ("size", String(size))]
        if !poiIDs.isEmpty { items.append(("poi_ids", poiIDs.joined(separator: ","))) }
        if let startTime { items.append(("start_time", String(startTime))) }
        if let endTime { items.append(("end_time", String(endTime))) }
        return items
    }
}
