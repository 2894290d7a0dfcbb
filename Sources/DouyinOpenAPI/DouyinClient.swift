import AsyncHTTPClient
import Foundation
import Logging

/// The endpoint family of a certificate query.
public enum CertificateAPI: String, Sendable, Hashable, Codable, CaseIterable {
    /// `GET /goodlife/v1/compre_retail/fulfilment/certificate/query/`: pickup vouchers (提货券), the default.
    case compreRetail = "compre_retail"
    /// `GET /goodlife/v1/fulfilment/certificate/query/`: group-buying (团购) certificates.
    case fulfilment

    /// The query endpoint's path.
    public var queryPath: String {
        switch self {
        case .compreRetail: return "/goodlife/v1/compre_retail/fulfilment/certificate/query/"
        case .fulfilment: return "/goodlife/v1/fulfilment/certificate/query/"
        }
    }

    /// `GET /goodlife/v1/fulfilment/certificate/get/`: one certificate by `encrypted_code`.
    public static let getPath = "/goodlife/v1/fulfilment/certificate/get/"
}

/// What to query: an order (`order_id`) or one encrypted code (`encrypted_code`), on an endpoint family.
public struct CertificateQuery: Sendable, Hashable {
    /// The endpoint family.
    public var api: CertificateAPI
    /// `order_id`.
    public var orderID: String?
    /// `encrypted_code` (from 验券准备).
    public var encryptedCode: String?
    /// `account_id`: the merchant account, sent as a query parameter and as `Rpc-Transit-Life-Account`.
    public var accountID: String?

    public init(api: CertificateAPI = .compreRetail, orderID: String? = nil, encryptedCode: String? = nil, accountID: String? = nil) {
        self.api = api
        self.orderID = orderID
        self.encryptedCode = encryptedCode
        self.accountID = accountID
    }
}

/// The certificates of one successful query.
public struct CertificateQueryResult: Sendable, Hashable {
    /// The merged certificates (see ``CertificateQueryResponse/mergedCertificates()``).
    public var certificates: [Certificate]
    /// `extra.logid`.
    public var logid: String?
    /// `extra.now`, Unix seconds.
    public var serverNow: Int64?
    /// What was read anyway: normalized times, set-aside fields, contradictions (see
    /// ``CertificateQueryResponse/warnings`` and ``CertificateQueryResponse/consistencyWarnings(now:)``).
    public var warnings: [DouyinDecodeWarning]

    public init(certificates: [Certificate], logid: String?, serverNow: Int64?, warnings: [DouyinDecodeWarning] = []) {
        self.certificates = certificates
        self.logid = logid
        self.serverNow = serverNow
        self.warnings = warnings
    }

    /// Reads a certificate API response body: the certificates of a successful response.
    /// Throws ``DouyinAPIError``: a business error of the envelope with its class, code and logid;
    /// an HTTP status outside 2xx (5xx and 429: `retry`); a body that is empty, not JSON or has a
    /// field of the wrong type (`retry`, carrying the ``DouyinDecodingError``).
    public static func read(body: Data, httpStatus: Int = 200) throws(DouyinAPIError) -> CertificateQueryResult {
        try DouyinEnvelopeReader.read(
            body: body, httpStatus: httpStatus, decode: CertificateQueryResponse.decode,
            build: { response throws(DouyinDecodingError) in
                CertificateQueryResult(
                    certificates: try response.mergedCertificates(), logid: response.extra?.logid,
                    serverNow: response.extra?.now, warnings: response.warnings + response.consistencyWarnings())
            })
    }
}

extension DouyinAPIError {
    /// The error for an HTTP status outside 2xx without a business error: 5xx, 408 and 429 are `retry`.
    static func httpError(_ status: Int, logid: String? = nil) -> DouyinAPIError {
        let transient = status >= 500 || status == 408 || status == 429
        return DouyinAPIError(
            errorClass: transient ? .retry : .permanent, source: .httpStatus(status), logid: logid, httpStatus: status)
    }
}

/// The Douyin Open Platform client for certificate queries.
///
/// Sends `access-token` and `content-type: application/json`, adds `account_id` and
/// `Rpc-Transit-Life-Account` when given, and on a ``DouyinErrorClass/refreshToken`` error refreshes
/// the token once and retries the call once. Knows nothing about watches.
public struct DouyinClient: Sendable {
    /// The token provider shared by every call of this client.
    public let tokens: ClientTokenProvider
    private let http: DouyinHTTP
    private let logger: Logger

    /// - Parameters:
    ///   - configuration: credentials, base URL, timeouts.
    ///   - httpClient: the process's HTTP client (see ``makeHTTPClient(_:)``); the caller shuts it down.
    ///   - now: the wall clock used for token expiry.
    public init(
        configuration: DouyinClientConfiguration, httpClient: HTTPClient, now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "certwatch.douyin")
    ) {
        self.http = DouyinHTTP(httpClient: httpClient, configuration: configuration)
        self.tokens = ClientTokenProvider(configuration: configuration, httpClient: httpClient, now: now, logger: logger)
        self.logger = logger
    }

    /// How long one request may take before it fails with a timeout (`douyin.request_timeout`).
    public var requestTimeout: Duration { http.configuration.requestTimeout }

    /// An HTTP client set up for Douyin: connect and read timeouts from `configuration`, redirects
    /// not followed. One per process; call `shutdown()` on it at exit.
    public static func makeHTTPClient(_ configuration: DouyinClientConfiguration) -> HTTPClient {
        DouyinHTTP.makeHTTPClient(configuration)
    }

    /// Queries the certificates of an order or an encrypted code.
    /// Throws ``DouyinAPIError``; a query with neither or both of `orderID`/`encryptedCode` is sent
    /// as is and Douyin answers 2100005 (`permanent`).
    public func queryCertificates(_ query: CertificateQuery) async throws(DouyinAPIError) -> CertificateQueryResult {
        var items: [(String, String)] = []
        if let orderID = query.orderID { items.append(("order_id", orderID)) }
        if let encryptedCode = query.encryptedCode { items.append(("encrypted_code", encryptedCode)) }
        if let accountID = query.accountID { items.append(("account_id", accountID)) }
        return try await call(path: query.api.queryPath, query: items, accountID: query.accountID, read: CertificateQueryResult.read)
    }

    /// Gets one certificate by `encrypted_code` (`GET /goodlife/v1/fulfilment/certificate/get/`).
    public func getCertificate(encryptedCode: String, accountID: String? = nil) async throws(DouyinAPIError)
        -> CertificateQueryResult
    {
        var items = [("encrypted_code", encryptedCode)]
        if let accountID { items.append(("account_id", accountID)) }
        return try await call(path: CertificateAPI.getPath, query: items, accountID: accountID, read: CertificateQueryResult.read)
    }

    /// One GET of a Douyin Open API: `access-token`, and `Rpc-Transit-Life-Account` when `accountID`
    /// is given; `read` turns the answer into the result. On a ``DouyinErrorClass/refreshToken``
    /// error the token is refreshed once and the call retried once.
    func call<Result>(
        path: String, query: [(String, String)], accountID: String?,
        read: (_ body: Data, _ httpStatus: Int) throws(DouyinAPIError) -> Result
    ) async throws(DouyinAPIError) -> Result {
        let url = http.url(path: path, query: query)
        var refreshed = false
        while true {
            let token: AccessToken
            do {
                token = try await tokens.token()
            } catch let error as DouyinAPIError {
                throw error
            } catch {
                throw DouyinAPIError(errorClass: .retry, source: .transport, detail: "\(error)")
            }
            var headers = [("access-token", token.value)]
            if let accountID { headers.append(("Rpc-Transit-Life-Account", accountID)) }
            let (status, body) = try await http.send(.GET, url: url, headers: headers)
            do {
                return try read(body, status)
            } catch where error.errorClass == .refreshToken && !refreshed {
                logger.info(
                    "access token rejected, refreshing once",
                    metadata: ["code": "\(error.code ?? 0)", "logid": "\(error.logid ?? "")"])
                await tokens.invalidate(token)
                refreshed = true
            }
        }
    }
}
