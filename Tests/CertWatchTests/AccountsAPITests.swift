import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Accounts: API and configuration")
struct AccountsAPITests {
    @Test("POST creates (201) then updates (200, state kept); GET lists and shows with paused watches; DELETE removes")
    func lifecycle() async throws {
        let (api, store) = try makeAPI()
        _ = try await store.register(WatchRegistration(orderID: "11", accountID: "7001"), now: 0, firstPollAt: 10)
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/accounts", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"account_id":"7001","name":"总店","poi_ids":["8001"],"feed_interval":30}"#)
            ) { response throws in
                #expect(response.status == .created)
                let body = try json(response.body)
                #expect(body["account_id"] == .string("7001"))
                #expect(body["feed"]?["interval"] == .int(30))
                #expect(body["feed"]?["status"] == .string("idle"))
                #expect(body["sweep"]?["interval"] == .int(300))
                #expect(body["authorization"]?["status"] == .string("authorized"))
                #expect(body["watches"]?["active"] == .int(1))
            }
            _ = try await store.setAuthorization(.unauthorized, of: "7001", reason: "code 2119005, logid L", now: 5)
            try await client.execute(
                uri: "/v1/accounts", method: .post, headers: auth, body: ByteBuffer(string: #"{"account_id":"7001","sweep":false}"#)
            ) { response throws in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["sweep"]?["enabled"] == .bool(false))
                // What the save left out keeps its stored value.
                #expect(body["name"] == .string("总店"))
                #expect(body["poi_ids"] == .array([.string("8001")]))
                #expect(body["feed"]?["interval"] == .int(30))
                #expect(body["authorization"]?["status"] == .string("unauthorized"))
            }
            try await client.execute(uri: "/v1/accounts/7001", method: .get, headers: auth) { response throws in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["watches"]?["paused"] == .int(1))
                guard case .array(let paused)? = body["paused_watches"] else { Issue.record("no paused_watches"); return }
                #expect(paused.count == 1)
            }
            try await client.execute(uri: "/v1/accounts", method: .get, headers: auth) { response throws in
                guard case .array(let accounts)? = try json(response.body)["accounts"] else { Issue.record("no accounts"); return }
                #expect(accounts.count == 1)
            }
            try await client.execute(uri: "/v1/accounts/7001", method: .delete, headers: auth) { response throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/accounts/7001", method: .get, headers: auth) { response throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("GET /v1/watches?account_id= lists one account's watches; an unknown query parameter is 400 naming it")
    func watchesByAccount() async throws {
        let (api, store) = try makeAPI()
        let mine = try await store.register(WatchRegistration(orderID: "11", accountID: "7001"), now: 0, firstPollAt: 10).watch
        _ = try await store.register(WatchRegistration(orderID: "12", accountID: "7002"), now: 0, firstPollAt: 10)
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/watches?account_id=7001", method: .get, headers: auth) { response throws in
                #expect(response.status == .ok)
                guard case .array(let watches)? = try json(response.body)["watches"] else { Issue.record("no watches"); return }
                #expect(watches.map { $0["id"] } == [.string(mine.id)])
            }
            try await client.execute(uri: "/v1/watches?acount_id=7001", method: .get, headers: auth) { response throws in
                #expect(response.status == .badRequest)
                #expect(try json(response.body)["error"]?["field"] == .string("acount_id"))
            }
            try await client.execute(uri: "/v1/watches?account_id=x", method: .get, headers: auth) { response throws in
                #expect(response.status == .unprocessableContent)
            }
        }
    }

    @Test("bad input is a 4xx naming the field: unknown field, bad id, bad poi_id, interval, unknown query parameter")
    func badInput() async throws {
        let (api, store) = try makeAPI()
        let app = Application(router: api.makeRouter())
        let cases: [(String, Int, String?)] = [
            (#"{"account_id":"7001","feed_intervall":30}"#, 422, "feed_intervall"),
            (#"{"account_id":"70a1"}"#, 422, "account_id"),
            (#"{"account_id":"7001","poi_ids":["1","x"]}"#, 422, "poi_ids[1]"),
            (#"{"account_id":"7001","sweep_interval":0}"#, 422, "sweep_interval"),
            (#"{"account_id":7001}"#, 422, "account_id"),
            (#"{"account_id":"7001","sweep_interval":null}"#, 422, "sweep_interval"),
            (#"{"account_id":"7001","sweep":0}"#, 422, "sweep"),
            (#"{"account_id":"7001","feed_interval":"15"}"#, 422, "feed_interval"),
            (#"{"account_id":"7001","poi_ids":[1]}"#, 422, "poi_ids"),
            (#"[]"#, 400, nil),
        ]
        try await app.test(.router) { client in
            for (body, status, field) in cases {
                try await client.execute(uri: "/v1/accounts", method: .post, headers: auth, body: ByteBuffer(string: body)) { response throws in
                    #expect(Int(response.status.code) == status, "\(body)")
                    if let field { #expect(try json(response.body)["error"]?["field"] == .string(field), "\(body)") }
                }
            }
            try await client.execute(uri: "/v1/accounts/abc", method: .get, headers: auth) { response throws in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/accounts?account_id=1", method: .get, headers: auth) { response throws in
                #expect(response.status == .badRequest)
                #expect(try json(response.body)["error"]?["field"] == .string("account_id"))
            }
        }
        #expect(try await store.accounts().isEmpty)
    }

    @Test("the configuration's accounts: defaults, intervals, and errors at file:line:col")
    func configuration() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cw-accounts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func load(_ text: String) throws -> CertWatchConfiguration {
            let path = directory.appendingPathComponent("c.yaml").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return try CertWatchConfiguration.load(path: path, environment: [:])
        }
        let configuration = try load(
            """
            douyin:
              quotas:
                order_query: 2
            accounts:
              "7001":
                name: 总店
                poi_ids: ["8001", "8002"]
                feed_interval: 30s
                sweep: off
              "7002":
                feed: false
            """)
        #expect(configuration.accounts.accounts.map(\.accountID) == ["7001", "7002"])
        let first = configuration.accounts.accounts[0]
        #expect(first.poiIDs == ["8001", "8002"] && first.feed == .init(enabled: true, interval: 30) && !first.sweep.enabled)
        #expect(configuration.accounts.accounts[1].sweep == .init(enabled: true, interval: 300))
        #expect(configuration.quotas == DouyinQuotas(certificateQuery: 10, orderQuery: 2, verifyRecordQuery: 5))
        #expect(configuration.watcher.qps == 10)

        #expect(throws: ConfigurationError.self) { _ = try load("accounts:\n  \"70x1\":\n    feed: on\n") }
        do {
            _ = try load("accounts:\n  \"7001\":\n    poi_ids: [\"1\", \"bad\"]\n")
            Issue.record("accepted a bad poi_id")
        } catch let error as ConfigurationError {
            #expect("\(error)".contains("c.yaml:3"), "\(error)")
            #expect("\(error)".contains("poi_ids[1]"), "\(error)")
        }
        do {
            _ = try load("accounts:\n  \"7001\":\n    feed_interval: 2d\n")
            Issue.record("accepted a 2-day interval")
        } catch let error as ConfigurationError {
            #expect("\(error)".contains("feed_interval"), "\(error)")
        }
        #expect(throws: ConfigurationError.self) { _ = try load("accounts:\n  \"7001\":\n    feeds: on\n") }
        #expect(throws: ConfigurationError.self) { _ = try load("poll:\n  qps: 3\ndouyin:\n  quotas:\n    certificate_query: 3\n") }
        #expect(try load("douyin:\n  quotas:\n    certificate_query: 3\n").watcher.qps == 3)
    }
}
