/// What a caller should do about a failed Douyin call.
///
/// The mapping of business codes follows the error table of 券状态批量查询 (see
/// `douyin/reference/certificate-query-compre-retail.zh.md`): "重试" codes are ``retry``, 2119003
/// (请求太过频繁) is ``slowDown``, invalid/expired access tokens are ``refreshToken``, parameter,
/// permission and authorization errors are ``permanent``.
public enum DouyinErrorClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// Transient: try again later with backoff (2100001, 2100004, 2119002, 5000001, unknown codes,
    /// HTTP 5xx, timeouts, connection errors, non-JSON bodies).
    case retry
    /// The app's QPS quota is exceeded (2119003): slow down, then retry.
    case slowDown
    /// The access token is invalid or expired (2190002, 2190008): refresh it and retry once.
    case refreshToken
    /// Retrying will not help (2100005, 2119001, 2119005, 2190004, 3000001, 4000001, 4000002).
    case permanent

    /// The class of a non-zero Douyin business error code; unknown codes are ``retry``.
    public static func classify(code: Int64) -> DouyinErrorClass {
        switch code {
        case 2_119_003: return .slowDown
        case 2_190_002, 2_190_008: return .refreshToken
        case 2_100_005, 2_119_001, 2_119_005, 2_190_004, 3_000_001, 4_000_001, 4_000_002: return .permanent
        default: return .retry  // 2100001, 2100004, 2119002, 5000001 and anything undocumented
        }
    }
}

/// A failed Douyin call: a business error in the response envelope, an HTTP error status, a
/// transport failure or timeout, or a body that could not be read.
///
/// Carries everything Douyin support asks for (`extra.logid`) and never the client secret or the
/// access token.
public struct DouyinAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the failure came from.
    public enum Source: Sendable, Hashable {
        /// A non-zero `extra.error_code` or `data.error_code`.
        case business
        /// An HTTP status outside 2xx.
        case httpStatus(Int)
        /// Connecting, sending or receiving failed.
        case transport
        /// The request did not complete within its timeout.
        case timeout
        /// The body was empty, not JSON, too large, or had a field of the wrong type.
        case invalidBody(DouyinDecodingError?)
        /// A page loop over a list API (``DouyinClient/allOrders(_:maxPages:)``,
        /// ``DouyinClient/allVerifyRecords(_:maxPages:)``) could not finish: a repeated cursor, a page
        /// number that did not advance, or more pages than allowed. Class ``DouyinErrorClass/retry``.
        case paging(DouyinPagingProblem)
    }

    /// What to do about it.
    public var errorClass: DouyinErrorClass
    /// Where it came from.
    public var source: Source
    /// The business error code (`extra.error_code`, else `data.error_code`), when there is one.
    public var code: Int64?
    /// `extra.sub_error_code`, when non-zero.
    public var subErrorCode: Int64?
    /// `extra.description` or `data.description`.
    public var errorDescription: String?
    /// `extra.sub_description`.
    public var subDescription: String?
    /// `extra.logid`: Douyin's request id, to quote to Douyin support.
    public var logid: String?
    /// The HTTP status of the response, when one arrived.
    public var httpStatus: Int?
    /// A short description of a transport failure.
    public var detail: String?

    public init(
        errorClass: DouyinErrorClass, source: Source, code: Int64? = nil, subErrorCode: Int64? = nil,
        errorDescription: String? = nil, subDescription: String? = nil, logid: String? = nil,
        httpStatus: Int? = nil, detail: String? = nil
    ) {
        self.errorClass = errorClass
        self.source = source
        self.code = code
        self.subErrorCode = subErrorCode
        self.errorDescription = errorDescription
        self.subDescription = subDescription
        self.logid = logid
        self.httpStatus = httpStatus
        self.detail = detail
    }

    /// The error for a business failure reported in a response envelope.
    public init(businessCode: Int64, extra: ResponseExtra?, dataDescription: String?, httpStatus: Int? = nil) {
        let sub = extra?.subErrorCode.flatMap { $0 == 0 ? nil : $0 }
        self.init(
            errorClass: DouyinErrorClass.classify(code: businessCode), source: .business, code: businessCode,
            subErrorCode: sub,
            errorDescription: [extra?.description, dataDescription].compactMap { $0 }.first { !$0.isEmpty },
            subDescription: extra?.subDescription.flatMap { $0.isEmpty ? nil : $0 }, logid: extra?.logid,
            httpStatus: httpStatus)
    }

    public var description: String {
        var parts: [String] = ["douyin \(errorClass.rawValue) error"]
        switch source {
        case .business: break
        case .httpStatus(let status): parts.append("HTTP \(status)")
        case .transport: parts.append("transport")
        case .timeout: parts.append("timeout")
        case .invalidBody(let error): parts.append("invalid body" + (error.map { ": \($0)" } ?? ""))
        case .paging(let problem): parts.append("paging: \(problem)")
        }
        if let code { parts.append("code \(code)") }
        if let subErrorCode { parts.append("sub_error_code \(subErrorCode)") }
        if let errorDescription { parts.append(errorDescription.debugDescription) }
        if let subDescription { parts.append(subDescription.debugDescription) }
        if let detail { parts.append(detail) }
        if let logid { parts.append("logid \(logid)") }
        return parts.joined(separator: ", ")
    }
}

extension DouyinAPIError {
    /// The error for an HTTP status outside 2xx without a business error: 5xx, 408 and 429 are `retry`.
    package static func httpError(_ status: Int, logid: String? = nil) -> DouyinAPIError {
        let transient = status >= 500 || status == 408 || status == 429
        return DouyinAPIError(
            errorClass: transient ? .retry : .permanent, source: .httpStatus(status), logid: logid, httpStatus: status)
    }
}
