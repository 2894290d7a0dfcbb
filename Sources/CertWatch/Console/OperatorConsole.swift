import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The operator console at `/console/`: server-rendered HTML pages (Mustache) over the same store,
/// outbox and dispatcher as the JSON API, for people running certwatch.
///
/// - `GET /console/sign-in`, `POST /console/sign-in` (`api_key`), `POST /console/sign-out`: a
///   session in a signed, expiring cookie (``ConsoleSessions``): `HttpOnly`, `SameSite=Strict`,
///   `Path=/console`, `Secure` when the request came over HTTPS. Every other page needs it (a `GET`
///   without one is redirected to the sign-in page, 303); every `POST` carries the session's CSRF token.
/// - `GET /console/`: overview; `/console/watches` (search, paged) and `/console/watches/{id}`;
///   `/console/events` (filters; live through `/console/events/stream`, the event stream of
///   ``EventsAPI``); `/console/deliveries` and `/console/deliveries/{id}` (attempts; replay one,
///   replay a sink's dead letters, backfill); `/console/sinks` (enable, disable with a reason).
/// - `GET /console/assets/console.css|console.js|favicon.svg`: the one stylesheet, script and icon (served without a
///   session; `Content-Security-Policy` allows only these, from this origin).
struct OperatorConsole: Sendable {
    let store: any WatchRegistry & PollSchedule & EventLog & DeliveryQueue & DeliveryHistory
    let clock: any WallClock
    let sessions: ConsoleSessions
    let configuration: ConsoleConfiguration
    /// The outbox (deliveries, sinks, backfill); absent: those pages say so.
    let dispatcher: Dispatcher?
    /// The rules in effect (backfill).
    let outbox: Outbox?
    /// The watcher (poll budget, Douyin errors), when running in this process.
    let watcher: Watcher?
    /// The event stream the events page follows.
    let events: EventsAPI
    let logger: Logger

    /// Largest form body, bytes.
    static let formLimit = 16 * 1024
    /// Rows per page.
    static let pageSize = 50

    /// The routes, relative to `/console`.
    var routes: RouteCollection<APIRequestContext> {
        let templates = ConsoleTemplates.installed
        let routes = RouteCollection(context: APIRequestContext.self)
            .add(middleware: ConsoleErrorMiddleware(templates: templates, logger: logger))
        for name in ConsoleTemplates.assetTypes.keys.sorted() {
            routes.get("assets/\(name)") { _, _ in try Self.asset(templates, name) }
        }
        routes.get("sign-in", use: signInPage)
        routes.post("sign-in", use: signIn)
        routes.post("sign-out", use: signOut)
        routes.get(use: overview)
        routes.get("watches", use: watchList)
        routes.get("watches/{id}", use: watchDetail)
        routes.get("events", use: eventList)
        routes.get("events/stream", use: eventStream)
        routes.get("deliveries", use: deliveryList)
        routes.get("deliveries/{id}", use: deliveryDetail)
        routes.post("deliveries/{id}/replay", use: replay)
        routes.post("deliveries/replay-dead", use: replayDead)
        routes.post("deliveries/backfill", use: backfill)
        routes.get("sinks", use: sinkList)
        routes.post("sinks/{name}/enable", use: enableSink)
        routes.post("sinks/{name}/disable", use: disableSink)
        return routes
    }

    // MARK: Sessions

    /// The session of a request, or a redirect to the sign-in page (303, back to this page after).
    func session(_ request: Request) throws(ConsoleResponse) -> ConsoleSessions.Session {
        if let cookie = request.cookies[ConsoleSessions.cookieName]?.value,
            let session = sessions.session(cookie: cookie, now: clock.unixNow)
        {
            return session
        }
        let target = request.method == .get ? request.uri.path + (request.uri.query.map { "?" + $0 } ?? "") : "/console/"
        throw .redirect("/console/sign-in?next=" + Self.percentEncoded(target))
    }

    /// The session of a `POST` and its form, the form's CSRF token checked (403 when wrong or missing).
    func sessionAndForm<Form: Decodable>(_ request: Request, _ type: Form.Type) async throws -> (ConsoleSessions.Session, Form) {
        let session = try session(request)
        let body = try await readBody(request, limit: Self.formLimit)
        let text = String(decoding: body, as: UTF8.self)
        let token = (try? URLEncodedFormDecoder().decode(CSRFField.self, from: text))?.csrf ?? ""
        guard sessions.checkCSRF(token, session: session) else {
            throw ConsoleResponse.page(403, "This form has expired or came from another page: reload the page and try again. 表单已失效，请刷新页面。")
        }
        do {
            return (session, try URLEncodedFormDecoder().decode(Form.self, from: text))
        } catch {
            throw ConsoleResponse.page(400, "The form could not be read: \(error)")
        }
    }

    struct CSRFField: Decodable { var csrf: String? }

    /// Whether the session cookie must be `Secure`: configured so, or the request came over HTTPS
    /// (a proxy's `X-Forwarded-Proto: https`).
    func secure(_ request: Request) -> Bool {
        configuration.secureCookie || request.uri.scheme?.rawValue == "https"
            || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased().split(separator: ",").first?
                .trimmingCharacters(in: .whitespaces) == "https"
    }

    func cookie(_ name: String, _ value: String, maxAge: Int, _ request: Request) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/console", secure: secure(request), httpOnly: true, sameSite: .strict)
    }

    func chrome(_ session: ConsoleSessions.Session?, _ section: String, _ request: Request) -> ConsoleViews.Chrome {
        ConsoleViews.Chrome(
            signedIn: session != nil, csrf: session.map(sessions.csrfToken) ?? "", section: section,
            notice: request.uri.queryParameters["notice"].map { String($0.prefix(300)) })
    }

    struct SignInPage {
        var page: ConsoleViews.Chrome
        var signInToken: String
        var next: String
        var error: String?
        var noKeys: Bool
    }

    /// `GET /console/sign-in`: the form, with a fresh sign-in cookie its CSRF token is bound to.
    @Sendable func signInPage(_ request: Request, context: APIRequestContext) async throws -> Response {
        try renderSignIn(request, status: .ok, error: nil)
    }

    func renderSignIn(_ request: Request, status: HTTPResponse.Status, error: String?, next: String? = nil) throws -> Response {
        let nonce = ConsoleSessions.randomToken()
        let page = SignInPage(
            page: chrome(nil, "sign-in", request), signInToken: sessions.signInToken(nonce: nonce),
            next: Self.safeNext(next ?? request.uri.queryParameters["next"].map(String.init)), error: error,
            noKeys: !sessions.canSignIn)
        var response = try Self.html(try Self.templates().render("sign-in", page), status: status)
        response.setCookie(cookie(ConsoleSessions.signInCookieName, nonce, maxAge: 3_600, request))
        return response
    }

    struct SignInForm: Decodable {
        var apiKey: String?
        var signInToken: String?
        var next: String?
        enum CodingKeys: String, CodingKey { case apiKey = "api_key", signInToken = "sign_in_token", next }
    }

    /// `POST /console/sign-in`: the key checked as `/v1` checks bearer keys; a session cookie and a
    /// 303 to `next` (a console page) when it is one of `http.api_keys`, else 401 with the form; 429
    /// with `Retry-After` while the client's address has had too many wrong keys (``SignInThrottle``).
    @Sendable func signIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await readBody(request, limit: Self.formLimit)
        let form: SignInForm
        do {
            form = try URLEncodedFormDecoder().decode(SignInForm.self, from: String(decoding: body, as: UTF8.self))
        } catch {
            throw ConsoleResponse.page(400, "The sign-in form could not be read.")
        }
        guard let nonce = request.cookies[ConsoleSessions.signInCookieName]?.value,
            sessions.checkSignInToken(form.signInToken ?? "", nonce: nonce)
        else {
            return try renderSignIn(
                request, status: .forbidden, error: "The sign-in form expired (or cookies are blocked): try again. 表单已失效，请重试。",
                next: form.next)
        }
        let address = context.remoteAddress
        if let wait = sessions.signInRetryAfter(address: address, now: clock.unixNow) {
            var response = try renderSignIn(
                request, status: .tooManyRequests,
                error: "Too many wrong API keys from this address: try again in \(wait) s. 错误次数过多，请 \(wait) 秒后重试。",
                next: form.next)
            response.headers[.retryAfter] = String(wait)
            return response
        }
        guard let (_, value) = sessions.signIn(apiKey: form.apiKey ?? "", now: clock.unixNow, address: address) else {
            logger.notice("console sign-in refused: wrong API key", metadata: ["address": "\(address)"])
            return try renderSignIn(
                request, status: .unauthorized, error: "Wrong API key (one of http.api_keys). API 密钥错误。", next: form.next)
        }
        var response = Self.redirect(Self.safeNext(form.next))
        response.setCookie(cookie(ConsoleSessions.cookieName, value, maxAge: Int(sessions.lifetime), request))
        response.setCookie(cookie(ConsoleSessions.signInCookieName, "", maxAge: 0, request))
        return response
    }

    struct EmptyForm: Decodable {}

    /// `POST /console/sign-out`: the session revoked, the cookie cleared, 303 to the sign-in page.
    @Sendable func signOut(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (session, _) = try await sessionAndForm(request, EmptyForm.self)
        sessions.signOut(session, now: clock.unixNow)
        var response = Self.redirect("/console/sign-in?notice=" + Self.percentEncoded("Signed out. 已退出。"))
        response.setCookie(cookie(ConsoleSessions.cookieName, "", maxAge: 0, request))
        return response
    }

    // MARK: Overview

    struct OverviewPage {
        var page: ConsoleViews.Chrome
        var watchStates: [ConsoleViews.Count]
        var watchTotal: Int
        var hours: [ConsoleViews.Hour]
        var eventsLastDay: Int
        var sinks: [ConsoleViews.SinkRow]
        var deadLetters: [ConsoleViews.DeliveryRow]
        var budget: Budget?
        var errors: [ConsoleViews.ErrorRow]
        var stalled: [ConsoleViews.WatchRow]
    }

    struct Budget {
        var configured: String
        var current: String
        var used: String
        var percent: Int
        var slowedDown: Bool
    }

    @Sendable func overview(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        let now = clock.unixNow
        let counts = try await store.watchCounts()
        let hourStart = (now / 3_600) * 3_600
        let byHour = try await store.eventCountsByHour(since: hourStart - 23 * 3_600)
        let peak = max(byHour.values.max() ?? 0, 1)
        let hours = (0..<24).map { index -> ConsoleViews.Hour in
            let start = hourStart - Int64(23 - index) * 3_600
            return ConsoleViews.Hour(label: String(ConsoleViews.time(start).dropFirst(11).prefix(5)), count: byHour[start] ?? 0, max: peak)
        }
        var budget: Budget?
        var errors: [ConsoleViews.ErrorRow] = []
        if let watcher {
            let rates = await watcher.budget.rates
            let used = watcher.activity.queryRate(now: now)
            budget = Budget(
                configured: Self.rate(rates.configured), current: Self.rate(rates.current), used: Self.rate(used),
                percent: rates.current > 0 ? min(100, Int((used / rates.current * 100).rounded())) : 0,
                slowedDown: rates.current < rates.configured)
            errors = watcher.activity.errors.prefix(20).map { entry in
                ConsoleViews.ErrorRow(
                    code: entry.code, errorClass: entry.errorClass, count: entry.count, last: ConsoleViews.time(entry.lastAt),
                    logid: entry.lastLogid, watchID: entry.lastWatchID, message: entry.lastMessage)
            }
        }
        let page = OverviewPage(
            page: chrome(session, "overview", request),
            watchStates: Watch.State.allCases.map { ConsoleViews.Count(label: ConsoleViews.label($0), value: counts[$0] ?? 0, key: $0.rawValue) },
            watchTotal: counts.values.reduce(0, +), hours: hours, eventsLastDay: byHour.values.reduce(0, +),
            sinks: try await sinkRows(), deadLetters: try await store.deliveries(state: .dead, sink: nil, before: nil, limit: 10).map(ConsoleViews.DeliveryRow.init),
            budget: budget, errors: errors,
            stalled: try await store.watches(state: .stalled, labels: [:], after: nil, limit: 20).map(ConsoleViews.WatchRow.init))
        return try Self.html(try Self.templates().render("overview", page))
    }

    static func rate(_ value: Double) -> String { String(format: "%.2f/s", value) }

    // MARK: Watches

    struct WatchListPage {
        var page: ConsoleViews.Chrome
        var query: String
        var states: [ConsoleViews.Option]
        var watches: [ConsoleViews.WatchRow]
        var nextCursor: String?
        var nextQuery: String?
        var searched: Bool
    }

    /// `GET /console/watches?q=&state=&cursor=`: `q` is an order id, a certificate id, an encrypted
    /// code or a watch id (exact), or a label `key:value` / `key=value` (paged by watch id).
    @Sendable func watchList(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        let query = request.uri.queryParameters
        let text = (query["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let stateText = query["state"].map(String.init) ?? ""
        let state = Watch.State(rawValue: stateText)
        if !stateText.isEmpty, state == nil { throw ConsoleResponse.page(400, "Unknown watch state \(stateText).") }
        let cursor = query["cursor"].map(String.init).flatMap { Watch.isID($0) ? $0 : nil }
        var watches: [Watch]
        var nextCursor: String?
        if !text.isEmpty, let (key, value) = Watch.labelPair(text) {
            watches = try await store.watches(state: state, labels: [key: value], after: cursor, limit: Self.pageSize)
            nextCursor = watches.count == Self.pageSize ? watches.last?.id : nil
        } else if !text.isEmpty {
            watches = try await store.watches(matching: String(text.prefix(128)))
            if let state { watches = watches.filter { $0.state == state } }
        } else {
            watches = try await store.watches(state: state, labels: [:], after: cursor, limit: Self.pageSize)
            nextCursor = watches.count == Self.pageSize ? watches.last?.id : nil
        }
        let next = nextCursor.map { cursor in
            "q=\(Self.percentEncoded(text))&state=\(Self.percentEncoded(stateText))&cursor=\(cursor)"
        }
        let page = WatchListPage(
            page: chrome(session, "watches", request), query: text,
            states: [ConsoleViews.Option(value: "", label: "全部 all", selected: state == nil)]
                + Watch.State.allCases.map { ConsoleViews.Option(value: $0.rawValue, label: ConsoleViews.label($0), selected: $0 == state) },
            watches: watches.map(ConsoleViews.WatchRow.init), nextCursor: nextCursor, nextQuery: next, searched: !text.isEmpty)
        return try Self.html(try Self.templates().render("watches", page))
    }

    struct WatchPage {
        var page: ConsoleViews.Chrome
        var watch: ConsoleViews.WatchRow
        var certificates: [ConsoleViews.CertificateRow]
        var timeline: [ConsoleViews.EventRow]
        var polled: Bool
    }

    /// `GET /console/watches/{id}`: the watch, its certificates with their derived state, and its
    /// timeline (newest first, the last 200 events) with each event's deliveries.
    @Sendable func watchDetail(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        let id = context.parameters.get("id") ?? ""
        guard Watch.isID(id), let watch = try await store.watch(id: id) else { throw ConsoleResponse.page(404, "No watch \(id).") }
        let now = clock.unixNow
        let certificates = try await store.snapshots(watchID: id).values.map { $0.masked() }.sorted { $0.certificateID < $1.certificateID }
        let events = try await store.eventsNewestFirst(before: nil, type: nil, orderID: watch.orderID, watchID: watch.id, limit: 200)
        let deliveries = Dictionary(grouping: try await store.deliveries(eventIDs: events.map(\.id)), by: \.eventID)
        let page = WatchPage(
            page: chrome(session, "watches", request), watch: ConsoleViews.WatchRow(watch),
            certificates: certificates.map { ConsoleViews.CertificateRow($0, now: now) },
            timeline: events.map { ConsoleViews.EventRow($0, deliveries: deliveries[$0.id] ?? []) }, polled: watch.isPolled)
        return try Self.html(try Self.templates().render("watch", page))
    }

    // MARK: Events

    struct EventListPage {
        var page: ConsoleViews.Chrome
        var types: [ConsoleViews.Option]
        var orderID: String
        var type: String
        var events: [ConsoleViews.EventRow]
        var olderQuery: String?
        var streamAfter: Int64
        var allTypes: String
        var live: Bool
    }

    /// `GET /console/events?type=&order_id=&before=`: newest first; the script adds new ones live
    /// (when no `before` page is shown).
    @Sendable func eventList(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        let query = request.uri.queryParameters
        let typeText = query["type"].map(String.init) ?? ""
        let type = EventType(rawValue: typeText)
        if !typeText.isEmpty, type == nil { throw ConsoleResponse.page(400, "Unknown event type \(typeText).") }
        let orderID = (query["order_id"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        if !orderID.isEmpty, !WatchRegistration.isDouyinID(orderID) {
            throw ConsoleResponse.page(400, "Order ids are 1–\(WatchRegistration.maximumIDDigits) digits: \(orderID.prefix(64)) is not one.")
        }
        let before = query["before"].flatMap { Int64($0) }
        // The live stream starts after the newest event read here: none is missed or shown twice.
        let newest = before == nil ? try await store.lastSequence() : nil
        let events = try await store.eventsNewestFirst(
            before: before ?? newest.map { $0 + 1 }, type: type, orderID: orderID.isEmpty ? nil : orderID, watchID: nil,
            limit: Self.pageSize)
        let deliveries = Dictionary(grouping: try await store.deliveries(eventIDs: events.map(\.id)), by: \.eventID)
        let older = events.count == Self.pageSize ? events.last?.sequence.map {
            "type=\(Self.percentEncoded(typeText))&order_id=\(Self.percentEncoded(orderID))&before=\($0)"
        } : nil
        let page = EventListPage(
            page: chrome(session, "events", request),
            types: [ConsoleViews.Option(value: "", label: "全部 all", selected: type == nil)]
                + EventType.allCases.map { ConsoleViews.Option(value: $0.rawValue, label: ConsoleViews.label($0), selected: $0 == type) },
            orderID: orderID, type: typeText, events: events.map { ConsoleViews.EventRow($0, deliveries: deliveries[$0.id] ?? []) },
            olderQuery: older, streamAfter: newest ?? 0,
            allTypes: EventType.allCases.map(\.rawValue).joined(separator: " "), live: before == nil)
        return try Self.html(try Self.templates().render("events", page))
    }

    /// `GET /console/events/stream`: the API's Server-Sent Events stream (``EventsAPI/stream(_:context:)``) for a session.
    @Sendable func eventStream(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try session(request)
        return try await events.stream(request, context: context)
    }

    // MARK: Deliveries

    struct DeliveryListPage {
        var page: ConsoleViews.Chrome
        var available: Bool
        var sinks: [ConsoleViews.Option]
        var sinkNames: [ConsoleViews.Option]
        var states: [ConsoleViews.Option]
        var types: [ConsoleViews.Option]
        var deliveries: [ConsoleViews.DeliveryRow]
        var olderQuery: String?
        var backfill: BackfillReport?
        var backfillSummary: String?
    }

    /// `GET /console/deliveries?sink=&state=&before=`: newest first, with the replay-dead and backfill forms.
    @Sendable func deliveryList(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        return try await renderDeliveries(request, session: session, backfill: nil)
    }

    func renderDeliveries(_ request: Request, session: ConsoleSessions.Session, backfill: BackfillReport?) async throws -> Response {
        let query = request.uri.queryParameters
        let sinkText = query["sink"].map(String.init) ?? ""
        let stateText = query["state"].map(String.init) ?? ""
        let state = DeliveryState(rawValue: stateText)
        if !stateText.isEmpty, state == nil { throw ConsoleResponse.page(400, "Unknown delivery state \(stateText).") }
        let before = query["before"].flatMap { Int64($0) }
        let rows = try await store.deliveries(
            state: state, sink: sinkText.isEmpty ? nil : String(sinkText.prefix(128)), before: before, limit: Self.pageSize)
        let names = sinkNames
        let older = rows.count == Self.pageSize ? rows.last.map {
            "sink=\(Self.percentEncoded(sinkText))&state=\(Self.percentEncoded(stateText))&before=\($0.id)"
        } : nil
        let page = DeliveryListPage(
            page: chrome(session, "deliveries", request), available: dispatcher != nil,
            sinks: [ConsoleViews.Option(value: "", label: "全部 all", selected: sinkText.isEmpty)]
                + names.map { ConsoleViews.Option(value: $0, label: $0, selected: $0 == sinkText) },
            sinkNames: names.map { ConsoleViews.Option(value: $0, label: $0, selected: $0 == sinkText) },
            states: [ConsoleViews.Option(value: "", label: "全部 all", selected: state == nil)]
                + DeliveryState.allCases.map { ConsoleViews.Option(value: $0.rawValue, label: ConsoleViews.label($0), selected: $0 == state) },
            types: [ConsoleViews.Option(value: "", label: "全部 all", selected: true)]
                + EventType.allCases.map { ConsoleViews.Option(value: $0.rawValue, label: ConsoleViews.label($0), selected: false) },
            deliveries: rows.map(ConsoleViews.DeliveryRow.init), olderQuery: older, backfill: backfill,
            backfillSummary: backfill?.summary)
        return try Self.html(try Self.templates().render("deliveries", page))
    }

    var sinkNames: [String] { (dispatcher?.sinks.keys).map { $0.sorted() } ?? [] }

    struct DeliveryPage {
        var page: ConsoleViews.Chrome
        var delivery: ConsoleViews.DeliveryRow
        var attempts: [ConsoleViews.AttemptRow]
        var event: ConsoleViews.EventRow?
        var open: Bool
    }

    /// `GET /console/deliveries/{id}`: one delivery with every attempt and a replay button.
    @Sendable func deliveryDetail(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), let delivery = try await store.delivery(id: id) else {
            throw ConsoleResponse.page(404, "No delivery \(text).")
        }
        let attempts = try await store.deliveryAttempts(deliveryID: id)
        let event = try await store.eventsNewestFirst(
            before: delivery.eventSequence + 1, type: nil, orderID: nil, watchID: nil, limit: 1
        ).first.flatMap { $0.id == delivery.eventID ? $0 : nil }
        let page = DeliveryPage(
            page: chrome(session, "deliveries", request), delivery: ConsoleViews.DeliveryRow(delivery),
            attempts: attempts.map(ConsoleViews.AttemptRow.init), event: event.map { ConsoleViews.EventRow($0) },
            open: delivery.state.isOpen)
        return try Self.html(try Self.templates().render("delivery", page))
    }

    /// `POST /console/deliveries/{id}/replay`: ``DeliveryQueue/replayDelivery(id:now:)`` (as the API's
    /// replay), then back to the delivery.
    @Sendable func replay(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try await sessionAndForm(request, EmptyForm.self)
        let dispatcher = try requireDispatcher()
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), let state = try await store.replayDelivery(id: id, now: clock.now()) else {
            throw ConsoleResponse.page(404, "No delivery \(text).")
        }
        dispatcher.wakeUp()
        let notice = state.isOpen ? "Delivery \(id) was \(state.rawValue): retrying now. 立即重试。" : "Replaying delivery \(id) (was \(state.rawValue)). 已重新发送。"
        return Self.redirect("/console/deliveries/\(id)?notice=" + Self.percentEncoded(notice))
    }

    struct ReplayDeadForm: Decodable {
        var sink: String?
        var since: String?
    }

    /// `POST /console/deliveries/replay-dead` (`sink`, `since`): every dead or cancelled delivery of
    /// the sink since then, as `deliveries replay --sink --since` does.
    @Sendable func replayDead(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (_, form) = try await sessionAndForm(request, ReplayDeadForm.self)
        let dispatcher = try requireDispatcher()
        let sink = try requireSink(form.sink)
        let now = clock.now()
        guard let since = BackfillRequest.time(form.since ?? "", now: now) else {
            throw ConsoleResponse.page(422, "Since: an RFC 3339 time, Unix seconds or a duration ago like 6h. 时间格式错误。")
        }
        let count = try await store.replayDeliveries(sink: sink, since: since, now: now)
        dispatcher.wakeUp()
        return Self.redirect(
            "/console/deliveries?sink=\(Self.percentEncoded(sink))&notice="
                + Self.percentEncoded("Replaying \(count) dead or cancelled deliver\(count == 1 ? "y" : "ies") of \(sink). 已重新发送 \(count) 条。"))
    }

    struct BackfillForm: Decodable {
        var sink: String?
        var since: String?
        var type: String?
        var orderID: String?
        var dryRun: String?
        enum CodingKeys: String, CodingKey { case sink, since, type, orderID = "order_id", dryRun = "dry_run" }
    }

    /// `POST /console/deliveries/backfill`: ``Outbox/backfill(_:store:now:)``, its report shown on the deliveries page.
    @Sendable func backfill(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (session, form) = try await sessionAndForm(request, BackfillForm.self)
        let dispatcher = try requireDispatcher()
        guard let outbox else { throw ConsoleResponse.page(404, "Backfill is not available here.") }
        let sink = try requireSink(form.sink)
        let now = clock.now()
        guard let since = BackfillRequest.time(form.since ?? "", now: now) else {
            throw ConsoleResponse.page(422, "Since: an RFC 3339 time, Unix seconds or a duration ago like 7d. 时间格式错误。")
        }
        let backfill = try SinksAPI.backfillRequest(
            sink: sink, since: max(0, Int64(since)), type: form.type.flatMap { $0.isEmpty ? nil : $0 }, orderID: form.orderID,
            dryRun: form.dryRun != nil)
        let report = try await outbox.backfill(backfill, store: store, now: now)
        if report.created > 0, !report.dryRun { dispatcher.wakeUp() }
        logger.info("console backfill", metadata: ["sink": "\(sink)", "created": "\(report.created)", "dry_run": "\(report.dryRun)"])
        return try await renderDeliveries(request, session: session, backfill: report)
    }

    // MARK: Sinks

    struct SinkListPage {
        var page: ConsoleViews.Chrome
        var available: Bool
        var sinks: [ConsoleViews.SinkRow]
    }

    @Sendable func sinkList(_ request: Request, context: APIRequestContext) async throws -> Response {
        let session = try session(request)
        let page = SinkListPage(page: chrome(session, "sinks", request), available: dispatcher != nil, sinks: try await sinkRows())
        return try Self.html(try Self.templates().render("sinks", page))
    }

    func sinkRows() async throws -> [ConsoleViews.SinkRow] {
        guard let dispatcher else { return [] }
        let counts = try await store.deliveryCounts()
        let disabled = try await store.disabledSinks()
        return Set(dispatcher.sinks.keys).union(counts.keys).sorted().map { name in
            let count = counts[name] ?? [:]
            return ConsoleViews.SinkRow(
                name: name, kind: dispatcher.sinks[name].map { $0.configuration.kind.rawValue } ?? "(not configured)",
                enabled: disabled[name] == nil, disabledAt: disabled[name].map { ConsoleViews.time(Int64($0.at)) },
                reason: disabled[name]?.reason, pending: count[.pending] ?? 0, retrying: count[.retrying] ?? 0,
                delivered: count[.delivered] ?? 0, dead: count[.dead] ?? 0, cancelled: count[.cancelled] ?? 0)
        }
    }

    /// `POST /console/sinks/{name}/enable`: as `POST /v1/sinks/{name}/enable`.
    @Sendable func enableSink(_ request: Request, context: APIRequestContext) async throws -> Response {
        _ = try await sessionAndForm(request, EmptyForm.self)
        let dispatcher = try requireDispatcher()
        let name = try requireSink(context.parameters.get("name"))
        let was = try await store.enableSink(name, now: clock.now())
        dispatcher.wakeUp()
        return Self.redirect("/console/sinks?notice=" + Self.percentEncoded(was ? "Enabled \(name). 已启用。" : "\(name) was not disabled."))
    }

    struct DisableForm: Decodable { var reason: String? }

    /// `POST /console/sinks/{name}/disable` (`reason`): as `certwatch sinks disable --reason`.
    @Sendable func disableSink(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (_, form) = try await sessionAndForm(request, DisableForm.self)
        let dispatcher = try requireDispatcher()
        let name = try requireSink(context.parameters.get("name"))
        let reason = (form.reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        try await store.disableSink(
            name, reason: reason.isEmpty ? "disabled in the console" : String(reason.prefix(500)), now: clock.now())
        return Self.redirect("/console/sinks?notice=" + Self.percentEncoded("Disabled \(name). 已停用。"))
    }

    func requireDispatcher() throws(ConsoleResponse) -> Dispatcher {
        guard let dispatcher else { throw .page(404, "Deliveries are not available in this process.") }
        return dispatcher
    }

    /// A configured sink name (404 naming the configured ones otherwise).
    func requireSink(_ name: String?) throws(ConsoleResponse) -> String {
        let name = name ?? ""
        guard sinkNames.contains(name) else {
            throw .page(404, "No sink \(name); configured: \(sinkNames.joined(separator: ", ")).")
        }
        return name
    }

    // MARK: Responses

    static func templates() throws -> ConsoleTemplates { try ConsoleTemplates.installed.get() }

    /// A static file of the console (``ConsoleTemplates/assetTypes``), cached for 5 minutes.
    static func asset(_ templates: Result<ConsoleTemplates, ConsoleTemplateError>, _ name: String) throws -> Response {
        var headers = securityHeaders
        headers[.contentType] = ConsoleTemplates.assetTypes[name] ?? "application/octet-stream"
        headers[.cacheControl] = "public, max-age=300"
        guard let data = try templates.get().assets[name] else { throw ConsoleResponse.page(404, "No asset \(name).") }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The headers of every console response: only this origin's script and stylesheet, no framing,
    /// no sniffing, no referrer outside.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    static func html(_ text: String, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// `next` when it is a console path (never another site), else the overview.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/console"), !next.hasPrefix("//"), !next.contains("\\"), next.count < 1_000,
            !next.contains(where: { $0.isNewline })
        else { return "/console/" }
        return next
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// A console answer other than a page: a redirect, or an error page with a status and a message for people.
enum ConsoleResponse: Error {
    case redirect(String)
    case page(Int, String)
}

/// Renders what a console route throws as a page: a redirect as 303, an error as the error page
/// with its status (``APIError``s keep theirs), anything else as 500 (logged, no details).
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let templates: Result<ConsoleTemplates, ConsoleTemplateError>
    let logger: Logger

    struct ErrorPage {
        var page: ConsoleViews.Chrome
        var status: Int
        var message: String
    }

    func handle(_ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch ConsoleResponse.redirect(let location) {
            return OperatorConsole.redirect(location)
        } catch ConsoleResponse.page(let status, let message) {
            return try page(status, message)
        } catch let error as APIError {
            return try page(Int(error.status.code), error.message)
        } catch let error as HTTPError {
            return try page(Int(error.status.code), error.body ?? error.status.reasonPhrase)
        } catch {
            logger.error("console request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return try page(500, "Internal error: see certwatch's log. 内部错误。")
        }
    }

    func page(_ status: Int, _ message: String) throws -> Response {
        let chrome = ConsoleViews.Chrome(signedIn: false, csrf: "", section: "error")
        let text = (try? templates.get().render("error", ErrorPage(page: chrome, status: status, message: message)))
            ?? "<!doctype html><title>certwatch</title><p>\(status)</p>"
        return try OperatorConsole.html(text, status: HTTPResponse.Status(code: status))
    }
}
