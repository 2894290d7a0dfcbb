import AsyncHTTPClient
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import Yams

/// An API over a fresh store with key `k1` (and `k2` for rotation).
func makeAPI(store: Store? = nil, bus: EventBus = EventBus(), bodyLimit: Int = 1 << 20, heartbeat: Double = 15) throws
    -> (CertWatchAPI, Store)
{
    let store = try store ?? temporaryStore()
    let clock = ManualWallClock(1_734_169_082)
    let api = CertWatchAPI(
        store: store, clock: clock, apiKeys: ["k1", "k2"], bodyLimit: bodyLimit, bus: bus,
        heartbeat: heartbeat, openAPIDocument: OpenAPIDocument.text,
        push: DouyinPushIntake(clientSecret: "s", store: store, clock: clock, policy: PollPolicy()),
        dispatcher: Dispatcher(
            store: store, sinks: ["erp": StdoutSink(configuration: SinkConfiguration(name: "erp", kind: .stdout), write: { _ in })],
            clock: clock),
        outbox: Outbox(rules: RuleSet(), clock: clock), console: ConsoleConfiguration())
    return (api, store)
}

let auth: HTTPFields = [.authorization: "Bearer k1", .contentType: "application/json"]

func json(_ buffer: ByteBuffer) throws -> JSONValue { try JSONValue(parsing: Data(buffer: buffer)) }

@Suite("HTTP API")
struct HTTPAPITests {
    @Test("register: 201, then 200 with merged labels; errors are JSON with a field")
    func registerWatch() async throws {
        let (api, _) = try makeAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/watches", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"order_id":"1001","labels":{"store":"sh-01"}}"#)
            ) { response throws in
                #expect(response.status == .created)
                #expect(try json(response.body)["watch"]?["order_id"] == .string("1001"))
            }
            try await client.execute(
                uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: #"{"order_id":"1001","labels":{"env":"prod"}}"#)
            ) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["watch"]?["labels"] == .object(["store": .string("sh-01"), "env": .string("prod")]))
            }
            try await client.execute(uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: "{")) { response throws in
                #expect(response.status == .badRequest)
                #expect(try json(response.body)["error"]?["code"] == .string("bad_request"))
            }
            try await client.execute(
                uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: #"{"labels":{"a":"b"}}"#)
            ) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response.body)["error"]?["field"] == .string("order_id"))
            }
            try await client.execute(
                uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: #"{"order_id":"1","labels":"x"}"#)
            ) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response.body)["error"]?["field"] == .string("labels"))
            }
            // Junk ids are refused, naming the field; a number says to send a string.
            let junk = ["null", "abc; DROP TABLE watches", String(repeating: "7", count: 5_000)].map { #"{"order_id":"\#($0)"}"# }
                + [#"{"order_id":1068000000001745533}"#, #"{"order_id":"1","account_id":"è Èý®g"}"#]
            for body in junk {
                try await client.execute(uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                    response throws in
                    #expect(response.status == .unprocessableContent, "\(body.prefix(60))")
                    let field = try json(response.body)["error"]?["field"]
                    #expect(field == .string("order_id") || field == .string("account_id"), "\(body.prefix(60))")
                }
            }
        }
    }

    @Test("auth: missing or wrong key is 401 JSON; every configured key works")
    func authentication() async throws {
        let (api, _) = try makeAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/watches", method: .get) { response throws in
                #expect(response.status == .unauthorized)
                #expect(try json(response.body)["error"]?["code"] == .string("unauthorized"))
            }
            try await client.execute(uri: "/v1/watches", method: .get, headers: [.authorization: "Bearer nope"]) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/watches", method: .get, headers: [.authorization: "Bearer k2"]) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/healthz", method: .get) { response throws in #expect(response.status == .ok) }
        }
    }

    @Test("batch with mixed valid and invalid items; body limit is 413")
    func batch() async throws {
        let (api, store) = try makeAPI(bodyLimit: 4096)
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            let body = #"{"items":[{"order_id":"1"},{"order_id":5},{"encrypted_code":"e"},{},{"order_id":"1"}]}"#
            try await client.execute(uri: "/v1/watches/batch", method: .post, headers: auth, body: ByteBuffer(string: body)) { response throws in
                #expect(response.status == .ok)
                let results = try json(response.body)["results"]
                #expect((0..<5).map { results?[$0]?["status"] } == [.int(201), .int(422), .int(201), .int(422), .int(200)])
                #expect(results?[1]?["error"]?["field"] == .string("items[1].order_id"))
            }
            let big = String(repeating: "x", count: 5000)
            try await client.execute(
                uri: "/v1/watches", method: .post, headers: auth, body: ByteBuffer(string: #"{"order_id":"\#(big)"}"#)
            ) { response throws in
                #expect(response.status == .contentTooLarge)
            }
        }
        #expect(try await store.watches().count == 2)
    }

    @Test("list with cursor pagination and filters; show, poll, delete; 404s")
    func watchRoutes() async throws {
        let (api, store) = try makeAPI()
        for index in 0..<5 {
            _ = try await store.register(
                WatchRegistration(orderID: "\(100 + index)", labels: ["store": index < 3 ? "sh" : "bj"]), now: 0, firstPollAt: 10_000_000_000)
        }
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            var seen: [String] = []
            var cursor = ""
            for _ in 0..<3 {
                try await client.execute(uri: "/v1/watches?limit=2" + cursor, method: .get, headers: auth) { response throws in
                    let page = try json(response.body)
                    if case .array(let watches) = page["watches"] {
                        seen += watches.compactMap { if case .string(let id) = $0["id"] { id } else { nil } }
                    }
                    if case .string(let next) = page["next_cursor"] { cursor = "&cursor=\(next)" }
                }
            }
            #expect(Set(seen).count == 5)
            for query in ["label=store=bj", "label=store:bj"] {
                try await client.execute(uri: "/v1/watches?" + query, method: .get, headers: auth) { response throws in
                    guard case .array(let watches) = try json(response.body)["watches"] else { Issue.record("no list"); return }
                    #expect(watches.count == 2)
                }
            }
            for query in ["state=bogus", "cursor=zzz", "label=store"] {
                try await client.execute(uri: "/v1/watches?" + query, method: .get, headers: auth) { response throws in
                    #expect(response.status == .unprocessableContent, "\(query)")
                    #expect(try json(response.body)["error"]?["field"] == .string(String(query.prefix { $0 != "=" })))
                }
            }
            let id = seen[0]
            try await client.execute(uri: "/v1/watches/\(id)", method: .get, headers: auth) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["certificates"] == .array([]))
            }
            try await client.execute(uri: "/v1/watches/\(id)/poll", method: .post, headers: auth) { response throws in
                #expect(response.status == .accepted)
                #expect(try json(response.body)["watch"]?["next_poll_at"] == .int(1_734_169_082))
            }
            try await client.execute(uri: "/v1/watches/\(id)", method: .delete, headers: auth) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/watches/\(id)/poll", method: .post, headers: auth) { response throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/v1/watches/w_nope", method: .get, headers: auth) { response throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("deliveries: list and filter, replay of an unknown id is 404, enable a sink")
    func deliveries() async throws {
        let (api, _) = try makeAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/deliveries?state=dead", method: .get, headers: auth) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["deliveries"] == .array([]))
            }
            try await client.execute(uri: "/v1/deliveries?state=lost", method: .get, headers: auth) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/deliveries/99/replay", method: .post, headers: auth) { response throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/sinks/erp/enable", method: .post, headers: auth) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/sinks/nope/enable", method: .post, headers: auth) { response throws in
                #expect(response.status == .notFound)
                #expect(try json(response.body)["error"]?["message"] == .string("no sink nope; configured: erp"))
            }
        }
    }

    @Test("a method a known path does not take is 405 with Allow; an unknown path is 404; both JSON errors; HEAD is GET without the body")
    func methodNotAllowed() async throws {
        let (api, _) = try makeAPI()
        let app = Application(responder: api.makeResponder())
        try await app.test(.router) { client in
            for (method, uri, allow) in [
                (HTTPRequest.Method.trace, "/v1/watches", "GET, HEAD, POST"),
                (.put, "/v1/watches/w_0123456789abcdef", "DELETE, GET, HEAD"), (.get, "/v1/watches/batch", "POST"),
                (.delete, "/healthz", "GET, HEAD"), (.head, "/v1/watches/batch", "POST"),
                (.get, "/v1/sinks/erp/enable", "POST"), (.options, "/douyin/webhook", "POST"),
            ] {
                try await client.execute(uri: uri, method: method, headers: auth) { response throws in
                    #expect(response.status == .methodNotAllowed, "\(method) \(uri)")
                    #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                    if method != .head {
                        #expect(try json(response.body)["error"]?["code"] == .string("method_not_allowed"))
                    }
                }
            }
            // Without a key too: the method is wrong whoever asks.
            try await client.execute(uri: "/v1/events", method: .post) { response throws in
                #expect(response.status == .methodNotAllowed)
            }
            try await client.execute(uri: "/v1/nothing", method: .get, headers: auth) { response throws in
                #expect(response.status == .notFound)
                #expect(try json(response.body)["error"]?["code"] == .string("not_found"))
            }
            // Declared methods still answer as before.
            try await client.execute(uri: "/v1/watches", method: .get, headers: auth) { response throws in
                #expect(response.status == .ok)
            }
            // HEAD: GET's status and headers, no body; still behind the key.
            try await client.execute(uri: "/openapi.yaml", method: .head) { response throws in
                #expect(response.status == .ok && response.body.readableBytes == 0)
                #expect(response.headers[.contentType] == "application/yaml")
            }
            try await client.execute(uri: "/v1/watches", method: .head) { response throws in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/watches", method: .head, headers: auth) { response throws in
                #expect(response.status == .ok && response.body.readableBytes == 0)
            }
        }
    }

    @Test("every registered route is in docs/openapi.yaml and vice versa")
    func openAPICoversRoutes() throws {
        let (api, _) = try makeAPI()
        let router = api.makeRouter()
        // The operator console (/console/…) is HTML for people, not part of the API document.
        let registered = Set(
            router.routes.filter { !"\($0.path)".hasPrefix("/console") }
                .map { "\($0.method.rawValue.lowercased()) \(Self.normalize("\($0.path)"))" })
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var documented = Set<String>()
        for (path, item) in paths {
            for method in ((item as? [String: Any]) ?? [:]).keys where ["get", "post", "put", "delete", "patch"].contains(method) {
                documented.insert("\(method) \(Self.normalize(path))")
            }
        }
        #expect(registered == documented)
        #expect(!registered.isEmpty)
    }

    /// `/v1/watches/{id}` and `/v1/watches/:id` → `/v1/watches/{}`.
    static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/").map { part in
            part.hasPrefix("{") || part.hasPrefix(":") ? "{}" : String(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    @Test("events list filters and pages; SSE resumes with Last-Event-ID without gaps or repeats")
    func eventsAndStream() async throws {
        let bus = EventBus()
        // A 1 s heartbeat lets the server notice a closed stream quickly when the test ends.
        let (api, store) = try makeAPI(bus: bus, heartbeat: 1)
        let watch = WatchInfo(id: "w_1", orderID: "1001")
        @Sendable func event(_ n: Int, _ type: EventType = .verified) -> CertWatchEvent {
            CertWatchEvent(
                id: "evt_\(n)", source: "/douyin/compre_retail/orders/1001", type: type, subject: "c\(n)", time: Int64(n),
                data: EventData(watch: watch))
        }
        _ = try await store.append((1...3).map { event($0) } + [event(4, .refunded)])
        let app = Application(router: api.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await client.execute(uri: "/v1/events?type=certificate.refunded", method: .get, headers: auth) { response throws in
                let page = try json(response.body)
                #expect(page["events"]?[0]?["id"] == .string("evt_4"))
                #expect(page["next_after"] == .int(4))
            }
            try await client.execute(uri: "/v1/events?after=2&limit=1", method: .get, headers: auth) { response throws in
                #expect(try json(response.body)["events"]?[0]?["sequence"] == .int(3))
            }
            // Resume after 2: exactly events 3 and 4 arrive (then the stream stays open; read what came).
            var headers = auth
            headers[HTTPField.Name("Last-Event-ID")!] = "2"
            let received = try await Self.readStream(client: client, headers: headers, count: 2)
            #expect(received == ["3", "4"])
            // More events while disconnected; reconnect after 4.
            _ = try await store.append([event(5), event(6)])
            bus.publish([event(6)])
            headers[HTTPField.Name("Last-Event-ID")!] = "4"
            #expect(try await Self.readStream(client: client, headers: headers, count: 2) == ["5", "6"])
        }
    }

    /// Opens the stream, collects `id:` lines until `count` arrived, then disconnects.
    static func readStream(client: some TestClientProtocol, headers: HTTPFields, count: Int) async throws -> [String] {
        guard let port = client.port else { return [] }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/events/stream")
        for field in headers { request.headers.add(name: field.name.rawName, value: field.value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        var ids: [String] = []
        var pending = ""
        for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                if line.hasPrefix("id: ") { ids.append(String(line.dropFirst(4))) }
                if ids.count == count { return ids }
            }
        }
        return ids
    }
}
