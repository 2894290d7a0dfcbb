@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// An API with the console over a fresh store, keys `k1` and `k2`, sinks `erp` and `audit`.
func makeConsoleAPI(store: Store? = nil, secret: String? = nil, clock: ManualWallClock = ManualWallClock(1_734_169_082)) throws
    -> (CertWatchAPI, Store, ManualWallClock)
{
    let store = try store ?? temporaryStore()
    let sink: @Sendable (String) -> StdoutSink = { StdoutSink(configuration: SinkConfiguration(name: $0, kind: .stdout), write: { _ in }) }
    let api = CertWatchAPI(
        store: store, clock: clock, apiKeys: ["k1", "k2"],
        dispatcher: Dispatcher(store: store, sinks: ["erp": sink("erp"), "audit": sink("audit")], clock: clock),
        outbox: Outbox(rules: try everythingTo(["erp"]), clock: clock, logger: quietLogger()),
        console: ConsoleConfiguration(sessionSecret: secret))
    return (api, store, clock)
}

/// The first capture of `pattern` in `text`.
func capture(_ pattern: String, in text: String) -> String? {
    guard let regex = try? NSRegularExpression(pattern: pattern),
        let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
        let range = Range(match.range(at: 1), in: text)
    else { return nil }
    return String(text[range])
}

/// `name=value` of the first `Set-Cookie` for `name`, with its attributes.
func setCookie(_ name: String, _ response: TestResponse) -> String? {
    response.headers[values: .setCookie].first { $0.hasPrefix(name + "=") }
}

func form(_ fields: [String: String]) -> ByteBuffer {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&"))
}

let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

/// Signs in with `key` through the form; returns the session cookie (`name=value`) and the HTML of the page it led to.
func signIn(_ client: some TestClientProtocol, key: String = "k1", headers extra: HTTPFields = [:]) async throws -> (cookie: String?, response: TestResponse) {
    let page = try await client.execute(uri: "/console/sign-in?next=/console/watches", method: .get, headers: extra)
    let html = String(buffer: page.body)
    let token = try #require(capture(#"name="sign_in_token" value="([^"]+)""#, in: html))
    let next = try #require(capture(#"name="next" value="([^"]+)""#, in: html))
    let preCookie = try #require(setCookie("certwatch_signin", page)).split(separator: ";")[0]
    var headers = formHeaders
    headers[.cookie] = String(preCookie)
    for field in extra { headers.append(field) }
    let response = try await client.execute(
        uri: "/console/sign-in", method: .post, headers: headers, body: form(["api_key": key, "sign_in_token": token, "next": next]))
    return (setCookie("certwatch_session", response).map { String($0.split(separator: ";")[0]) }, response)
}

@Suite("Operator console")
struct ConsoleTests {
    @Test("GET /console/watches without a session redirects to sign-in; sign-in sets an HttpOnly, SameSite=Strict, expiring cookie; the registered order is listed")
    func signInAndWatches() async throws {
        let (api, _, _) = try makeConsoleAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/console/watches", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/console/sign-in?next=/console/watches")
            }
            try await client.execute(uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: #"{"order_id":"1068000000001745533","labels":{"store":"<b>sh-01</b>"}}"#)) { response in
                #expect(response.status == .created)
            }
            let (cookie, response) = try await signIn(client)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/console/watches")
            let header = try #require(setCookie("certwatch_session", response))
            #expect(header.contains("HttpOnly"))
            #expect(header.contains("SameSite=Strict"))
            #expect(header.contains("Path=/console"))
            #expect(header.contains("Max-Age=43200"))
            #expect(!header.contains("Secure"))
            let session = try #require(cookie)
            try await client.execute(uri: "/console/watches", method: .get, headers: [.cookie: session]) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.contains("1068000000001745533"))
                // Output is escaped.
                #expect(html.contains("store=&lt;b&gt;sh-01&lt;/b&gt;"))
                #expect(!html.contains("<b>sh-01</b>"))
                #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
            }
            // Search by order id, by label; nothing for an unknown order.
            try await client.execute(uri: "/console/watches?q=1068000000001745533", method: .get, headers: [.cookie: session]) { response in
                #expect(String(buffer: response.body).contains("/console/watches/w_"))
            }
            try await client.execute(uri: "/console/watches?q=999", method: .get, headers: [.cookie: session]) { response in
                #expect(!String(buffer: response.body).contains("/console/watches/w_"))
            }
            // Every page answers with the session.
            for page in ["/console/", "/console/events", "/console/deliveries", "/console/sinks", "/console/events?type=certificate.verified"] {
                try await client.execute(uri: page, method: .get, headers: [.cookie: session]) { response in
                    #expect(response.status == .ok, "\(page)")
                    #expect(String(buffer: response.body).contains("退出 Sign out"), "\(page)")
                }
                try await client.execute(uri: page, method: .get) { response in
                    #expect(response.status == .seeOther, "\(page) without a session")
                }
            }
            // The assets need no session; the event stream does.
            try await client.execute(uri: "/console/assets/console.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/css") == true)
            }
            try await client.execute(uri: "/console/events/stream", method: .get) { response in
                #expect(response.status == .seeOther)
            }
        }
    }

    @Test("a wrong key is 401; a tampered, expired or signed-out cookie is no session; Secure behind HTTPS")
    func sessionsAreChecked() async throws {
        let (api, _, clock) = try makeConsoleAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            let (none, refused) = try await signIn(client, key: "wrong")
            #expect(refused.status == .unauthorized && none == nil)
            #expect(String(buffer: refused.body).contains("Wrong API key"))

            let (secureCookie, secure) = try await signIn(client, key: "k2", headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(secureCookie != nil)
            #expect(try #require(setCookie("certwatch_session", secure)).contains("Secure"))

            let cookie = try #require(try await signIn(client).cookie)
            var tampered = cookie
            tampered.replaceSubrange(tampered.index(tampered.endIndex, offsetBy: -3)..., with: tampered.hasSuffix("AAA") ? "BBB" : "AAA")
            for bad in [tampered, "certwatch_session=v1.9999999999.x.y.z", "certwatch_session="] {
                try await client.execute(uri: "/console/", method: .get, headers: [.cookie: bad]) { response in
                    #expect(response.status == .seeOther, "\(bad)")
                }
            }
            // A POST without the CSRF token is refused, with it the sign-out works and ends the session.
            try await client.execute(uri: "/console/sign-out", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form([:])) { response in
                #expect(response.status == .forbidden)
            }
            let overview = try await client.execute(uri: "/console/", method: .get, headers: [.cookie: cookie])
            let csrf = try #require(capture(#"name="csrf" value="([^"]+)""#, in: String(buffer: overview.body)))
            try await client.execute(uri: "/console/sign-out", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": "x" + csrf.dropFirst()])) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/console/sign-out", method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": csrf])) { response in
                #expect(response.status == .seeOther)
                #expect(setCookie("certwatch_session", response)?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/console/", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .seeOther)
            }
            // Sessions expire (12 h by default).
            let later = try #require(try await signIn(client).cookie)
            clock.advance(12 * 3_600 + 1)
            try await client.execute(uri: "/console/", method: .get, headers: [.cookie: later]) { response in
                #expect(response.status == .seeOther)
            }
        }
    }

    @Test("ten wrong keys from one address: 429 with Retry-After, even for the right key, until the window passes")
    func wrongKeysAreThrottled() async throws {
        let (api, _, clock) = try makeConsoleAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            for attempt in 1...10 {
                #expect(try await signIn(client, key: "guess-\(attempt)").response.status == .unauthorized)
                clock.advance(10)
            }
            let (refusedCookie, refused) = try await signIn(client, key: "k1")
            #expect(refused.status == .tooManyRequests && refusedCookie == nil)
            // The first failure was 100 s ago: the window of 600 s ends in 500 s.
            #expect(refused.headers[.retryAfter] == "500")
            #expect(String(buffer: refused.body).contains("Too many wrong API keys"))
            clock.advance(500)
            #expect(try await signIn(client, key: "k1").cookie != nil)
            // A success clears the address.
            #expect(try await signIn(client, key: "wrong").response.status == .unauthorized)
        }
    }

    @Test("the throttle forgets failures older than the window and keeps at most its capacity of addresses")
    func throttleStateMachine() {
        var throttle = SignInThrottle(limit: 2, window: 60, capacity: 2)
        throttle.failed("a", now: 0)
        #expect(throttle.retryAfter("a", now: 1) == nil)
        throttle.failed("a", now: 30)
        #expect(throttle.retryAfter("a", now: 31) == 29)
        #expect(throttle.retryAfter("a", now: 60) == nil)
        throttle.failed("b", now: 40)
        throttle.failed("b", now: 41)
        throttle.failed("c", now: 42)
        throttle.failed("c", now: 43)
        // Three addresses, capacity two: "a", whose latest failure is oldest, is forgotten.
        #expect(throttle.retryAfter("b", now: 50) != nil && throttle.retryAfter("c", now: 50) != nil)
        throttle.failed("a", now: 50)
        #expect(throttle.retryAfter("a", now: 50) == nil)
        throttle.succeeded("b")
        #expect(throttle.retryAfter("b", now: 50) == nil)
    }

    @Test("with a configured secret, a session signed by one replica is accepted by another; never with another secret")
    func sharedSecret() async throws {
        let secret = String(repeating: "s", count: 40)
        let (first, store, clock) = try makeConsoleAPI(secret: secret)
        let (second, _, _) = try makeConsoleAPI(store: store, secret: secret, clock: clock)
        let (other, _, _) = try makeConsoleAPI(store: store, secret: String(repeating: "t", count: 40), clock: clock)
        let cookie = try await Application(router: first.makeRouter()).test(.router) { client in try await signIn(client).cookie }
        let session = try #require(cookie)
        let accepted = try await Application(router: second.makeRouter()).test(.router) { client in
            try await client.execute(uri: "/console/", method: .get, headers: [.cookie: session]).status
        }
        #expect(accepted == .ok)
        let refused = try await Application(router: other.makeRouter()).test(.router) { client in
            try await client.execute(uri: "/console/", method: .get, headers: [.cookie: session]).status
        }
        #expect(refused == .seeOther)
    }

    @Test("a dead delivery is replayed from its page; a watch shows its certificates' derived state and its timeline with deliveries")
    func replayAndWatchPage() async throws {
        let (api, store, clock) = try makeConsoleAPI()
        let watch = try await store.register(WatchRegistration(orderID: "42"), now: clock.unixNow, firstPollAt: clock.unixNow).watch
        let now = clock.unixNow
        let snapshot = try DouyinJSON.decode(
            CertificateSnapshot.self,
            from: Data(#"{"certificate_id":"7230000000002418006","state":"verified","expire_time":\#(now + 86_400),"observed_at":\#(now),"verifications":[{"verify_id":"v1","poi_id":"poi-1","verify_time":\#(now - 60),"can_cancel":true}],"amount":{"pay_amount":1250}}"#.utf8))
        let event = CertWatchEvent(
            id: "evt-1", source: CertWatchEvent.source(of: watch.info), type: .verified, subject: snapshot.certificateID,
            time: clock.unixNow, data: EventData(watch: watch.info, certificate: snapshot))
        try await store.commitPoll(
            PollCommit(watchID: watch.id, polledAt: clock.unixNow, certificates: [StoredCertificate(snapshot: snapshot, raw: JSONValue.object([:]))],
                       events: [event], nextPollAt: clock.unixNow + 30),
            route: { appended in Routing(now: 100, deliveries: appended.map { PlannedDelivery(event: $0, decision: RouteDecision(sink: "erp", rule: "r")) }) })
        let delivery = try #require(try await store.deliveries(state: nil, sink: "erp", before: nil, limit: 1).first)
        try await store.recordDeliveryAttempts(
            [RecordedAttempt(
                delivery: delivery,
                attempt: DeliveryAttempt(deliveryID: delivery.id, number: 1, startedAt: 100, duration: 0.25, status: 500,
                                         response: "<h1>down</h1>", error: "HTTP 500", outcome: .dead),
                plan: DeliveryPlan(state: .dead))], now: 100)

        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            let cookie = try #require(try await signIn(client).cookie)
            let watchPage = String(buffer: try await client.execute(uri: "/console/watches/\(watch.id)", method: .get, headers: [.cookie: cookie]).body)
            #expect(watchPage.contains("verified, cancellable until"))
            #expect(watchPage.contains("7230000000002418006"))
            #expect(watchPage.contains("核销 certificate.verified"))
            #expect(watchPage.contains("/console/deliveries/\(delivery.id)"))
            let overview = String(buffer: try await client.execute(uri: "/console/", method: .get, headers: [.cookie: cookie]).body)
            #expect(overview.contains("/console/deliveries/\(delivery.id)"))  // a dead letter
            let page = try await client.execute(uri: "/console/deliveries/\(delivery.id)", method: .get, headers: [.cookie: cookie])
            let html = String(buffer: page.body)
            #expect(html.contains("&lt;h1&gt;down&lt;/h1&gt;"))
            #expect(html.contains("250 ms"))
            let csrf = try #require(capture(#"name="csrf" value="([^"]+)""#, in: html))
            try await client.execute(
                uri: "/console/deliveries/\(delivery.id)/replay", method: .post,
                headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": csrf])
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location]?.hasPrefix("/console/deliveries/\(delivery.id)?notice=") == true)
            }
            #expect(try await store.delivery(id: delivery.id)?.state == .pending)
            // Disable and enable a sink with a reason; backfill a sink from the form.
            try await client.execute(
                uri: "/console/sinks/audit/disable", method: .post,
                headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": csrf, "reason": "ERP maintenance"])
            ) { response in
                #expect(response.status == .seeOther)
            }
            #expect(try await store.disabledSinks()["audit"]?.reason == "ERP maintenance")
            let sinks = String(buffer: try await client.execute(uri: "/console/sinks", method: .get, headers: [.cookie: cookie]).body)
            #expect(sinks.contains("ERP maintenance"))
            try await client.execute(
                uri: "/console/sinks/audit/enable", method: .post,
                headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: form(["csrf": csrf])
            ) { response in
                #expect(response.status == .seeOther)
            }
            #expect(try await store.disabledSinks()["audit"] == nil)
            try await client.execute(
                uri: "/console/deliveries/backfill", method: .post,
                headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                body: form(["csrf": csrf, "sink": "erp", "since": "1d", "type": ""])
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("backfill erp: 0 deliveries created"))
            }
            try await client.execute(
                uri: "/console/deliveries/backfill", method: .post,
                headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                body: form(["csrf": csrf, "sink": "nope", "since": "1d"])
            ) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
