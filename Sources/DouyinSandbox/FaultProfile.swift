import DouyinOpenAPI
import Foundation

/// A kind of injected fault.
///
/// | kind | answer |
/// |---|---|
/// | `busy` | business error 2100004 (系统繁忙), HTTP 200 |
/// | `system_busy` | 2119002 |
/// | `unknown_error` | 2100001 |
/// | `server_sleepy` | 5000001 |
/// | `error` | the rule's `code` (any business code, e.g. 2119005, 2190004, 3000001) |
/// | `token_expired` | 2190008, and the presented token stops being valid (early expiry) |
/// | `http_502`, `http_504` | that status with a gateway's HTML page |
/// | `latency` | answers normally after `latency_ms` more milliseconds (stacks with others) |
/// | `timeout` | holds the request `timeout_ms` (default 30000) then answers 504 |
/// | `malformed_json` | HTTP 200, `content-type: application/json`, a body that is not JSON |
/// | `truncated_body` | HTTP 200, the real answer cut in half |
/// | `html_error` | HTTP 200, an HTML error page (as a WAF or captive portal sends) |
/// | `drift` | the answer (success or error) in Douyin's drifted shapes, same meaning (see ``WireDrift``); stacks with others, not the token endpoints |
/// | `empty_page` | list APIs: the page holds no orders / records but says more remain (`has_more` true, `total` unchanged) |
/// | `repeated_cursor` | list APIs: a verify-record page's last record carries the request's own `cursor`; an order page answers page 1 (`page_num` 1) whatever page was asked for (on page 1 itself: no change) |
/// | `total_mismatch` | list APIs: `total` is 3 more than the window holds |
///
/// The paging kinds (`empty_page`, `repeated_cursor`, `total_mismatch`) apply to the list endpoints
/// by default (`endpoints: [order_query, verify_record_query]`); every other kind to `[query, get]`.
package enum FaultKind: String, Sendable, Hashable, Codable, CaseIterable {
    case busy
    case systemBusy = "system_busy"
    case unknownError = "unknown_error"
    case serverSleepy = "server_sleepy"
    case error
    case tokenExpired = "token_expired"
    case http502 = "http_502"
    case http504 = "http_504"
    case latency
    case timeout
    case malformedJSON = "malformed_json"
    case truncatedBody = "truncated_body"
    case htmlError = "html_error"
    case drift
    case emptyPage = "empty_page"
    case repeatedCursor = "repeated_cursor"
    case totalMismatch = "total_mismatch"

    /// Whether this kind reshapes a list API's page (and applies to the list endpoints by default).
    var isPaging: Bool { [.emptyPage, .repeatedCursor, .totalMismatch].contains(self) }

    /// The endpoints a rule of this kind applies to when it names none.
    var defaultEndpoints: [FaultEndpoint] { isPaging ? [.orderQuery, .verifyRecordQuery] : [.query, .get] }

    /// The business code this kind answers with, if it is a business error.
    var businessCode: Int64? {
        switch self {
        case .busy: return DouyinErrorCatalog.busy
        case .systemBusy: return DouyinErrorCatalog.systemBusy
        case .unknownError: return DouyinErrorCatalog.unknown
        case .serverSleepy: return DouyinErrorCatalog.serverSleepy
        case .tokenExpired: return DouyinErrorCatalog.tokenExpired
        default: return nil
        }
    }
}

/// Which Douyin endpoints a fault applies to.
package enum FaultEndpoint: String, Sendable, Hashable, Codable, CaseIterable {
    /// Both certificate query endpoints.
    case query
    /// `/goodlife/v1/fulfilment/certificate/get/`.
    case get
    /// Both client-token endpoints.
    case token
    /// 订单查询 `/goodlife/v1/trade/order/query/`.
    case orderQuery = "order_query"
    /// 验券历史查询 `/goodlife/v1/fulfilment/certificate/verify_record/query/`.
    case verifyRecordQuery = "verify_record_query"

    /// The API whose QPS quota this endpoint uses (`nil` for the token endpoints).
    var apiKind: DouyinAPIKind? {
        switch self {
        case .query, .get: return .certificateQuery
        case .token: return nil
        case .orderQuery: return .orderQuery
        case .verifyRecordQuery: return .verifyRecordQuery
        }
    }
}

/// One fault of a profile: with `probability`, requests to `endpoints` get `kind`.
package struct FaultRule: Sendable, Hashable, Codable {
    package var kind: FaultKind
    /// 0…1, default 1.
    package var probability: Double?
    /// For `error`: the business code to answer.
    package var code: Int64?
    /// For `latency`: added milliseconds (default 500).
    package var latencyMs: Int?
    /// For `timeout`: how long the request is held, milliseconds (default 30000).
    package var timeoutMs: Int?
    /// Default `[query, get]`; `[order_query, verify_record_query]` for the paging kinds.
    package var endpoints: [FaultEndpoint]?
    /// Only queries for these `order_id`s (absent: every request), e.g. to make one watch fail.
    package var orderIDs: [String]?

    package init(
        kind: FaultKind, probability: Double? = nil, code: Int64? = nil, latencyMs: Int? = nil, timeoutMs: Int? = nil,
        endpoints: [FaultEndpoint]? = nil, orderIDs: [String]? = nil
    ) {
        self.orderIDs = orderIDs
        self.kind = kind
        self.probability = probability
        self.code = code
        self.latencyMs = latencyMs
        self.timeoutMs = timeoutMs
        self.endpoints = endpoints
    }

    enum CodingKeys: String, CodingKey {
        case kind, probability, code, latencyMs = "latency_ms", timeoutMs = "timeout_ms", endpoints
        case orderIDs = "order_ids"
    }

    func applies(to endpoint: FaultEndpoint, orderID: String?) -> Bool {
        guard (endpoints ?? kind.defaultEndpoints).contains(endpoint) else { return false }
        return orderIDs.map { ids in orderID.map(ids.contains) ?? false } ?? true
    }

    func validate(field: String) throws(SandboxAdminError) {
        if let orderIDs, orderIDs.isEmpty || orderIDs.contains(where: \.isEmpty) {
            throw .invalid("\(field).order_ids", "order_ids needs at least one order id (omit it for every order)")
        }
        if let probability, !(0...1).contains(probability) {
            throw .invalid("\(field).probability", "probability must be 0…1, got \(probability)")
        }
        if kind == .error {
            guard let code, code != 0 else { throw .invalid("\(field).code", "kind error needs a non-zero business code") }
        }
        if let latencyMs, !(0...600_000).contains(latencyMs) {
            throw .invalid("\(field).latency_ms", "latency_ms must be 0…600000")
        }
        if let timeoutMs, !(0...600_000).contains(timeoutMs) {
            throw .invalid("\(field).timeout_ms", "timeout_ms must be 0…600000")
        }
    }
}

/// The fault profile: a QPS quota (a real token bucket answering 2119003 when empty) and seeded
/// random faults. YAML or JSON:
///
/// ```yaml
/// name: busy30
/// seed: 7            # fault draws; default: the sandbox seed
/// qps: 20            # query + get requests per second (absent: unlimited)
/// burst: 20          # bucket size (default: qps)
/// faults:
///   - kind: busy
///     probability: 0.3
///   - kind: latency
///     probability: 0.1
///     latency_ms: 800
/// push:              # faults of the sandbox's pushes (see PushFaults)
///   loss: 0.1
///   duplicate: 0.1
///   delay_max_s: 30
///   reorder: 0.2
/// ```
///
/// Every request draws one number per rule, whatever happens (and one more, the drift seed, when
/// the profile has a `drift` rule), so the same seed and the same sequence of requests give the
/// same faults. Rules are checked in order; the first rule that fires, other than `latency` and
/// `drift`, decides the answer; latency rules add up; `drift` reshapes whatever the answer is.
package struct FaultProfile: Sendable, Hashable, Codable {
    package var name: String?
    package var seed: UInt64?
    /// Certificate-query quota, requests per second, over the query and get endpoints together
    /// (the list APIs have their own, ``SandboxConfiguration/orderQueryQPS`` and
    /// ``SandboxConfiguration/verifyRecordQueryQPS``).
    package var qps: Double?
    /// Token-bucket capacity; default `qps`.
    package var burst: Double?
    package var faults: [FaultRule]
    /// Faults of the pushes the sandbox sends (`--push-url`): loss, duplication, delay, reordering.
    package var push: PushFaults?

    package init(
        name: String? = nil, seed: UInt64? = nil, qps: Double? = nil, burst: Double? = nil, faults: [FaultRule] = [],
        push: PushFaults? = nil
    ) {
        self.push = push
        self.name = name
        self.seed = seed
        self.qps = qps
        self.burst = burst
        self.faults = faults
    }

    enum CodingKeys: String, CodingKey { case name, seed, qps, burst, faults, push }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        qps = try c.decodeIfPresent(Double.self, forKey: .qps)
        burst = try c.decodeIfPresent(Double.self, forKey: .burst)
        faults = try c.decodeIfPresent([FaultRule].self, forKey: .faults) ?? []
        push = try c.decodeIfPresent(PushFaults.self, forKey: .push)
    }

    /// No faults, no quota.
    package static let none = FaultProfile(name: "none")

    /// Built-in profiles, usable by name with `--faults NAME`:
    /// `none`; `busy30` (30 % 2100004); `rate-limited` (qps 5, burst 5);
    /// `flaky` (5 % busy, 2 % 2119002, 2 % HTTP 502, 1 % 504, 1 % truncated, 1 % HTML, 10 % +300 ms);
    /// `token-chaos` (5 % early token expiry);
    /// `wild` (80 % of query, get and list-API answers in drifted shapes, see ``WireDrift``: numbers
    /// as strings, ids as numbers or strings, string error codes, millisecond times, unknown fields,
    /// errors only in `data`, odd descriptive types, `records_v2` beside or instead of `records`, a
    /// trailing newline — the same state as the clean answer; no added errors).
    package static let builtins: [String: FaultProfile] = [
        "none": .none,
        "busy30": FaultProfile(name: "busy30", faults: [FaultRule(kind: .busy, probability: 0.3)]),
        "rate-limited": FaultProfile(name: "rate-limited", qps: 5, burst: 5),
        "flaky": FaultProfile(
            name: "flaky",
            faults: [
                FaultRule(kind: .busy, probability: 0.05), FaultRule(kind: .systemBusy, probability: 0.02),
                FaultRule(kind: .http502, probability: 0.02), FaultRule(kind: .http504, probability: 0.01),
                FaultRule(kind: .truncatedBody, probability: 0.01), FaultRule(kind: .htmlError, probability: 0.01),
                FaultRule(kind: .latency, probability: 0.1, latencyMs: 300),
            ]),
        "token-chaos": FaultProfile(name: "token-chaos", faults: [FaultRule(kind: .tokenExpired, probability: 0.05)]),
        "wild": FaultProfile(
            name: "wild",
            faults: [FaultRule(kind: .drift, probability: 0.8, endpoints: [.query, .get, .orderQuery, .verifyRecordQuery])]),
    ]

    /// A built-in profile by name, or a YAML/JSON file at that path.
    package static func load(nameOrPath: String) throws(SandboxAdminError) -> FaultProfile {
        if let builtin = builtins[nameOrPath] { return builtin }
        guard let text = try? String(contentsOfFile: nameOrPath, encoding: .utf8) else {
            throw .notFound(
                "no built-in fault profile \(nameOrPath) (\(builtins.keys.sorted().joined(separator: ", "))) and no such file")
        }
        return try parse(yaml: text, source: nameOrPath)
    }

    /// Parses and validates a profile from YAML or JSON text.
    package static func parse(yaml text: String, source: String = "faults") throws(SandboxAdminError) -> FaultProfile {
        let profile = try SandboxInput.yaml(FaultProfile.self, from: text, source: source)
        try profile.validate()
        return profile
    }

    /// Checks ranges; throws ``SandboxAdminError`` naming the field.
    package func validate() throws(SandboxAdminError) {
        if let qps, !(qps > 0 && qps <= 1_000_000) { throw .invalid("qps", "qps must be > 0 and ≤ 1000000") }
        if let burst, !(burst >= 1 && burst <= 1_000_000) { throw .invalid("burst", "burst must be 1…1000000") }
        if burst != nil, qps == nil { throw .invalid("burst", "burst needs qps") }
        for (index, rule) in faults.enumerated() { try rule.validate(field: "faults[\(index)]") }
        try push?.validate()
    }
}

/// A one-shot fault for the next `count` matching requests (`POST /sandbox/faults/next`):
/// `{"kind": "busy", "count": 2}`. Same fields as a ``FaultRule`` (probability ignored).
package struct QueuedFault: Sendable, Hashable, Codable {
    package var rule: FaultRule
    /// How many requests get it, 1…10000 (default 1).
    package var count: Int

    package init(rule: FaultRule, count: Int = 1) {
        self.rule = rule
        self.count = count
    }

    package init(from decoder: any Decoder) throws {
        rule = try FaultRule(from: decoder)
        let c = try decoder.container(keyedBy: CountKey.self)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? 1
    }

    package func encode(to encoder: any Encoder) throws {
        try rule.encode(to: encoder)
        var c = encoder.container(keyedBy: CountKey.self)
        try c.encode(count, forKey: .count)
    }

    enum CountKey: String, CodingKey { case count }
}
