import Foundation

/// Settings of the Douyin Open Platform client.
public struct DouyinClientConfiguration: Sendable {
    /// Which endpoint issues client tokens.
    public enum TokenEndpoint: String, Sendable, Codable, CaseIterable {
        /// `POST /oauth/stable_client_token/`: returns the same token while it is valid, so several
        /// replicas do not invalidate each other's tokens (the default).
        case stable = "stable_client_token"
        /// `POST /oauth/client_token/`: each call issues a new token; the previous one stays valid
        /// only for a short grace period.
        case clientToken = "client_token"

        /// The endpoint's path.
        public var path: String { "/oauth/\(rawValue)/" }
    }

    /// Base URL of the Open API, default `https://open.douyin.com` (the sandbox: `http://127.0.0.1:8790`).
    public var baseURL: String
    /// The app's `client_key`.
    public var clientKey: String
    /// The app's `client_secret`. Never logged, never part of an error.
    public var clientSecret: String
    /// Which token endpoint to use; default ``TokenEndpoint/stable``.
    public var tokenEndpoint: TokenEndpoint
    /// How long before `expires_in` runs out a token is refreshed; default 300 s.
    public var tokenRefreshMargin: Duration
    /// Connection timeout; default 5 s.
    public var connectTimeout: Duration
    /// Total time for one request, response body included; default 15 s.
    public var requestTimeout: Duration
    /// Largest response body read; larger bodies fail as ``DouyinErrorClass/retry``. Default 4 MiB.
    public var maxResponseBytes: Int

    public init(
        baseURL: String = "https://open.douyin.com", clientKey: String, clientSecret: String,
        tokenEndpoint: TokenEndpoint = .stable, tokenRefreshMargin: Duration = .seconds(300),
        connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(15),
        maxResponseBytes: Int = 4 << 20
    ) {
        self.baseURL = baseURL
        self.clientKey = clientKey
        self.clientSecret = clientSecret
        self.tokenEndpoint = tokenEndpoint
        self.tokenRefreshMargin = tokenRefreshMargin
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
    }
}

extension DouyinClientConfiguration: CustomStringConvertible {
    /// A description without the secret.
    public var description: String {
        "DouyinClientConfiguration(baseURL: \(baseURL), clientKey: \(clientKey), clientSecret: <redacted>, "
            + "tokenEndpoint: \(tokenEndpoint.rawValue))"
    }
}
