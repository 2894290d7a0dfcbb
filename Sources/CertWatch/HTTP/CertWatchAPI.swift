import CertWatchCore
import DouyinOpenAPI
import Hummingbird
import Logging
import Prometheus

/// certwatch's HTTP API (JSON under `/v1`, bearer-token auth) plus `/metrics`, `/healthz`,
/// `/readyz` and `/openapi.yaml`. The routes are documented in `docs/openapi.yaml`.
package struct CertWatchAPI: Sendable {
    /// The store.
    package var store: any CertWatchStorage
    /// The clock (registration times, first polls).
    package var clock: any WallClock
    /// The poll policy (first poll after registration).
    package var policy: PollPolicy
    /// Accepted bearer keys.
    package var apiKeys: [String]
    /// Largest request body, bytes (default 1 MiB).
    package var bodyLimit: Int
    /// Wakes event streams when the watcher commits.
    package var bus: EventBus
    /// The Prometheus registry rendered at `/metrics`.
    package var registry: PrometheusCollectorRegistry
    /// The watcher, when running in this process (QPS gauges).
    package var watcher: Watcher?
    /// Seconds between SSE heartbeat comments (default 15).
    package var heartbeat: Double
    /// The OpenAPI document served at `/openapi.yaml`.
    package var openAPIDocument: String?
    /// Douyin push intake at `/douyin/webhook`, when enabled.
    package var push: DouyinPushIntake?
    /// The dispatcher whose outbox `/v1/deliveries` shows (absent: those routes are not served).
    package var dispatcher: Dispatcher?
    /// The rules in effect, for `POST /v1/sinks/{name}/backfill` and the console's backfill (absent: not served).
    package var outbox: Outbox?
    /// The operator console's settings (absent or not enabled: `/console/` is not served).
    package var console: ConsoleConfiguration?
    /// The list APIs' quota buckets, for `/metrics` (``AccountMonitor/orderBudget``, ``AccountMonitor/verifyRecordBudget``).
    package var listBudgets: [DouyinAPIKind: QPSBudget] = [:]
    /// Called after `/v1/accounts` saved or removed an account (``AccountMonitor/accountsChanged()``).
    package var accountsChanged: @Sendable () -> Void
    /// The console's sessions (signing key made once per API).
    let consoleSessions: ConsoleSessions

    /// An API over `store` answering requests bearing one of `apiKeys`; the optional parts
    /// (watcher, push intake, dispatcher, outbox, console) add their gauges and routes when given.
    package init(
        store: any CertWatchStorage, clock: any WallClock = SystemWallClock(), policy: PollPolicy = PollPolicy(), apiKeys: [String],
        bodyLimit: Int = 1 << 20, bus: EventBus = EventBus(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        watcher: Watcher? = nil, heartbeat: Double = 15, openAPIDocument: String? = nil, push: DouyinPushIntake? = nil,
        dispatcher: Dispatcher? = nil, outbox: Outbox? = nil, console: ConsoleConfiguration? = nil,
        accountsChanged: @escaping @Sendable () -> Void = {}
    ) {
        self.accountsChanged = accountsChanged
        self.outbox = outbox
        self.console = console
        self.consoleSessions = ConsoleSessions(
            apiKeys: apiKeys, secret: console?.sessionSecret, lifetime: console?.sessionLifetime ?? ConsoleConfiguration().sessionLifetime)
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

    /// The router with every route: one route collection per area (operations, push, watches,
    /// events, deliveries, sinks), `/v1` behind ``BearerAuthMiddleware``, every error answered with
    /// the JSON error envelope (``APIErrorMiddleware``), and the operator console at `/console/`
    /// (HTML, its own sign-in; ``OperatorConsole``) when enabled; a method a known path does not take is 405
    /// with `Allow` (``MethodNotAllowedMiddleware``), an unknown path 404.
    package func makeRouter() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.addRoutes(
            OperationsAPI(
                store: store, watcher: watcher, dispatcher: dispatcher, registry: registry, openAPIDocument: openAPIDocument,
                listBudgets: listBudgets
            ).routes)
        if let push { router.addRoutes(push.routes(bodyLimit: bodyLimit), atPath: "douyin/webhook") }
        let v1 = router.group("v1").add(middleware: BearerAuthMiddleware(keys: apiKeys))
        let events = EventsAPI(store: store, bus: bus, heartbeat: heartbeat)
        v1.addRoutes(WatchesAPI(store: store, clock: clock, policy: policy, bodyLimit: bodyLimit).routes, atPath: "watches")
        v1.addRoutes(events.routes, atPath: "events")
        v1.addRoutes(
            AccountsAPI(store: store, clock: clock, bodyLimit: bodyLimit, onChange: accountsChanged).routes, atPath: "accounts")
        if let dispatcher {
            let wake: @Sendable () -> Void = { dispatcher.wakeUp() }
            v1.addRoutes(DeliveriesAPI(deliveries: store, clock: clock, wake: wake).routes, atPath: "deliveries")
            v1.addRoutes(
                SinksAPI(
                    deliveries: store, names: Set(dispatcher.sinks.keys), clock: clock, wake: wake, outbox: outbox,
                    bodyLimit: bodyLimit
                ).routes, atPath: "sinks")
        }
        if let console, console.enabled {
            router.addRoutes(
                OperatorConsole(
                    store: store, clock: clock, sessions: consoleSessions, configuration: console, dispatcher: dispatcher, outbox: outbox,
                    watcher: watcher, events: events, logger: Logger(label: "certwatch.console")
                ).routes, atPath: "console")
        }
        // Last: it wraps only the router's not-found responder, and must see every route.
        router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
        return router
    }

    /// ``makeRouter()``'s responder, with `HEAD` answered as `GET` without the body: what `serve` runs.
    package func makeResponder() -> some HTTPResponder<APIRequestContext> {
        HEADResponder(base: makeRouter().buildResponder())
    }
}
