import Foundation

/// The envelope every Douyin Open API answer shares: `{"data": {…, "error_code", "description"},
/// "extra": {"error_code", "description", "logid", "now", …}}`. The certificate query and the list
/// APIs (order query, verify-record query) read it the same way: one classification of business
/// errors, one place that keeps `extra.logid`.
protocol DouyinEnvelope {
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
    func envelopeError(httpStatus: Int?) -> DouyinAPIError? {
        let code = [extra?.errorCode, dataErrorCode].compactMap { $0 }.first { $0 != 0 }
        return code.map {
            DouyinAPIError(businessCode: $0, extra: extra, dataDescription: dataDescription, httpStatus: httpStatus)
        }
    }
}

/// Reads one Douyin answer body into a result, the same way for every API.
enum DouyinEnvelopeReader {
    /// Decodes `body` with `decode`, then: a business error of the envelope wins (with its class,
    /// code and logid); then an HTTP status outside 2xx (5xx, 408 and 429: `retry`); then `build`
    /// makes the result. A body that is empty, not JSON or has an unreadable field is `retry`,
    /// carrying the ``DouyinDecodingError`` (an HTTP error status wins over an unreadable body).
    static func read<Response: DouyinEnvelope, Result>(
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

extension CertificateQueryResponse: DouyinEnvelope {
    var dataErrorCode: Int64? { data?.errorCode }
    var dataDescription: String? { data?.description }
}
