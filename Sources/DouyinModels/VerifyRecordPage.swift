import Foundation

/// One page of 验券历史查询: the records, `data.total` and `data.has_more`.
public struct VerifyRecordPage: Sendable, Hashable {
    /// `data.records_v2[]` when it holds records, else `data.records[]` (integration code prefers
    /// v2 the same way); an absent list reads as empty.
    public var records: [VerifyHistoryRecord]
    /// `data.total`: how many records the whole window holds, by Douyin's count.
    public var total: Int?
    /// `data.has_more`, when the answer has it (SKIT's model has no such field; the settlement
    /// APIs of the same family do, and the sandbox sends it).
    public var hasMore: Bool?
    /// `extra.logid`.
    public var logid: String?
    /// `extra.now`, Unix seconds.
    public var serverNow: Int64?
    /// What was read anyway: normalized times, set-aside fields, `records` and `records_v2` disagreeing.
    public var warnings: [DouyinDecodeWarning]

    public init(
        records: [VerifyHistoryRecord], total: Int? = nil, hasMore: Bool? = nil, logid: String? = nil,
        serverNow: Int64? = nil, warnings: [DouyinDecodeWarning] = []
    ) {
        self.records = records
        self.total = total
        self.hasMore = hasMore
        self.logid = logid
        self.serverNow = serverNow
        self.warnings = warnings
    }

    /// The cursor of the next page: the last record's `cursor` (`nil` for an empty page).
    public var nextCursor: String? { records.last?.cursor }

    /// Reads a verify-record query answer body, like ``CertificateQueryResult/read(body:httpStatus:)``.
    /// Throws ``DouyinAPIError``: a business error of the envelope with its class, code and logid;
    /// an HTTP status outside 2xx (5xx and 429: `retry`); a body that is empty, not JSON or has an
    /// unreadable field state is derived from (`retry`, carrying the ``DouyinDecodingError`` with its
    /// JSON path, e.g. `data.records[2].verify_time`).
    public static func read(body: Data, httpStatus: Int = 200) throws(DouyinAPIError) -> VerifyRecordPage {
        try DouyinEnvelopeReader.read(
            body: body, httpStatus: httpStatus, decode: VerifyRecordQueryResponse.decode,
            build: { response throws(DouyinDecodingError) in
                let v1 = response.data?.records ?? []
                let v2 = response.data?.recordsV2 ?? []
                var warnings = response.warnings
                if !v1.isEmpty, !v2.isEmpty, v1.map(\.verifyID) != v2.map(\.verifyID) {
                    warnings.append(
                        DouyinDecodeWarning(
                            path: "data.records_v2",
                            message: "records_v2 (\(v2.count)) and records (\(v1.count)) name different verifications; read records_v2"))
                }
                return VerifyRecordPage(
                    records: v2.isEmpty ? v1 : v2, total: response.data?.total, hasMore: response.data?.hasMore,
                    logid: response.extra?.logid, serverNow: response.extra?.now, warnings: warnings)
            })
    }
}

/// The answer of 验券历史查询: `{"data": {"records": […], "records_v2": […], "total", "has_more", …}, "extra": …}`.
typealias VerifyRecordQueryResponse = DouyinListResponse<VerifyRecordQueryData>

/// `data` of 验券历史查询.
struct VerifyRecordQueryData: DouyinListData {
    var records: [VerifyHistoryRecord]?
    var recordsV2: [VerifyHistoryRecord]?
    var total: Int?
    var hasMore: Bool?
    var errorCode: Int64?
    var description: String?
    enum CodingKeys: String, CodingKey {
        case records, recordsV2 = "records_v2", total, hasMore = "has_more", errorCode = "error_code", description
    }

    /// `has_more` decides whether a page loop goes on and must be readable; `total` reads as `nil`
    /// with a warning when it is not an integer.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        records = try c.decodeIfPresent([VerifyHistoryRecord].self, forKey: .records)
        recordsV2 = try c.decodeIfPresent([VerifyHistoryRecord].self, forKey: .recordsV2)
        hasMore = try c.decodeIfPresent(Bool.self, forKey: .hasMore)
        total = c.decodeSetAsideIfPresent(Int.self, forKey: .total, warningsFrom: decoder)
        errorCode = try c.decodeIfPresent(Int64.self, forKey: .errorCode)
        description = c.decodeSetAsideIfPresent(String.self, forKey: .description, warningsFrom: decoder)
    }

    mutating func attachRaw(from data: JSONValue?) {
        records = attachingRaw(records, from: data?["records"]) { $0.raw = $1 }
        recordsV2 = attachingRaw(recordsV2, from: data?["records_v2"]) { $0.raw = $1 }
    }
}
