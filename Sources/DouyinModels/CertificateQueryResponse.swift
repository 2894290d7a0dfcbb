import Foundation

/// `extra`: the envelope Douyin adds to every Open API response.
public struct ResponseExtra: Codable, Sendable, Hashable {
    /// `error_code`: 0 on success.
    public var errorCode: Int64?
    /// `description`: the error's text.
    public var description: String?
    /// `sub_error_code`.
    public var subErrorCode: Int64?
    /// `sub_description`.
    public var subDescription: String?
    /// `logid`: Douyin's request id (e.g. `202412141738028C85F64D6CE2147AF797`), quoted to support.
    public var logid: String?
    /// `now`: Douyin's clock when answering, Unix seconds (deprecated by Douyin but still sent).
    public var now: Int64?

    public init(
        errorCode: Int64? = 0, description: String? = "", subErrorCode: Int64? = 0, subDescription: String? = "",
        logid: String? = nil, now: Int64? = nil
    ) {
        self.errorCode = errorCode
        self.description = description
        self.subErrorCode = subErrorCode
        self.subDescription = subDescription
        self.logid = logid
        self.now = now
    }

    enum CodingKeys: String, CodingKey {
        case errorCode = "error_code", description, subErrorCode = "sub_error_code"
        case subDescription = "sub_description", logid, now
    }

    /// Reads `extra`: `error_code` must be readable (number or decimal string); `now` in
    /// milliseconds is normalized to seconds with a warning; the texts read as `nil` with a warning
    /// when they have an unexpected type.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        errorCode = try c.decodeIfPresent(Int64.self, forKey: .errorCode)
        subErrorCode = c.decodeSetAsideIfPresent(Int64.self, forKey: .subErrorCode, warningsFrom: decoder)
        description = c.decodeSetAsideIfPresent(String.self, forKey: .description, warningsFrom: decoder)
        subDescription = c.decodeSetAsideIfPresent(String.self, forKey: .subDescription, warningsFrom: decoder)
        logid = c.decodeSetAsideIfPresent(String.self, forKey: .logid, warningsFrom: decoder)
        now = c.decodeSetAsideUnixTimeIfPresent(forKey: .now, warningsFrom: decoder)
    }
}

/// `data` of the certificate APIs: the query endpoints fill `certificates` and/or
/// `certificates_v2`; `/goodlife/v1/fulfilment/certificate/get/` fills `certificate`.
public struct CertificateQueryData: Codable, Sendable, Hashable {
    /// `certificates`.
    public var certificates: [Certificate]?
    /// `certificates_v2`: the newer shape; wins field by field when both lists hold a certificate.
    public var certificatesV2: [Certificate]?
    /// `certificate`: the single certificate of the get endpoint.
    public var certificate: Certificate?
    /// `error_code`: 0 on success.
    public var errorCode: Int64?
    /// `description`.
    public var description: String?

    public init(
        certificates: [Certificate]? = nil, certificatesV2: [Certificate]? = nil, certificate: Certificate? = nil,
        errorCode: Int64? = 0, description: String? = ""
    ) {
        self.certificates = certificates
        self.certificatesV2 = certificatesV2
        self.certificate = certificate
        self.errorCode = errorCode
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case certificates, certificatesV2 = "certificates_v2", certificate, errorCode = "error_code", description
    }

    /// Reads `data`; `description` of an unexpected type reads as `nil` with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificates = try c.decodeIfPresent([Certificate].self, forKey: .certificates)
        certificatesV2 = try c.decodeIfPresent([Certificate].self, forKey: .certificatesV2)
        certificate = try c.decodeIfPresent(Certificate.self, forKey: .certificate)
        errorCode = try c.decodeIfPresent(Int64.self, forKey: .errorCode)
        description = c.decodeSetAsideIfPresent(String.self, forKey: .description, warningsFrom: decoder)
    }
}

/// The response of the certificate query and get endpoints: `{"data": …, "extra": …}`.
public struct CertificateQueryResponse: Codable, Sendable, Hashable {
    /// `data`.
    public var data: CertificateQueryData?
    /// `extra`.
    public var extra: ResponseExtra?
    /// What decoding normalized or set aside (not part of the JSON).
    public var warnings: [DouyinDecodeWarning]

    public init(data: CertificateQueryData?, extra: ResponseExtra?, warnings: [DouyinDecodeWarning] = []) {
        self.data = data
        self.extra = extra
        self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case data, extra
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decodeIfPresent(CertificateQueryData.self, forKey: .data)
        extra = try c.decodeIfPresent(ResponseExtra.self, forKey: .extra)
        warnings = []
    }

    /// Decodes a response body. Throws ``DouyinDecodingError`` (empty, not JSON, a field state is
    /// derived from unreadable at a JSON path); an error envelope decodes fine and is reported by
    /// ``businessError(httpStatus:)``. Drift that was read anyway is in ``warnings``.
    public static func decode(_ body: Data) throws(DouyinDecodingError) -> CertificateQueryResponse {
        let tree = try JSONValue(parsing: body)
        let collected = DouyinDecodeWarnings()
        var response = try DouyinJSON.decode(CertificateQueryResponse.self, from: tree, warnings: collected)
        response.attachRaw(from: tree)
        response.warnings = collected.all
        return response
    }

    /// Sets each certificate's ``Certificate/raw`` from the parsed response.
    mutating func attachRaw(from tree: JSONValue) {
        guard self.data != nil else { return }
        let data = tree["data"]
        func attach(_ list: inout [Certificate]?, _ key: String) {
            guard let items = list else { return }
            list = items.enumerated().map { index, certificate in
                var copy = certificate
                copy.raw = data?[key]?[index] ?? .null
                return copy
            }
        }
        attach(&self.data!.certificates, "certificates")
        attach(&self.data!.certificatesV2, "certificates_v2")
        if self.data?.certificate != nil { self.data?.certificate?.raw = data?["certificate"] ?? .null }
    }

    /// The business error this envelope reports, or `nil` when `extra.error_code` and
    /// `data.error_code` are both 0 or absent.
    public func businessError(httpStatus: Int? = nil) -> DouyinAPIError? {
        envelopeError(httpStatus: httpStatus)
    }

    /// Contradictions within the answer, as warnings (they never fail a poll): one `certificate_id`
    /// twice in a list, `times_used` above `times_count`, a negative counter or `expire_time`, a
    /// success without any certificate list, a `verify_time` more than
    /// ``futureTolerance`` after `now` (Unix seconds; `extra.now` when `nil`, skipped when neither),
    /// a `status` outside Douyin's documented table (``CertificateStatusCode``).
    public func consistencyWarnings(now: Int64? = nil) -> [DouyinDecodeWarning] {
        let now = now ?? extra?.now
        var warnings: [DouyinDecodeWarning] = []
        let lists: [(String, [Certificate])] = [
            ("data.certificates", data?.certificates ?? []), ("data.certificates_v2", data?.certificatesV2 ?? []),
        ]
        func check(_ certificate: Certificate, at path: String) {
            if let status = certificate.status, !CertificateStatusCode.documented.contains(status) {
                warnings.append(.init(path: path + ".status", message: "\(status) is not in Douyin's status table; kept as is"))
            }
            if let card = certificate.timeCard, let used = card.timesUsed, let count = card.timesCount, used > count {
                warnings.append(
                    .init(path: path + ".time_card.times_used", message: "times_used \(used) exceeds times_count \(count)"))
            }
            for (field, value) in [
                ("time_card.times_used", certificate.timeCard?.timesUsed), ("time_card.times_count", certificate.timeCard?.timesCount),
                ("expire_time", certificate.expireTime),
            ] {
                if let value, value < 0 { warnings.append(.init(path: "\(path).\(field)", message: "\(value) is negative")) }
            }
            guard let now else { return }
            for (index, record) in (certificate.verifyRecords ?? []).enumerated() {
                if let time = record.verifyTime, time > now + Self.futureTolerance {
                    warnings.append(
                        .init(path: path + ".verify_records[\(index)].verify_time", message: "\(time) is in the future (now \(now))"))
                }
            }
            if let time = certificate.verify?.verifyTime, time > now + Self.futureTolerance {
                warnings.append(.init(path: path + ".verify.verify_time", message: "\(time) is in the future (now \(now))"))
            }
        }
        for (listPath, list) in lists {
            var seen: [DouyinID: Int] = [:]
            for (index, certificate) in list.enumerated() {
                let path = "\(listPath)[\(index)]"
                if let first = seen[certificate.certificateID] {
                    warnings.append(
                        .init(
                            path: path + ".certificate_id",
                            message: "certificate \(certificate.certificateID) also at \(listPath)[\(first)]; merged"))
                } else {
                    seen[certificate.certificateID] = index
                }
                check(certificate, at: path)
            }
        }
        if let certificate = data?.certificate { check(certificate, at: "data.certificate") }
        if businessError() == nil, data?.certificates == nil, data?.certificatesV2 == nil, data?.certificate == nil {
            warnings.append(
                .init(
                    path: data == nil ? "data" : "data.certificates",
                    message: "a success without certificates, certificates_v2 or certificate; read as no certificates"))
        }
        return warnings
    }

    /// How far a `verify_time` may lie after `now` before it is flagged (clock skew), seconds.
    public static let futureTolerance: Int64 = 60

    /// The certificates of the response, one per `certificate_id`, in order of first appearance:
    /// `certificates` and `certificates_v2` merged field by field (v2 wins where it has a non-null
    /// value; nested objects merge recursively), plus `certificate` of the get endpoint.
    /// Each certificate's ``Certificate/raw`` is the merged JSON.
    public func mergedCertificates() throws(DouyinDecodingError) -> [Certificate] {
        var order: [DouyinID] = []
        var byID: [DouyinID: Certificate] = [:]
        let lists = [data?.certificates ?? [], data?.certificatesV2 ?? [], data?.certificate.map { [$0] } ?? []]
        for certificate in lists.joined() {
            if let existing = byID[certificate.certificateID] {
                let merged = existing.raw.merged(preferring: certificate.raw)
                if merged == certificate.raw {
                    byID[certificate.certificateID] = certificate  // v2 already holds everything (the common case)
                } else if merged != existing.raw {
                    var decoded = try DouyinJSON.decode(Certificate.self, from: merged)
                    decoded.raw = merged
                    byID[certificate.certificateID] = decoded
                }
            } else {
                order.append(certificate.certificateID)
                byID[certificate.certificateID] = certificate
            }
        }
        return order.compactMap { byID[$0] }
    }
}
