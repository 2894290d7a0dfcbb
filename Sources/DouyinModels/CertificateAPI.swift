import Foundation

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
