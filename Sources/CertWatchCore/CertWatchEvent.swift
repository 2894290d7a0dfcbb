import Crypto
import DouyinModels
import Foundation

/// The watch an event belongs to, as carried in `data.watch`.
public struct WatchInfo: Sendable, Hashable, Codable {
    /// The watch id (`w_…`).
    public var id: String
    /// `order_id`, for order watches.
    public var orderID: String?
    /// `encrypted_code`, for code watches.
    public var encryptedCode: String?
    /// The endpoint family: `compre_retail` or `fulfilment`.
    public var api: CertificateAPI
    /// `account_id`, when set.
    public var accountID: String?
    /// Labels given at registration (`store: sh-01`).
    public var labels: [String: String]

    public init(
        id: String, orderID: String? = nil, encryptedCode: String? = nil, api: CertificateAPI = .compreRetail,
        accountID: String? = nil, labels: [String: String] = [:]
    ) {
        self.id = id
        self.orderID = orderID
        self.encryptedCode = encryptedCode
        self.api = api
        self.accountID = accountID
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case id, orderID = "order_id", encryptedCode = "encrypted_code", api, accountID = "account_id", labels
    }
}

/// The error a `watch.failed` event carries.
public struct WatchFailure: Sendable, Hashable, Codable {
    /// The error class (`permanent`).
    public var errorClass: DouyinErrorClass
    /// Douyin's business code (`nil` for HTTP, transport and body errors).
    public var code: Int64?
    /// The HTTP status of the answer, when there was one (e.g. 502, or 200 for a body that is not JSON).
    public var httpStatus: Int64?
    /// `sub_error_code`.
    public var subErrorCode: Int64?
    /// Douyin's description, or what went wrong (e.g. a body that is not JSON, with the JSON path).
    public var description: String?
    /// `extra.logid`, for Douyin support.
    public var logid: String?

    public init(_ error: DouyinAPIError) {
        errorClass = error.errorClass
        code = error.code
        httpStatus = error.httpStatus.map(Int64.init)
        subErrorCode = error.subErrorCode
        description = error.errorDescription ?? error.detail ?? error.description
        logid = error.logid
    }

    enum CodingKeys: String, CodingKey {
        case errorClass = "class", code, httpStatus = "http_status", subErrorCode = "sub_error_code", description, logid
    }
}

/// The run of failed polls a `watch.stalled` or `watch.recovered` event is about.
public struct WatchStall: Sendable, Hashable, Codable {
    /// When the failures began (the first failed poll of the run), Unix seconds.
    public var since: Int64
    /// Failed polls in a row so far.
    public var consecutiveFailures: Int64

    public init(since: Int64, consecutiveFailures: Int64) {
        self.since = since
        self.consecutiveFailures = consecutiveFailures
    }

    enum CodingKeys: String, CodingKey {
        case since, sinceRFC3339 = "since_rfc3339", consecutiveFailures = "consecutive_failures"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        since = try c.decode(Int64.self, forKey: .since)
        consecutiveFailures = try c.decode(Int64.self, forKey: .consecutiveFailures)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(since, forKey: .since)
        try c.encode(UnixTime.rfc3339(since), forKey: .sinceRFC3339)
        try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
    }
}

/// `data` of a certwatch event.
public struct EventData: Sendable, Hashable, Codable {
    /// The watch.
    public var watch: WatchInfo
    /// The certificate's current snapshot (personal data masked); absent for `watch.*` events.
    public var certificate: CertificateSnapshot?
    /// The verification concerned.
    public var verification: Verification?
    /// The times-card use concerned.
    public var use: TimesCardUse?
    /// Fields that changed, before and after.
    public var changes: [FieldChange]
    /// For `expiring_soon`: the lead time before `expire_time`, seconds.
    public var leadTime: Int64?
    /// For `watch.failed` and `watch.stalled`: the (last) error.
    public var error: WatchFailure?
    /// How the change was first seen (`push`, `feed`, `sweep`, `poll`); absent for events stored
    /// before detectors were recorded.
    public var detectedBy: Detection?
    /// For `watch.stalled` and `watch.recovered`: the run of failed polls.
    public var stall: WatchStall?

    public init(
        watch: WatchInfo, certificate: CertificateSnapshot? = nil, verification: Verification? = nil,
        use: TimesCardUse? = nil, changes: [FieldChange] = [], leadTime: Int64? = nil, error: WatchFailure? = nil,
        stall: WatchStall? = nil, detectedBy: Detection? = nil
    ) {
        self.detectedBy = detectedBy
        self.stall = stall
        self.watch = watch
        self.certificate = certificate
        self.verification = verification
        self.use = use
        self.changes = changes
        self.leadTime = leadTime
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case watch, certificate, verification, use, changes, leadTime = "lead_time", error, stall, detectedBy = "detected_by"
    }
}

/// A certwatch event: a CloudEvents 1.0 JSON envelope (`specversion`, `id`, `source`, `type`,
/// `subject` = certificate id, `time`, `datacontenttype`, `data`) plus the extension attribute
/// `sequence` (the store's cursor, assigned when the event is committed) and `timeunix`.
///
/// `id` is deterministic: `evt_` + 32 hex digits of SHA-256 over the certificate id, the type and
/// the transition's discriminator, so the same change detected again (after a crash, by another
/// watch of the same certificate) has the same id and receivers can de-duplicate.
public struct CertWatchEvent: Sendable, Hashable, Codable {
    /// Always `1.0`.
    public var specversion: String = "1.0"
    /// Deterministic id, e.g. `evt_3f1c…`.
    public var id: String
    /// `/douyin/<api>/orders/<order_id>` or `/douyin/<api>/codes/<encrypted_code>`.
    public var source: String
    /// The event type.
    public var type: EventType
    /// The certificate id (the watch id for `watch.*` events).
    public var subject: String
    /// When certwatch detected the change, Unix seconds (written as RFC 3339 in `time`).
    public var time: Int64
    /// The store's cursor; `nil` until committed.
    public var sequence: Int64?
    /// The payload.
    public var data: EventData

    public init(
        id: String, source: String, type: EventType, subject: String, time: Int64, sequence: Int64? = nil,
        data: EventData
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.sequence = sequence
        self.data = data
    }

    /// The event of a transition of `snapshot` (masked before it is embedded) in `watch`, detected at `time`.
    public init(transition: Transition, snapshot: CertificateSnapshot, watch: WatchInfo, time: Int64) {
        self.init(
            id: Self.eventID(subject: snapshot.certificateID, type: transition.type, discriminator: transition.discriminator),
            source: Self.source(of: watch), type: transition.type, subject: snapshot.certificateID, time: time,
            data: EventData(
                watch: watch, certificate: snapshot.masked(), verification: transition.verification, use: transition.use,
                changes: transition.changes, leadTime: transition.leadTime))
    }

    /// The `watch.failed` event of a permanent error.
    public init(failure: DouyinAPIError, watch: WatchInfo, time: Int64) {
        let detail = WatchFailure(failure)
        self.init(
            id: Self.eventID(subject: watch.id, type: .watchFailed, discriminator: "\(detail.code ?? detail.httpStatus ?? 0)"),
            source: Self.source(of: watch), type: .watchFailed, subject: watch.id, time: time,
            data: EventData(watch: watch, error: detail))
    }

    /// The `watch.stalled` event: polls have failed since `stall.since`; `lastError` is the latest.
    /// One per run of failures (the id is derived from the watch and `since`).
    public init(stalled stall: WatchStall, lastError: DouyinAPIError, watch: WatchInfo, time: Int64) {
        self.init(
            id: Self.eventID(subject: watch.id, type: .watchStalled, discriminator: "since-\(stall.since)"),
            source: Self.source(of: watch), type: .watchStalled, subject: watch.id, time: time,
            data: EventData(watch: watch, error: WatchFailure(lastError), stall: stall))
    }

    /// The `watch.recovered` event: a poll succeeded after the stall that began at `stall.since`.
    public init(recovered stall: WatchStall, watch: WatchInfo, time: Int64) {
        self.init(
            id: Self.eventID(subject: watch.id, type: .watchRecovered, discriminator: "since-\(stall.since)"),
            source: Self.source(of: watch), type: .watchRecovered, subject: watch.id, time: time,
            data: EventData(watch: watch, stall: stall))
    }

    /// `evt_` + the first 32 hex digits of SHA-256("subject|type|discriminator").
    public static func eventID(subject: String, type: EventType, discriminator: String) -> String {
        let digest = SHA256.hash(data: Data("\(subject)|\(type.rawValue)|\(discriminator)".utf8))
        return "evt_" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The CloudEvents `source` of a watch's events.
    public static func source(of watch: WatchInfo) -> String {
        if let orderID = watch.orderID { return "/douyin/\(watch.api.rawValue)/orders/\(orderID)" }
        return "/douyin/\(watch.api.rawValue)/codes/\(watch.encryptedCode ?? watch.id)"
    }

    enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, subject, time, timeunix, datacontenttype, sequence, data
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        specversion = try c.decode(String.self, forKey: .specversion)
        id = try c.decode(String.self, forKey: .id)
        source = try c.decode(String.self, forKey: .source)
        type = try c.decode(EventType.self, forKey: .type)
        subject = try c.decode(String.self, forKey: .subject)
        if let unix = try c.decodeIfPresent(Int64.self, forKey: .timeunix) {
            time = unix
        } else {
            let text = try c.decode(String.self, forKey: .time)
            guard let parsed = UnixTime.parse(rfc3339: text) else {
                throw DecodingError.dataCorruptedError(forKey: .time, in: c, debugDescription: "not an RFC 3339 time")
            }
            time = parsed
        }
        sequence = try c.decodeIfPresent(Int64.self, forKey: .sequence)
        data = try c.decode(EventData.self, forKey: .data)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(specversion, forKey: .specversion)
        try c.encode(id, forKey: .id)
        try c.encode(source, forKey: .source)
        try c.encode(type, forKey: .type)
        try c.encode(subject, forKey: .subject)
        try c.encode(UnixTime.rfc3339(time), forKey: .time)
        try c.encode(time, forKey: .timeunix)
        try c.encode("application/json", forKey: .datacontenttype)
        try c.encodeIfPresent(sequence, forKey: .sequence)
        try c.encode(data, forKey: .data)
    }

    /// Compact JSON with sorted keys, ids as strings.
    public func jsonData() -> Data {
        (try? DouyinJSON.normalizedEncoded(self)) ?? Data()
    }
}
