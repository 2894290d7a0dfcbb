import AsyncHTTPClient
import Foundation
import Logging

/// A client token (`clt.…`) and when it stops being valid.
public struct AccessToken: Sendable, Hashable {
    /// The token, sent as the `access-token` header.
    public var value: String
    /// When Douyin stops accepting it (issue time + `expires_in`).
    public var expiresAt: Date

    public init(value: String, expiresAt: Date) {
        self.value = value
        self.expiresAt = expiresAt
    }
}

/// Obtains and caches the app's client token.
///
/// - Caches the token and refreshes it ``DouyinClientConfiguration/tokenRefreshMargin`` (default
///   5 minutes) before it expires.
/// - Never runs two refreshes at once: concurrent callers during a refresh wait for the same result.
/// - ``invalidate(_:)`` drops a token Douyin rejected (2190002, 2190008) so the next call fetches a new one.
/// - The client secret never reaches a log line or an error.
public actor ClientTokenProvider {
    private let http: DouyinHTTP
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var cached: AccessToken?
    private var waiters: [CheckedContinuation<AccessToken, any Error>]?
    /// How many token requests were sent (for tests and metrics).
    public private(set) var fetchCount = 0

    /// - Parameters:
    ///   - configuration: credentials, base URL, endpoint, refresh margin.
    ///   - httpClient: the process's HTTP client.
    ///   - now: the wall clock (inject a fixed one in tests).
    public init(
        configuration: DouyinClientConfiguration, httpClient: HTTPClient, now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "certwatch.douyin.token")
    ) {
        self.http = DouyinHTTP(httpClient: httpClient, configuration: configuration)
        self.now = now
        self.logger = logger
    }

    /// A valid token: the cached one unless it is within the refresh margin of expiry, else a fresh one.
    /// Throws ``DouyinAPIError`` when the token endpoint fails (wrong key or secret: ``DouyinErrorClass/permanent``).
    public func token() async throws -> AccessToken {
        if let cached, now() < cached.expiresAt - http.configuration.tokenRefreshMargin.inSeconds {
            return cached
        }
        if waiters != nil {
            return try await withCheckedThrowingContinuation { waiters?.append($0) }
        }
        waiters = []
        let result: Result<AccessToken, any Error>
        do {
            result = .success(try await fetch())
        } catch {
            result = .failure(error)
        }
        if case .success(let token) = result { cached = token }
        let pending = waiters ?? []
        waiters = nil
        for waiter in pending { waiter.resume(with: result) }
        return try result.get()
    }

    /// Forgets `token` if it is the cached one, so the next ``token()`` fetches a new one.
    public func invalidate(_ token: AccessToken) {
        if cached?.value == token.value { cached = nil }
    }

    private func fetch() async throws(DouyinAPIError) -> AccessToken {
        fetchCount += 1
        let configuration = http.configuration
        let request = ClientTokenRequest(clientKey: configuration.clientKey, clientSecret: configuration.clientSecret)
        let body = try? JSONEncoder().encode(request)
        let issuedAt = now()
        let (status, data) = try await http.send(
            .POST, url: http.url(path: configuration.tokenEndpoint.path), headers: [], body: body)
        guard (200..<300).contains(status) else {
            throw DouyinAPIError(
                errorClass: status >= 500 ? .retry : .permanent, source: .httpStatus(status), httpStatus: status,
                detail: "token endpoint answered HTTP \(status)")
        }
        let response: ClientTokenResponse
        do {
            response = try DouyinJSON.decode(ClientTokenResponse.self, from: data)
        } catch {
            throw DouyinAPIError(errorClass: .retry, source: .invalidBody(error), httpStatus: status)
        }
        if let code = response.data?.errorCode ?? response.extra?.errorCode, code != 0 {
            // Token errors are about credentials or permissions unless Douyin says it is busy.
            let retryable: Set<Int64> = [2_100_001, 2_100_004, 2_119_002, 5_000_001]
            throw DouyinAPIError(
                errorClass: retryable.contains(code) ? .retry : .permanent, source: .business, code: code,
                errorDescription: response.data?.description, logid: response.extra?.logid, httpStatus: status,
                detail: "client token refused")
        }
        guard let value = response.data?.accessToken, !value.isEmpty, let expiresIn = response.data?.expiresIn else {
            throw DouyinAPIError(
                errorClass: .retry,
                source: .invalidBody(
                    DouyinDecodingError(
                        kind: .missingField, path: "data.access_token", message: "token response without a token")),
                httpStatus: status)
        }
        logger.debug(
            "obtained client token", metadata: ["expires_in": "\(expiresIn)", "endpoint": "\(configuration.tokenEndpoint.rawValue)"])
        return AccessToken(value: value, expiresAt: issuedAt + TimeInterval(expiresIn))
    }
}
