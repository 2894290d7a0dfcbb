import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import Prometheus
import ServiceLifecycle

/// certwatch's HTTP API (JSON under `/v1`, bearer-token auth) plus `/metrics`, `/healthz`,
/// `/readyz` and `/openapi.yaml`. The routes are documented in `docs/openapi.yaml`.
public struct CertWatchAPI: Sendable {
    /// The store.
    public var store: Store
    /// The clock (registration times, first polls).
    public var clock: any WallClock
    /// The poll policy (first poll after registration).
    public var policy: PollPolicy
    /// Accepted bearer keys.
    public var apiKeys: [String]
    /// Largest request body, bytes (default 1 MiB).
    public var bodyLimit: Int
    /// Wakes event streams when the watcher commits.
    public var bus: EventBus
    /// The Prometheus registry rendered at `/metrics`.
    public var registry: PrometheusCollectorRegistry
    /// The watcher, when running in this process (QPS gauges).
    public var watcher: Watcher?
    /// Seconds between SSE heartbeat comments (default 15).
    public var heartbeat: Double
    /// The OpenAPI document served at `/openapi.yaml`.
    public var openAPIDocument: String?
    /// Douyin push intake at `/douyin/webhook`, when enabled.
    public var push: DouyinPushIntake?
    /// The dispatcher whose outbox `/v1/deliveries` shows (absent: those routes are not served).
    public var dispatcher: Dispatcher?

    public init(
        store: Store, clock: any WallClock = SystemWallClock(), policy: PollPolicy = PollPolicy(), apiKeys: [String],
        bodyLimit: Int = 1 << 20, bus: EventBus = EventBus(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        watcher: Watcher? = nil, heartbeat: Double = 15, openAPIDocument: String? = nil, push: DouyinPushIntake? = nil,
        dispatcher: Dispatcher? = nil
    ) {
        self.push = push
        self.dispatcher = dispatcher
        self.store = store
        self.clock = clock
        self.policy = policy
        self.apiKeys = apiKeys
        self.bodyLimit = bodyLimit
        self.bus = bus
        self.registry = registry
        self.watcher = watcher
        self.heartbeat = heartbeat
        self.openAPIDocument = openAPIDocument
    }

    /// The router with every route.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in jsonResponse(["status": "ok"]) }
        router.get("readyz") { _, _ in await self.readiness() }
        router.get("metrics") { _, _ in await self.metrics() }
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: self.openAPIDocument ?? "")))
        }
        push?.install(on: router, bodyLimit: bodyLimit)
        let v1 = router.group("v1").add(middleware: BearerAuthMiddleware(keys: apiKeys))
        v1.post("watches") { request, _ in await respond { try await self.register(request) } }
        v1.post("watches/batch") { request, _ in await respond { try await self.registerBatch(request) } }
        v1.get("watches") { request, _ in await respond { try await self.listWatches(request) } }
        v1.get("watches/{id}") { _, context in await respond { try await self.showWatch(context.parameters.get("id") ?? "") } }
        v1.delete("watches/{id}") { _, context in
            await respond { try await self.removeWatch(context.parameters.get("id") ?? "") }
        }
        v1.post("watches/{id}/poll") { _, context in await respond { try await self.pollWatch(context.parameters.get("id") ?? "") } }
        v1.get("events") { request, _ in await respond { try await self.listEvents(request) } }
        v1.get("events/stream") { request, _ in await respond { try await self.stream(request) } }
        if let dispatcher {
            DeliveriesAPI(deliveries: dispatcher.deliveries, clock: clock, wake: { dispatcher.wakeUp() }).install(on: v1)
        }
        return router
    }

    // MARK: Watches

    /// A watch with its certificates' current state (personal data masked).
    struct WatchDetail: Encodable {
        var watch: Watch
        var certificates: [CertificateSnapshot]?
    }

    func register(_ request: Request) async throws -> Response {
        let registration = try await decodeBody(WatchRegistration.self, request, limit: bodyLimit)
        let now = clock.unixNow
        let (watch, created) = try await store.register(registration, now: now, firstPollAt: policy.firstPoll(now: now))
        return jsonResponse(WatchDetail(watch: watch), status: created ? 201 : 200)
    }

    struct BatchRequest: Decodable { var items: [JSONValue] }
    struct BatchResult: Encodable {
        var index: Int
        var status: Int
        var watch: Watch?
        var error: APIError?
    }

    func registerBatch(_ request: Request) async throws -> Response {
        let batch = try decodeJSON(BatchRequest.self, try await readBody(request, limit: bodyLimit))
        guard batch.items.count <= 1_000 else {
            throw APIError.invalid("at most 1000 items per batch, got \(batch.items.count)", field: "items")
        }
        var registrations: [(index: Int, registration: WatchRegistration)] = []
        var results: [BatchResult] = []
        for (index, item) in batch.items.enumerated() {
            do {
                registrations.append((index, try DouyinJSON.decode(WatchRegistration.self, from: item)))
            } catch {
                results.append(
                    BatchResult(index: index, status: 422, error: .invalid(error.message, field: "items[\(index)]" + (error.path.isEmpty ? "" : ".\(error.path)"))))
            }
        }
        let now = clock.unixNow
        let outcomes = try await store.registerMany(
            registrations.map(\.registration), now: now, firstPollAt: policy.firstPoll(now: now))
        for (item, outcome) in zip(registrations, outcomes) {
            switch outcome {
            case .success(let result):
                results.append(BatchResult(index: item.index, status: result.created ? 201 : 200, watch: result.watch))
            case .failure(let error):
                results.append(
                    BatchResult(index: item.index, status: 422, error: .invalid(error.message, field: "items[\(item.index)].\(error.field ?? "")")))
            }
        }
        struct Body: Encodable { var results: [BatchResult] }
        return jsonResponse(Body(results: results.sorted { $0.index < $1.index }))
    }

    func listWatches(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        var state: Watch.State?
        if let text = query["state"].map(String.init) {
            guard let parsed = Watch.State(rawValue: text) else {
                throw APIError.invalid("state must be active, stalled, done, failed or removed", field: "state")
            }
            state = parsed
        }
        var labels: [String: String] = [:]
        for pair in query.getAll("label") {
            let parts = pair.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw APIError.invalid("label filters are key:value", field: "label") }
            labels[parts[0]] = parts[1]
        }
        let limit = try limitParameter(request, default: 100, maximum: 1_000)
        let watches = try await store.watches(
            state: state, labels: labels, after: query["cursor"].map(String.init), limit: limit)
        struct Page: Encodable {
            var watches: [Watch]
            var nextCursor: String?
            enum CodingKeys: String, CodingKey { case watches, nextCursor = "next_cursor" }
        }
        return jsonResponse(Page(watches: watches, nextCursor: watches.count == limit ? watches.last?.id : nil))
    }

    func showWatch(_ id: String) async throws -> Response {
        guard let watch = try await store.watch(id: id) else { throw APIError.notFound("no watch \(id)") }
        let certificates = try await store.snapshots(watchID: id).values.map { $0.masked() }
            .sorted { $0.certificateID < $1.certificateID }
        return jsonResponse(WatchDetail(watch: watch, certificates: certificates))
    }

    func removeWatch(_ id: String) async throws -> Response {
        guard try await store.remove(id: id, now: clock.unixNow), let watch = try await store.watch(id: id) else {
            throw APIError.notFound("no watch \(id)")
        }
        return jsonResponse(WatchDetail(watch: watch))
    }

    func pollWatch(_ id: String) async throws -> Response {
        guard let watch = try await store.watch(id: id) else { throw APIError.notFound("no watch \(id)") }
        guard watch.isPolled, try await store.pollSoon(id: id, at: clock.unixNow) else {
            throw APIError(409, "conflict", "watch \(id) is \(watch.state.rawValue); only active and stalled watches are polled")
        }
        return jsonResponse(WatchDetail(watch: try await store.watch(id: id) ?? watch), status: 202)
    }

    // MARK: Events

    func listEvents(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let after = try integerParameter(request, "after") ?? 0
        var type: EventType?
        if let text = query["type"].map(String.init) {
            guard let parsed = EventType(rawValue: text) else { throw APIError.invalid("unknown event type \(text)", field: "type") }
            type = parsed
        }
        let limit = try limitParameter(request, default: 100, maximum: 1_000)
        let events = try await store.events(
            after: after, type: type, orderID: query["order_id"].map(String.init), limit: limit)
        struct Page: Encodable {
            var events: [CertWatchEvent]
            var nextAfter: Int64
            enum CodingKeys: String, CodingKey { case events, nextAfter = "next_after" }
        }
        return jsonResponse(Page(events: events, nextAfter: events.last?.sequence ?? after))
    }

    /// `GET /v1/events/stream`: Server-Sent Events, `id:` = sequence. Resumes after `Last-Event-ID`
    /// or `?after=`; without either, starts at the newest event. Heartbeat comments every
    /// ``heartbeat`` seconds. Events come from the store, so a reconnect neither misses nor repeats one.
    /// The stream ends when the server shuts down gracefully (the client reconnects with `Last-Event-ID`).
    func stream(_ request: Request) async throws -> Response {
        let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
        let start: Int64
        if let resume = try lastEventID ?? integerParameter(request, "after") {
            start = resume
        } else {
            start = try await store.lastSequence()
        }
        let store = self.store
        let bus = self.bus
        let heartbeat = self.heartbeat
        let body = ResponseBody { writer in
            var cursor = start
            let wakeups = bus.subscribe()
            try await writer.write(ByteBuffer(string: ": certwatch event stream, after \(start)\n\n"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(1))
                group.addTask {
                    for await _ in wakeups { tick.yield(false) }
                }
                group.addTask {
                    // Also look at the store every second: events may be appended by another process.
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        tick.yield(true)
                    }
                }
                var quiet = 0.0
                tick.yield(false)
                for await isTimer in ticks.cancelOnGracefulShutdown() {  // the server stops first at shutdown: end streams
                    while true {
                        let events = try await store.events(after: cursor, limit: 500)
                        for event in events {
                            let text = "id: \(event.sequence ?? 0)\nevent: \(event.type.rawValue)\ndata: \(String(decoding: event.jsonData(), as: UTF8.self))\n\n"
                            try await writer.write(ByteBuffer(string: text))
                            cursor = event.sequence ?? cursor
                            quiet = 0
                        }
                        if events.count < 500 { break }
                    }
                    if isTimer {
                        quiet += 1
                        if quiet >= heartbeat {
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                            quiet = 0
                        }
                    }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }

    // MARK: Operations

    func readiness() async -> Response {
        var checks: [String: String] = [:]
        do {
            try await store.pool.write { db in try db.execute(sql: "SELECT 1") }
            checks["database"] = "ok"
        } catch {
            checks["database"] = "not writable"
        }
        if let watcher {
            do {
                _ = try await watcher.client.tokens.token()
                checks["douyin_token"] = "ok"
            } catch let error as DouyinAPIError {
                checks["douyin_token"] = "unavailable: \(error.errorClass.rawValue) \(error.code.map(String.init) ?? error.httpStatus.map { "HTTP \($0)" } ?? "")"
            } catch {
                checks["douyin_token"] = "unavailable"
            }
        }
        let ready = checks.values.allSatisfy { $0 == "ok" }
        struct Body: Encodable {
            var status: String
            var checks: [String: String]
        }
        return jsonResponse(Body(status: ready ? "ready" : "not ready", checks: checks), status: ready ? 200 : 503)
    }

    func metrics() async -> Response {
        if let counts = try? await store.watchCounts() {
            for state in Watch.State.allCases {
                registry.makeGauge(name: "certwatch_watches", labels: [("state", state.rawValue)]).set(Int64(counts[state] ?? 0))
            }
        }
        if let counts = try? await dispatcher?.deliveries.counts() {
            for (sink, states) in counts {
                for state in DeliveryState.allCases {
                    registry.makeGauge(name: "certwatch_deliveries", labels: [("sink", sink), ("state", state.rawValue)])
                        .set(Int64(states[state] ?? 0))
                }
            }
        }
        if let watcher {
            let rates = await watcher.budget.rates
            registry.makeGauge(name: "certwatch_qps_budget").set(rates.configured)
            registry.makeGauge(name: "certwatch_qps_current").set(rates.current)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: registry.emitToString())))
    }

    // MARK: Parameters

    func integerParameter(_ request: Request, _ name: String) throws(APIError) -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIError.invalid("\(name) must be a non-negative integer", field: name)
        }
        return value
    }

    func limitParameter(_ request: Request, default value: Int, maximum: Int) throws(APIError) -> Int {
        guard let limit = try integerParameter(request, "limit") else { return value }
        guard (1...Int64(maximum)).contains(limit) else {
            throw APIError.invalid("limit must be between 1 and \(maximum)", field: "limit")
        }
        return Int(limit)
    }
}
