import DouyinOpenAPI
import Foundation

/// A Douyin-facing endpoint of the sandbox.
package enum DouyinEndpoint: Sendable, Hashable {
    /// `POST /oauth/client_token/`.
    case clientToken
    /// `POST /oauth/stable_client_token/`.
    case stableClientToken
    /// `GET` of a certificate query endpoint family.
    case query(CertificateAPI)
    /// `GET /goodlife/v1/fulfilment/certificate/get/`.
    case get
    /// 订单查询 `GET /goodlife/v1/trade/order/query/`.
    case orderQuery
    /// 验券历史查询 `GET /goodlife/v1/fulfilment/certificate/verify_record/query/`.
    case verifyRecordQuery

    /// The endpoint serving `path` (with or without the trailing slash), if any.
    package init?(path: String) {
        let normalized = path.hasSuffix("/") ? path : path + "/"
        switch normalized {
        case "/oauth/client_token/": self = .clientToken
        case "/oauth/stable_client_token/": self = .stableClientToken
        case CertificateAPI.compreRetail.queryPath: self = .query(.compreRetail)
        case CertificateAPI.fulfilment.queryPath: self = .query(.fulfilment)
        case CertificateAPI.getPath: self = .get
        case DouyinListAPI.orderQueryPath: self = .orderQuery
        case DouyinListAPI.verifyRecordQueryPath: self = .verifyRecordQuery
        default: return nil
        }
    }

    var faultEndpoint: FaultEndpoint {
        switch self {
        case .clientToken, .stableClientToken: return .token
        case .query: return .query
        case .get: return .get
        case .orderQuery: return .orderQuery
        case .verifyRecordQuery: return .verifyRecordQuery
        }
    }

    /// The API whose scope and QPS quota this endpoint uses (`nil` for the token endpoints).
    package var apiKind: DouyinAPIKind? {
        switch self {
        case .clientToken, .stableClientToken: return nil
        case .query, .get: return .certificateQuery
        case .orderQuery: return .orderQuery
        case .verifyRecordQuery: return .verifyRecordQuery
        }
    }
}

/// One request to a Douyin-facing endpoint, transport-independent.
package struct DouyinRequest: Sendable {
    package var endpoint: DouyinEndpoint
    package var method: String
    package var path: String
    /// The raw query string.
    package var query: String?
    /// Decoded query parameters (last value wins).
    package var parameters: [String: String]
    /// The `access-token` header.
    package var accessToken: String?
    /// The request body (token endpoints).
    package var body: Data
    /// The body's content type.
    package var contentType: String?
    /// A fault asked for by the `x-sandbox-fault` header.
    package var requestedFault: FaultKind?
    /// When the request arrived, real Unix seconds (``ArrivalStamp``); `nil`: when it is handled.
    /// Douyin rate-limits a request at its arrival, so the QPS bucket and the request log use this.
    package var arrivedAt: Double?

    package init(
        endpoint: DouyinEndpoint, method: String = "GET", path: String? = nil, query: String? = nil,
        parameters: [String: String] = [:], accessToken: String? = nil, body: Data = Data(), contentType: String? = nil,
        requestedFault: FaultKind? = nil, arrivedAt: Double? = nil
    ) {
        self.arrivedAt = arrivedAt
        self.endpoint = endpoint
        self.method = method
        switch endpoint {
        case .clientToken: self.path = path ?? "/oauth/client_token/"
        case .stableClientToken: self.path = path ?? "/oauth/stable_client_token/"
        case .query(let api): self.path = path ?? api.queryPath
        case .get: self.path = path ?? CertificateAPI.getPath
        case .orderQuery: self.path = path ?? DouyinListAPI.orderQueryPath
        case .verifyRecordQuery: self.path = path ?? DouyinListAPI.verifyRecordQueryPath
        }
        self.query = query
        self.parameters = parameters
        self.accessToken = accessToken
        self.body = body
        self.contentType = contentType
        self.requestedFault = requestedFault
    }
}

/// The sandbox's answer to a ``DouyinRequest``, before it is turned into bytes.
package struct DouyinReply: Sendable {
    /// What the body holds.
    package enum Body: Sendable {
        /// A certificate API envelope (`data` + `extra`).
        case certificates(CertificateQueryResponse)
        /// A query envelope with empty `data.certificates` and `data.certificates_v2`, and the
        /// wire-encoded certificates that both lists hold.
        case certificateList(CertificateQueryResponse, encoded: [Data])
        /// A token endpoint answer (`data` + `message`).
        case token(ClientTokenResponse)
        /// Literal text (HTML error pages, malformed JSON).
        case text(String, contentType: String)
        /// A JSON envelope built as a tree (the list APIs' answers).
        case json(JSONValue)
    }

    /// HTTP status.
    package var status: Int
    package var body: Body
    /// `extra.logid`, also sent as the `x-tt-logid` header.
    package var logid: String?
    /// Milliseconds to wait before answering (latency and timeout faults).
    package var delayMs: Int = 0
    /// Send only the first half of the body (fault `truncated_body`).
    package var truncated = false
    /// Reshape the JSON body into Douyin's drifted shapes (fault `drift`), same meaning.
    package var drift: WireDrift?

    /// The business error code of the answer (0 on success), when the body is JSON.
    package var errorCode: Int64? {
        switch body {
        case .certificates(let response), .certificateList(let response, _):
            return response.extra?.errorCode ?? response.data?.errorCode
        case .token(let response): return response.data?.errorCode
        case .json(let tree):
            for code in [tree["extra"]?["error_code"], tree["data"]?["error_code"]] {
                switch code {
                case .int(let value)?: return value
                case .uint(let value)?: return Int64(exactly: value)
                default: continue
                }
            }
            return nil
        case .text: return nil
        }
    }

    /// The body's bytes (wire shape: ids that are numbers on Douyin stay numbers) and content type.
    package func encoded() -> (bytes: Data, contentType: String) {
        var bytes: Data
        var contentType = "application/json; charset=utf-8"
        switch body {
        case .certificates(let response): bytes = (try? DouyinJSON.wireEncoded(response)) ?? Data()
        case .certificateList(let response, let encoded):
            bytes = (try? DouyinJSON.wireEncoded(response)) ?? Data()
            var list = Data("[".utf8)
            for (index, certificate) in encoded.enumerated() {
                if index > 0 { list.append(UInt8(ascii: ",")) }
                list.append(certificate)
            }
            list.append(UInt8(ascii: "]"))
            for key in ["\"certificates\":[]", "\"certificates_v2\":[]"] {
                if let range = bytes.range(of: Data(key.utf8)) {
                    bytes.replaceSubrange(range, with: Data(key.dropLast(2).utf8) + list)
                }
            }
        case .token(let response): bytes = (try? DouyinJSON.wireEncoded(response)) ?? Data()
        case .json(let tree): bytes = tree.encoded()
        case .text(let text, let type):
            bytes = Data(text.utf8)
            contentType = type
        }
        if let drift, contentType.hasPrefix("application/json") { bytes = drift.apply(to: bytes) }
        if truncated { bytes = bytes.prefix(bytes.count / 2) }
        return (bytes, contentType)
    }

    static func html(status: Int, title: String) -> String {
        "<html>\r\n<head><title>\(status) \(title)</title></head>\r\n<body>\r\n<center><h1>\(status) \(title)</h1></center>\r\n"
            + "<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n"
    }
}
