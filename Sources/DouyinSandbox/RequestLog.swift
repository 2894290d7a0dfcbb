import DouyinOpenAPI

/// One request to the Douyin-facing endpoints, as recorded for `GET /sandbox/requests`.
package struct RequestLogEntry: Sendable, Hashable, Codable {
    /// Position in the log, from 1; use as `since` to read only newer entries.
    package var sequence: Int
    /// Sandbox time of the request's arrival (``ArrivalStamp``), Unix seconds (with fraction).
    package var time: Double
    /// HTTP method.
    package var method: String
    /// Path, e.g. `/goodlife/v1/compre_retail/fulfilment/certificate/query/`.
    package var path: String
    /// Raw query string, if any.
    package var query: String?
    /// HTTP status answered.
    package var httpStatus: Int
    /// Business error code answered (0 on success; absent for non-JSON answers).
    package var errorCode: Int64?
    /// The injected fault, if one decided the answer (`rate_limit` for 2119003).
    package var fault: String?
    /// `extra.logid` of the answer, if any.
    package var logid: String?
    /// The API (quota bucket) the request counted against (`nil` for the token endpoints), so a
    /// check can group by API: never more admitted answers of one API in a second than its quota.
    package var api: DouyinAPIKind?

    enum CodingKeys: String, CodingKey {
        case sequence, time, method, path, query, httpStatus = "http_status", errorCode = "error_code", fault, logid, api
    }
}

/// A bounded request log: the newest `capacity` entries.
struct RequestLog: Sendable {
    let capacity: Int
    private(set) var entries: [RequestLogEntry] = []
    private(set) var lastSequence = 0
    private var start = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    mutating func append(_ make: (Int) -> RequestLogEntry) {
        lastSequence += 1
        let entry = make(lastSequence)
        if entries.count < capacity {
            entries.append(entry)
        } else {
            entries[start] = entry
            start = (start + 1) % capacity
        }
    }

    /// Entries with `sequence > since`, oldest first, at most `limit`.
    func entries(since: Int, limit: Int) -> [RequestLogEntry] {
        let ordered = Array(entries[start...] + entries[..<start])
        return Array(ordered.lazy.filter { $0.sequence > since }.prefix(limit))
    }
}
