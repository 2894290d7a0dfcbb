import DouyinOpenAPI

/// What the fault injector decided for one request.
struct FaultDecision: Sendable {
    /// The QPS bucket was empty: answer 2119003.
    var rateLimited = false
    /// The fault to answer with, if any (never `latency`).
    var fault: FaultRule?
    /// Extra delay before answering, milliseconds.
    var latencyMs = 0
    /// Reshape the answer with this drift (fault `drift`).
    var drift: WireDrift?
}

/// Applies a ``FaultProfile``: the QPS token bucket, seeded draws, one-shot queued faults.
struct FaultInjector: Sendable {
    private(set) var profile: FaultProfile
    private var rng: SeededGenerator
    /// One QPS bucket per API: the certificate query's from the profile (`qps`, `burst`), the list
    /// APIs' from `listQuotas` (bucket size = quota). An API without a bucket is unlimited.
    private var buckets: [DouyinAPIKind: TokenBucket] = [:]
    private var queue: [QueuedFault] = []

    init(profile: FaultProfile, seed: UInt64, listQuotas: [DouyinAPIKind: Double] = [:]) {
        self.profile = profile
        self.rng = SeededGenerator(seed: profile.seed ?? seed)
        for (api, qps) in listQuotas where qps > 0 { buckets[api] = TokenBucket(rate: qps, capacity: max(qps, 1)) }
        if let qps = profile.qps {
            buckets[.certificateQuery] = TokenBucket(rate: qps, capacity: profile.burst ?? max(qps, 1))
        }
    }

    /// Queued one-shot faults still pending.
    var pending: [QueuedFault] { queue }

    mutating func enqueue(_ fault: QueuedFault) {
        queue.append(fault)
    }

    /// Decides the fate of one request to `endpoint` at rate time `rateTime` (seconds).
    /// `requested` is a fault asked for by the `x-sandbox-fault` request header; `orderID` is the
    /// query's `order_id` (rules with `order_ids` apply to those orders only).
    mutating func decide(endpoint: FaultEndpoint, rateTime: Double, requested: FaultKind?, orderID: String? = nil) -> FaultDecision {
        var decision = FaultDecision()
        // One draw per rule, always, so the sequence of outcomes depends only on seed and request order.
        let draws = profile.faults.map { _ in rng.unit() }
        // The drift seed is drawn whenever a drift can happen, so it too depends only on seed and order.
        let driftSeed: UInt64? = profile.faults.contains(where: { $0.kind == .drift }) ? rng.next() : nil
        if let api = endpoint.apiKind, var bucket = buckets[api] {
            decision.rateLimited = !bucket.take(at: rateTime)
            buckets[api] = bucket
            if decision.rateLimited { return decision }
        }
        if let index = queue.firstIndex(where: { $0.rule.applies(to: endpoint, orderID: orderID) }) {
            let rule = queue[index].rule
            queue[index].count -= 1
            if queue[index].count <= 0 { queue.remove(at: index) }
            if rule.kind == .latency {
                decision.latencyMs += rule.latencyMs ?? 500
            } else if rule.kind == .drift {
                decision.drift = WireDrift(seed: driftSeed ?? rng.next())
            } else {
                decision.fault = rule
            }
        }
        if requested == .drift {
            decision.drift = decision.drift ?? WireDrift(seed: driftSeed ?? rng.next())
        } else if decision.fault == nil, let requested, requested != .latency {
            decision.fault = FaultRule(kind: requested)
        }
        for (rule, draw) in zip(profile.faults, draws) where rule.applies(to: endpoint, orderID: orderID) && draw < (rule.probability ?? 1) {
            if rule.kind == .latency {
                decision.latencyMs += rule.latencyMs ?? 500
            } else if rule.kind == .drift {
                decision.drift = decision.drift ?? WireDrift(seed: driftSeed ?? rng.next())
            } else if decision.fault == nil {
                decision.fault = rule
            }
        }
        return decision
    }
}
