import DouyinOpenAPI

/// Settings of a ``DouyinSandbox``.
package struct SandboxConfiguration: Sendable {
    /// The accepted `client_key`; default `sandbox_key`.
    package var clientKey: String
    /// The accepted `client_secret`; default `sandbox_secret`.
    package var clientSecret: String
    /// Token lifetime (`expires_in`), seconds; default 7200.
    package var tokenLifetime: Int64
    /// How long a replaced token stays valid, seconds; default 300.
    package var tokenGracePeriod: Int64
    /// Seed of every random choice (ids, fake buyers, fault draws unless the profile has its own).
    package var seed: UInt64
    /// The fault profile at start and after reset; default none.
    package var faults: FaultProfile
    /// A scenario to play from start (and again after reset).
    package var scenario: Scenario?
    /// How many requests the request log keeps; default 10000.
    package var requestLogCapacity: Int
    /// `sku.account_id` of generated orders; default `7100000000000000001`.
    package var accountID: String
    /// The store (`poi_id`) verifications happen at unless told otherwise.
    package var poiID: UInt64
    /// 订单查询's own QPS quota, requests per second (bucket size the same); default 10. Over it the
    /// sandbox answers 2119003. Douyin gives each API its own scope and quota; 10 is a plausible
    /// default for a list API, not a documented number.
    package var orderQueryQPS: Double
    /// 验券历史查询's own QPS quota, requests per second (bucket size the same); default 5. Over it
    /// the sandbox answers 2119003.
    package var verifyRecordQueryQPS: Double
    /// `feed_fidelity`, 0…1, default 1: the share of certificate state changes (verify, times-card
    /// use, cancel, refund request / approval / rejection, expire) that move their order's
    /// `update_order_time`, drawn from a generator seeded by ``seed``. Douyin does not document which
    /// changes move it; below 1 the change feed misses some, as a real one may.
    package var feedFidelity: Double
    /// APIs the app has no scope for at start and after reset: they answer 2190004 (应用未获得该能力).
    package var revokedScopes: Set<DouyinAPIKind>

    package init(
        clientKey: String = "sandbox_key", clientSecret: String = "sandbox_secret", tokenLifetime: Int64 = 7_200,
        tokenGracePeriod: Int64 = 300, seed: UInt64 = 1, faults: FaultProfile = .none, scenario: Scenario? = nil,
        requestLogCapacity: Int = 10_000, accountID: String = "7100000000000000001", poiID: UInt64 = 7_100_000_000_000_000_101,
        orderQueryQPS: Double = 10, verifyRecordQueryQPS: Double = 5, feedFidelity: Double = 1,
        revokedScopes: Set<DouyinAPIKind> = []
    ) {
        self.clientKey = clientKey
        self.clientSecret = clientSecret
        self.tokenLifetime = tokenLifetime
        self.tokenGracePeriod = tokenGracePeriod
        self.seed = seed
        self.faults = faults
        self.scenario = scenario
        self.requestLogCapacity = requestLogCapacity
        self.accountID = accountID
        self.poiID = poiID
        self.orderQueryQPS = orderQueryQPS
        self.verifyRecordQueryQPS = verifyRecordQueryQPS
        self.feedFidelity = feedFidelity
        self.revokedScopes = revokedScopes
    }

    /// The list APIs' QPS quotas, by API (the certificate query's is the fault profile's `qps`).
    var listQuotas: [DouyinAPIKind: Double] {
        [.orderQuery: orderQueryQPS, .verifyRecordQuery: verifyRecordQueryQPS]
    }
}

/// The clock as `GET /sandbox/clock` shows it.
package struct ClockReading: Sendable, Hashable, Codable {
    /// Sandbox time, Unix seconds.
    package var now: Int64
    /// The same in RFC 3339 (UTC+8, Douyin's time zone).
    package var nowRFC3339: String
    /// Sandbox seconds per real second (0: manual clock).
    package var speed: Double
    /// Whether the clock moves only when advanced.
    package var manual: Bool
    /// Seconds added by `POST /sandbox/clock/advance` so far.
    package var advanced: Double

    enum CodingKeys: String, CodingKey {
        case now, nowRFC3339 = "now_rfc3339", speed, manual, advanced
    }
}
