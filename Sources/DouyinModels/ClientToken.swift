/// The JSON body of `POST /oauth/client_token/` and `POST /oauth/stable_client_token/`.
public struct ClientTokenRequest: Codable, Sendable, Hashable {
    /// `client_key`.
    public var clientKey: String
    /// `client_secret`.
    public var clientSecret: String
    /// `grant_type`: always `client_credential`.
    public var grantType: String

    public init(clientKey: String, clientSecret: String, grantType: String = "client_credential") {
        self.clientKey = clientKey
        self.clientSecret = clientSecret
        self.grantType = grantType
    }

    enum CodingKeys: String, CodingKey {
        case clientKey = "client_key", clientSecret = "client_secret", grantType = "grant_type"
    }
}

/// The response of the client token endpoints:
/// `{"data": {"access_token": "clt.…", "expires_in": 7200, "error_code": 0, "description": ""}, "message": "success"}`.
public struct ClientTokenResponse: Codable, Sendable, Hashable {
    /// `data`.
    public struct TokenData: Codable, Sendable, Hashable {
        /// `access_token`: a `clt.`-prefixed client token.
        public var accessToken: String?
        /// `expires_in`: seconds the token stays valid.
        public var expiresIn: Int64?
        /// `error_code`: 0 on success.
        public var errorCode: Int64?
        /// `description`.
        public var description: String?

        public init(accessToken: String? = nil, expiresIn: Int64? = nil, errorCode: Int64? = 0, description: String? = "") {
            self.accessToken = accessToken
            self.expiresIn = expiresIn
            self.errorCode = errorCode
            self.description = description
        }

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token", expiresIn = "expires_in", errorCode = "error_code", description
        }
    }

    /// `data`.
    public var data: TokenData?
    /// `message`: `success` or `error`.
    public var message: String?
    /// `extra`, when present.
    public var extra: ResponseExtra?

    public init(data: TokenData?, message: String? = "success", extra: ResponseExtra? = nil) {
        self.data = data
        self.message = message
        self.extra = extra
    }
}
