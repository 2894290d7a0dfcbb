import DouyinOpenAPI
import Foundation

/// A local stand-in for Douyin's certificate APIs: tokens, certificate queries, voucher state on an
/// injectable clock, fault injection and scenarios. Holds all state; transport-independent.
///
/// Serve it over HTTP with ``DouyinSandboxServer`` (Hummingbird, port 0 for tests), or call it
/// directly: ``handle(_:)`` answers a Douyin request, the admin methods change vouchers and time.
///
/// Units everywhere: amounts in fen (分), times in Unix seconds of the sandbox clock, ids as
/// decimal strings in admin answers (Douyin's own shapes keep numeric ids as JSON numbers).
/// Admin methods throw ``SandboxAdminError`` (`not_found`, `invalid_argument`, `conflict`).
package actor DouyinSandbox {
    /// The configuration it started with.
    package let configuration: SandboxConfiguration
    var clock: SandboxClock
    var rng: SeededGenerator
    var logidRNG: SeededGenerator
    var tokens: TokenStore
    var faults: FaultInjector
    var log: RequestLog
    var certificates: [UInt64: SandboxCertificate] = [:]
    var orders: [String: [UInt64]] = [:]
    var orderList: [String] = []
    var labels: [String: String] = [:]
    var orderLabels: [String: String] = [:]
    var byEncryptedCode: [String: UInt64] = [:]
    var usedCodes: Set<String> = []
    var sequence: UInt64 = 0
    var scenarioStart: Int64 = 0
    var nextStep = 0
    var scenarioResults: [ScenarioStepResult] = []
    /// Encoded certificates by id, valid while their ``CertificateRenderKey`` is unchanged.
    var encodedCertificates: [UInt64: (key: CertificateRenderKey, bytes: Data)] = [:]
    /// The pushes of verify, verify_cancel and refund (recorded once a pusher attaches; DouyinSandbox+Push.swift).
    var pushes = SandboxPushQueue(seed: 0)
    /// What the list APIs read: each order's account and times, every verification ever made
    /// (DouyinSandbox+Lists.swift).
    var ledger: SandboxLedger
    /// Accounts that withdrew the app's authorization, and APIs the app has no scope for
    /// (DouyinSandbox+Access.swift).
    var access: SandboxAccess

    /// - Parameters:
    ///   - configuration: credentials, token rules, seed, faults, scenario.
    ///   - clock: real time by default; ``SandboxClock/manual(at:)`` in tests.
    package init(configuration: SandboxConfiguration = SandboxConfiguration(), clock: SandboxClock = .system()) {
        self.configuration = configuration
        self.clock = clock
        self.rng = SeededGenerator(seed: configuration.seed)
        self.logidRNG = SeededGenerator(seed: configuration.seed ^ 0x6C6F_6769_64)
        self.tokens = TokenStore(
            lifetime: configuration.tokenLifetime, grace: configuration.tokenGracePeriod, seed: configuration.seed)
        self.faults = FaultInjector(
            profile: configuration.faults, seed: configuration.seed, listQuotas: configuration.listQuotas)
        self.log = RequestLog(capacity: configuration.requestLogCapacity)
        self.ledger = SandboxLedger(seed: configuration.seed, feedFidelity: configuration.feedFidelity)
        self.access = SandboxAccess(revokedScopes: configuration.revokedScopes)
        self.scenarioStart = clock.nowSeconds
    }

    var now: Int64 { clock.nowSeconds }

    // MARK: Clock

    /// The clock as `GET /sandbox/clock` shows it.
    package func clockReading() -> ClockReading {
        catchUp()
        return reading()
    }

    /// Advances sandbox time by `seconds` (≥ 0, at most 10 years) and applies due scenario steps.
    /// Throws `invalid_argument` for a negative or too large value.
    @discardableResult
    package func advanceClock(by seconds: Double) throws(SandboxAdminError) -> ClockReading {
        guard seconds.isFinite, seconds >= 0, seconds <= 10 * 365 * 86_400 else {
            throw .invalid("seconds", "seconds must be 0 … 315360000, got \(seconds)")
        }
        clock.advance(by: seconds)
        catchUp()
        return reading()
    }

    private func reading() -> ClockReading {
        ClockReading(
            now: now, nowRFC3339: ChinaTime.rfc3339(now), speed: clock.speed, manual: clock.isManual,
            advanced: clock.advanced)
    }

    // MARK: Orders

    /// Creates an order; `label` names it for scenarios. Returns its ids.
    /// Throws `invalid_argument` (limits, see ``OrderSpec``) or `conflict` (order id in use).
    @discardableResult
    package func createOrder(_ spec: OrderSpec, label: String? = nil) throws(SandboxAdminError) -> CreatedOrder {
        catchUp()
        return try makeOrder(spec, label: label, at: now)
    }

    /// Creates `count` orders with a realistic mix (70 % one voucher, 20 % a times card of 3…10
    /// uses, 10 % two or three vouchers), validity 1…30 days. The same seed gives the same mix.
    package func createRandomOrders(_ spec: RandomOrdersSpec) throws(SandboxAdminError) -> [CreatedOrder] {
        guard (1...10_000).contains(spec.count) else { throw .invalid("count", "count must be 1…10000, got \(spec.count)") }
        catchUp()
        var mix = SeededGenerator(seed: spec.seed ?? rng.next())
        var created: [CreatedOrder] = []
        for _ in 0..<spec.count {
            let roll = mix.unit()
            let certificates: [OrderSpec.CertificateSpec]
            if roll < 0.7 {
                certificates = [.init(kind: .voucher)]
            } else if roll < 0.9 {
                certificates = [.init(kind: .timesCard, timesCount: Int64(3 + mix.next() % 8))]
            } else {
                certificates = Array(repeating: .init(kind: .voucher), count: Int(2 + mix.next() % 2))
            }
            let expireIn = Int64(86_400 * (1 + mix.next() % 30))
            created.append(try makeOrder(OrderSpec(certificates: certificates, expireIn: expireIn), label: nil, at: now))
        }
        return created
    }

    /// Every order, oldest first.
    package func listOrders() -> [CreatedOrder] {
        catchUp()
        return orderList.map(summary(of:))
    }

    /// One order with its certificates as Douyin would return them now.
    /// Throws `not_found`.
    package func order(id orderID: String) throws(SandboxAdminError) -> (order: CreatedOrder, certificates: [Certificate]) {
        catchUp()
        guard let ids = orders[orderID] else { throw .notFound("no order \(orderID)", field: "order_id") }
        return (summary(of: orderID), ids.compactMap { certificates[$0]?.rendered(at: now) })
    }

    /// The order id created for scenario label `label`.
    package func orderID(forLabel label: String) -> String? {
        catchUp()
        return labels[label]
    }

    func summary(of orderID: String) -> CreatedOrder {
        CreatedOrder(
            orderID: orderID, label: orderLabels[orderID],
            certificates: (orders[orderID] ?? []).compactMap { certificates[$0] }.map {
                .init(certificateID: String($0.certificateID), encryptedCode: $0.encryptedCode, code: $0.code, kind: $0.kind)
            })
    }

    func makeOrder(_ spec: OrderSpec, label: String?, at time: Int64) throws(SandboxAdminError) -> CreatedOrder {
        try spec.validate()
        if let label, labels[label] != nil { throw .conflict("order label \(label) already exists") }
        let orderID = spec.orderID ?? nextID(base: 1_068_000_000_000_000_000)
        guard orders[orderID] == nil else { throw .conflict("order \(orderID) already exists") }
        let start = time + (spec.startIn ?? 0)
        let expire = time + (spec.expireIn ?? 30 * 86_400)
        var ids: [UInt64] = []
        let buyer = FakeData.buyer(&rng)
        for item in spec.certificates {
            let kind = item.kind ?? .voucher
            let count = kind == .voucher ? 1 : (item.timesCount ?? 5)
            let productIndex: Int
            let title: String
            let pay: Int64
            if kind == .voucher {
                productIndex = Int(rng.next() % UInt64(FakeData.products.count))
                (title, pay) = FakeData.products[productIndex]
            } else {
                productIndex = 100 + Int(rng.next() % UInt64(FakeData.timesCards.count))
                let card = FakeData.timesCards[productIndex - 100]
                (title, pay) = (card.title, card.perUse * count)
            }
            let payAmount = item.payAmount ?? pay
            let id = UInt64(nextID(base: 7_230_000_000_000_000_000))!
            let certificate = SandboxCertificate(
                certificateID: id, orderID: orderID, code: uniqueCode(), encryptedCode: uniqueEncryptedCode(), kind: kind,
                timesCount: count, startTime: start, expireTime: expire, payAmount: payAmount,
                marketAmount: payAmount + payAmount / 5, title: item.title ?? title,
                skuID: String(1_780_000_000_000_000_000 + UInt64(productIndex)),
                accountID: spec.accountID ?? configuration.accountID, bookPoiID: configuration.poiID, buyer: buyer)
            certificates[id] = certificate
            byEncryptedCode[certificate.encryptedCode] = id
            ids.append(id)
        }
        orders[orderID] = ids
        orderList.append(orderID)
        ledger.recordOrder(orderID, accountID: spec.accountID ?? configuration.accountID, at: time)
        if let label {
            labels[label] = orderID
            orderLabels[orderID] = label
        }
        return summary(of: orderID)
    }

    /// A fresh numeric id above `base` (unique: a counter times a prime plus a random offset below it).
    func nextID(base: UInt64) -> String {
        sequence += 1
        return String(base + sequence * 1_000_003 + rng.next() % 1_000_003)
    }

    private func uniqueCode() -> String {
        while true {
            let code = FakeData.digits(12, &rng)
            if usedCodes.insert(code).inserted { return code }
        }
    }

    private func uniqueEncryptedCode() -> String {
        while true {
            let code = "CgwIARC" + FakeData.token(41, &rng, alphabet: FakeData.alphanumerics)
            if byEncryptedCode[code] == nil { return code }
        }
    }

    // MARK: Certificate actions

    /// Verifies a certificate (for a times card: one use) at store `poiID` (default: the configured
    /// store) through `channel` (`verify_type`, default 2, the merchant scanned the QR code).
    /// Returns the certificate as Douyin now shows it. Throws `not_found` or `conflict` (see ``VoucherLifecycle``).
    @discardableResult
    package func verify(certificateID: String, poiID: UInt64? = nil, channel: VerifyChannel = .qrScan) throws(SandboxAdminError)
        -> Certificate
    {
        catchUp()
        return try act(certificateID, at: now) { certificate, time, sandbox throws(SandboxAdminError) in
            try sandbox.verify(&certificate, at: time, poiID: poiID, channel: channel)
        }
    }

    /// Uses a times card once (like ``verify(certificateID:poiID:channel:)``, but refuses vouchers with `conflict`).
    @discardableResult
    package func use(certificateID: String, poiID: UInt64? = nil, channel: VerifyChannel = .qrScan) throws(SandboxAdminError)
        -> Certificate
    {
        catchUp()
        guard let id = UInt64(certificateID), let certificate = certificates[id] else {
            throw .notFound("no certificate \(certificateID)", field: "certificate_id")
        }
        guard certificate.kind == .timesCard else { throw .conflict("certificate \(certificateID) is not a times card; verify it") }
        return try verify(certificateID: certificateID, poiID: poiID, channel: channel)
    }

    /// One verification with fresh ids (the single place verify ids and verifiers are drawn).
    func verify(_ certificate: inout SandboxCertificate, at time: Int64, poiID: UInt64?, channel: VerifyChannel)
        throws(SandboxAdminError)
    {
        try VoucherLifecycle.verify(
            &certificate, at: time, poiID: poiID ?? configuration.poiID, channel: channel,
            verifyID: nextID(base: 7_300_000_000_000_000_000), verifierID: "sandbox-clerk-" + String(1 + rng.next() % 9))
    }

    /// Cancels a verification (default: the latest) while it is cancellable. Throws `not_found` or `conflict`.
    @discardableResult
    package func cancelVerification(certificateID: String, verifyID: String? = nil) throws(SandboxAdminError) -> Certificate {
        catchUp()
        return try act(certificateID, at: now) { certificate, time, _ throws(SandboxAdminError) in
            try VoucherLifecycle.cancel(&certificate, verifyID: verifyID, at: time)
        }
    }

    /// Refunds a certificate in one step: request and approval at once, no refunding phase
    /// (`status` 4 right away). Throws `not_found` or `conflict`.
    @discardableResult
    package func refund(certificateID: String) throws(SandboxAdminError) -> Certificate {
        catchUp()
        return try act(certificateID, at: now) { certificate, time, _ throws(SandboxAdminError) in
            try VoucherLifecycle.refund(&certificate, at: time)
        }
    }

    /// The buyer asks for a refund: `status` 3 (awaiting review). Throws `not_found` or `conflict`.
    @discardableResult
    package func requestRefund(certificateID: String) throws(SandboxAdminError) -> Certificate {
        catchUp()
        return try act(certificateID, at: now) { certificate, time, _ throws(SandboxAdminError) in
            try VoucherLifecycle.requestRefund(&certificate, at: time)
        }
    }

    /// Approves the pending refund request: `status` 6 (refunding) for `refunding` seconds
    /// (0…2592000, default ``VoucherLifecycle/defaultRefunding``), then 4 (refunded).
    /// Throws `invalid_argument` (field `refunding_seconds`), `not_found` or `conflict`.
    @discardableResult
    package func approveRefund(certificateID: String, refunding: Int64 = VoucherLifecycle.defaultRefunding)
        throws(SandboxAdminError) -> Certificate
    {
        try VoucherLifecycle.validateRefunding(refunding, field: "refunding_seconds")
        catchUp()
        return try act(certificateID, at: now) { certificate, time, _ throws(SandboxAdminError) in
            try VoucherLifecycle.approveRefund(&certificate, at: time, refunding: refunding)
        }
    }

    /// Rejects the pending refund request: `status` 5 (refund failed), the certificate usable
    /// again. Throws `not_found` or `conflict`.
    @discardableResult
    package func rejectRefund(certificateID: String) throws(SandboxAdminError) -> Certificate {
        catchUp()
        return try act(certificateID, at: now) { certificate, time, _ throws(SandboxAdminError) in
            try VoucherLifecycle.rejectRefund(&certificate, at: time)
        }
    }

    /// Makes a certificate expire now. Throws `not_found` or `conflict`.
    @discardableResult
    package func expire(certificateID: String) throws(SandboxAdminError) -> Certificate {
        catchUp()
        return try act(certificateID, at: now) { certificate, time, _ throws(SandboxAdminError) in
            try VoucherLifecycle.expire(&certificate, at: time)
        }
    }

    func act(
        _ certificateID: String, at time: Int64,
        _ change: (inout SandboxCertificate, Int64, isolated DouyinSandbox) throws(SandboxAdminError) -> Void
    ) throws(SandboxAdminError) -> Certificate {
        guard let id = UInt64(certificateID), var certificate = certificates[id] else {
            throw .notFound("no certificate \(certificateID)", field: "certificate_id")
        }
        let before = certificate
        try change(&certificate, time, self)
        certificate.revision += 1
        certificates[id] = certificate
        recordPush(from: before, to: certificate, at: time)
        ledger.recordChange(from: before, to: certificate, at: time)
        return certificate.rendered(at: now)
    }

    // MARK: Faults, tokens, log, reset

    /// The current fault profile.
    package func faultProfile() -> FaultProfile { faults.profile }

    /// Replaces the fault profile (restarting its draws and every QPS bucket, the list APIs'
    /// included). Throws `invalid_argument`.
    package func setFaultProfile(_ profile: FaultProfile) throws(SandboxAdminError) {
        try profile.validate()
        faults = FaultInjector(profile: profile, seed: configuration.seed, listQuotas: configuration.listQuotas)
    }

    /// Queues a one-shot fault for the next `count` matching requests. Throws `invalid_argument`.
    package func enqueueFault(_ fault: QueuedFault) throws(SandboxAdminError) {
        try fault.rule.validate(field: "")
        guard (1...10_000).contains(fault.count) else { throw .invalid("count", "count must be 1…10000") }
        faults.enqueue(fault)
    }

    /// One-shot faults not yet used.
    package func pendingFaults() -> [QueuedFault] { faults.pending }

    /// Makes every issued token expired now (clients see 2190008 and must fetch a new one).
    package func expireAllTokens() {
        tokens.expireAll(at: now)
    }

    /// Requests to the Douyin-facing endpoints with `sequence > since`, oldest first.
    package func requests(since: Int = 0, limit: Int = 1_000) -> [RequestLogEntry] {
        log.entries(since: since, limit: max(0, limit))
    }

    /// What the scenario did so far: applied steps (with refusals) and how many remain.
    package func scenarioStatus() -> (name: String?, start: Int64, applied: [ScenarioStepResult], remaining: Int) {
        catchUp()
        let total = configuration.scenario?.steps.count ?? 0
        return (configuration.scenario?.name, scenarioStart, scenarioResults, total - nextStep)
    }

    /// Forgets every order, token, request, verification history and scenario step, restores the
    /// configured fault profile, scopes and authorizations (every account authorized again) and
    /// re-seeds, then restarts the scenario at the current sandbox time. The clock keeps running.
    package func reset() {
        rng = SeededGenerator(seed: configuration.seed)
        tokens = TokenStore(
            lifetime: configuration.tokenLifetime, grace: configuration.tokenGracePeriod, seed: configuration.seed &+ sequence)
        faults = FaultInjector(profile: configuration.faults, seed: configuration.seed, listQuotas: configuration.listQuotas)
        log = RequestLog(capacity: configuration.requestLogCapacity)
        ledger = SandboxLedger(seed: configuration.seed, feedFidelity: configuration.feedFidelity)
        access = SandboxAccess(revokedScopes: configuration.revokedScopes)
        certificates = [:]
        orders = [:]
        orderList = []
        labels = [:]
        orderLabels = [:]
        byEncryptedCode = [:]
        usedCodes = []
        encodedCertificates = [:]
        sequence = 0
        scenarioStart = now
        nextStep = 0
        scenarioResults = []
    }

    // MARK: Scenario

    /// Applies every scenario step that is due, each at its scheduled time.
    func catchUp() {
        guard let steps = configuration.scenario?.steps else { return }
        let current = now
        while nextStep < steps.count, scenarioStart + steps[nextStep].at.seconds <= current {
            let step = steps[nextStep]
            let time = scenarioStart + step.at.seconds
            scenarioResults.append(apply(step, index: nextStep, at: time))
            nextStep += 1
        }
    }

    private func apply(_ step: ScenarioStep, index: Int, at time: Int64) -> ScenarioStepResult {
        var result = ScenarioStepResult(index: index, time: time, action: "", error: nil)
        do throws(SandboxAdminError) {
            if let create = step.create {
                result.action = "create \(create.order)"
                _ = try makeOrder(create.orderSpec, label: create.order, at: time)
            } else if let faults = step.faults {
                result.action = "faults \(faults)"
                try setFaultProfile(
                    faults == ScenarioStep.configuredFaults ? configuration.faults : FaultProfile.builtins[faults] ?? .none)
            } else if let (name, target) = step.target {
                let number = target.certificate ?? 1
                result.action = "\(name.rawValue) \(target.order)#\(number)"
                guard let orderID = labels[target.order], let ids = orders[orderID], ids.indices.contains(number - 1) else {
                    throw .notFound("no certificate \(target.order)#\(number)")
                }
                let id = String(ids[number - 1])
                _ = try act(id, at: time) { certificate, time, sandbox throws(SandboxAdminError) in
                    switch name {
                    case .verify, .use:
                        try sandbox.verify(&certificate, at: time, poiID: target.poiID, channel: target.verifyType?.channel ?? .qrScan)
                    case .cancel: try VoucherLifecycle.cancel(&certificate, verifyID: nil, at: time)
                    case .refund: try VoucherLifecycle.refund(&certificate, at: time)
                    case .requestRefund: try VoucherLifecycle.requestRefund(&certificate, at: time)
                    case .approveRefund:
                        try VoucherLifecycle.approveRefund(
                            &certificate, at: time, refunding: target.refunding?.seconds ?? VoucherLifecycle.defaultRefunding)
                    case .rejectRefund: try VoucherLifecycle.rejectRefund(&certificate, at: time)
                    case .expire: try VoucherLifecycle.expire(&certificate, at: time)
                    }
                }
            }
        } catch {
            result.error = error.message
        }
        return result
    }
}
