import AsyncHTTPClient
import Foundation
import Logging

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
