import Foundation

/// The envelope every Douyin Open API answer shares: `{"data": {…, "error_code", "description"},
/// "extra": {"error_code", "description", "logid", "now", …}}`. The certificate query and the list
/// APIs (order query, verify-record query) read it the same way: one classification of business
/// errors, one place that keeps `extra.logid`.
package protocol DouyinEnvelope {
    /// `extra`.
    var extra: ResponseExtra? { get }
    /// `data.error_code`.
    var dataErrorCode: Int64? { get }
    /// `data.description`.
    var dataDescription: String? { get }
}

extension DouyinEnvelope {
    /// The business error this envelope reports, or `nil` when `extra.error_code` and
    /// `data.error_code` are both 0 or absent.
    package func envelopeError(httpStatus: Int?) -> DouyinAPIError? {
        let code = [extra?.errorCode, dataErrorCode].compactMap { $0 }.first { $0 != 0 }
        return code.map {
            DouyinAPIError(businessCode: $0, extra: extra, dataDescription: dataDescription, httpStatus: httpStatus)
        }
    }
}

/// Reads one Douyin answer body into a result, the same way for every API.
package enum DouyinEnvelopeReader {
    /// Decodes `body` with `decode`, then: a business error of the envelope wins (with its class,
    /// code and logid); then an HTTP status outside 2xx (5xx, 408 and 429: `retry`); then `build`
    /// makes the result. A body that is empty, not JSON or has an unreadable field is `retry`,
    /// carrying the ``DouyinDecodingError`` (an HTTP error status wins over an unreadable body).
    package static func read<Response: DouyinEnvelope, Result>(
        body: Data, httpStatus: Int, decode: (Data) throws(DouyinDecodingError) -> Response,
        build: (Response) throws(DouyinDecodingError) -> Result
    ) throws(DouyinAPIError) -> Result {
        let response: Response
        do {
            response = try decode(body)
        } catch {
            guard (200..<300).contains(httpStatus) else { throw .httpError(httpStatus) }
            throw DouyinAPIError(errorClass: .retry, source: .invalidBody(error), httpStatus: httpStatus)
        }
        if let error = response.envelopeError(httpStatus: httpStatus) { throw error }
        guard (200..<300).contains(httpStatus) else { throw .httpError(httpStatus, logid: response.extra?.logid) }
        do {
            return try build(response)
        } catch {
            throw DouyinAPIError(errorClass: .retry, source: .invalidBody(error), httpStatus: httpStatus)
        }
    }
}

/// The `data` of a list API answer: its items, and the envelope's `error_code` / `description`.
protocol DouyinListData: Decodable {
    /// `data.error_code`.
    var errorCode: Int64? { get }
    /// `data.description`.
    var description: String? { get }
    /// Sets each item's `raw` from `data` as parsed.
    mutating func attachRaw(from data: JSONValue?)
}

/// A list API answer, `{"data": Data, "extra": …}`: one parse into a ``JSONValue`` tree, one typed
/// decode from it (with the warnings), and each item's raw JSON from the same tree.
struct DouyinListResponse<Data: DouyinListData>: Decodable, DouyinEnvelope {
    var data: Data?
    var extra: ResponseExtra?
    /// What decoding normalized or set aside.
    var warnings: [DouyinDecodeWarning] = []

    enum CodingKeys: String, CodingKey { case data, extra }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decodeIfPresent(Data.self, forKey: .data)
        extra = try c.decodeIfPresent(ResponseExtra.self, forKey: .extra)
    }

    var dataErrorCode: Int64? { data?.errorCode }
    var dataDescription: String? { data?.description }

    /// Decodes a body. Throws ``DouyinDecodingError`` (empty, not JSON, an unreadable field naming its path).
    static func decode(_ body: Foundation.Data) throws(DouyinDecodingError) -> Self {
        let tree = try JSONValue(parsing: body)
        let collected = DouyinDecodeWarnings()
        var response = try DouyinJSON.decode(Self.self, from: tree, warnings: collected)
        response.data?.attachRaw(from: tree["data"])
        response.warnings = collected.all
        return response
    }
}

/// `list` with each item's `raw` set from `items[index]` (the same list as parsed).
func attachingRaw<Item>(_ list: [Item]?, from items: JSONValue?, _ set: (inout Item, JSONValue) -> Void) -> [Item]? {
    list.map { list in
        list.enumerated().map { index, item in
            var copy = item
            set(&copy, items?[index] ?? .null)
            return copy
        }
    }
}

extension CertificateQueryResponse: DouyinEnvelope {
    package var dataErrorCode: Int64? { data?.errorCode }
    package var dataDescription: String? { data?.description }
}
