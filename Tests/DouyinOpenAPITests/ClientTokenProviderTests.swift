import AsyncHTTPClient
import DouyinOpenAPI
import Foundation
import Hummingbird
import Synchronization
import Testing

/// A token endpoint on loopback that counts requests and issues `clt.1`, `clt.2`, …
final class TokenStub: Sendable {
    let requests = Mutex(0)
    let secret = "s3cr3t-never-logged"
    var count: Int { requests.withLock { $0 } }

    func install(on router: Router<BasicRequestContext>, expiresIn: Int = 7200) {
        router.post("/oauth/stable_client_token/") { request, context -> Response in
            let token = try await request.decode(as: ClientTokenRequest.self, context: context)
            guard token.clientKey == "key", token.clientSecret == self.secret, token.grantType == "client_credential" else {
                return Self.json(#"{"data":{"error_code":10013,"description":"client_key or secret error"},"message":"error"}"#)
            }
            let number = self.requests.withLock { count -> Int in
                count += 1
                return count
            }
            return Self.json(#"{"data":{"access_token":"clt.\#(number)","expires_in":\#(expiresIn),"error_code":0,"description":""},"message":"success"}"#)
        }
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

@Suite("Client token provider and client over loopback HTTP")
struct ClientTokenProviderTests {
    @discardableResult
    func withClient<T: Sendable>(
        _ router: Router<BasicRequestContext>, secret: String = "s3cr3t-never-logged", clock: ManualClock = ManualClock(),
        logs: LogCapture = LogCapture(), _ body: @Sendable (DouyinClient) async throws -> T
    ) async throws -> T {
        try await withStubServer(router) { baseURL in
            let configuration = DouyinClientConfiguration(baseURL: baseURL, clientKey: "key", clientSecret: secret)
            let http = DouyinClient.makeHTTPClient(configuration)
            let client = DouyinClient(configuration: configuration, httpClient: http, now: { clock.now }, logger: logs.logger)
            do {
                let result = try await body(client)
                try await http.shutdown()
                return result
            } catch {
                try await http.shutdown()
                throw error
            }
        }
    }

    @Test("caches the token and refreshes it five minutes before expiry")
    func cachingAndEarlyRefresh() async throws {
        let stub = TokenStub()
        let router = Router()
        stub.install(on: router)
        let clock = ManualClock()
        try await withClient(router, clock: clock) { client async throws in
            #expect(try await client.tokens.token().value == "clt.1")
            #expect(try await client.tokens.token().value == "clt.1")
            clock.advance(7200 - 301)
            #expect(try await client.tokens.token().value == "clt.1")
            clock.advance(2)  // now 299 s before expiry: inside the margin
            #expect(try await client.tokens.token().value == "clt.2")
            #expect(stub.count == 2)
        }
    }

    @Test("50 concurrent callers share one token request")
    func singleFlight() async throws {
        let stub = TokenStub()
        let router = Router()
        stub.install(on: router)
        try await withClient(router) { client async throws in
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await client.tokens.token().value } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(tokens.count == 50)
            #expect(Set(tokens) == ["clt.1"])
            #expect(stub.count == 1)
            #expect(await client.tokens.fetchCount == 1)
        }
    }

    @Test("2190008 refreshes the token once and retries the call once")
    func refreshAndRetryOnce() async throws {
        let stub = TokenStub()
        let router = Router()
        stub.install(on: router)
        let queries = Mutex<[String]>([])
        router.get("/goodlife/v1/compre_retail/fulfilment/certificate/query/") { request, _ -> Response in
            let token = request.headers[.init("access-token")!] ?? ""
            queries.withLock { $0.append(token) }
            if token == "clt.1" || request.uri.queryParameters["order_id"] == "always-expired" {
                return TokenStub.json(#"{"data":{"error_code":2190008,"description":"access_token过期"},"extra":{"error_code":2190008,"description":"access_token过期","logid":"L1"}}"#)
            }
            #expect(request.uri.queryParameters["account_id"] == "acc")
            #expect(request.headers[.init("Rpc-Transit-Life-Account")!] == "acc")
            return TokenStub.json(String(decoding: try fixture(), as: UTF8.self))
        }
        try await withClient(router) { client async throws in
            let result = try await client.queryCertificates(.init(orderID: "1001", accountID: "acc"))
            #expect(result.certificates.count == 2)
            #expect(queries.withLock { $0 } == ["clt.1", "clt.2"])
            #expect(stub.count == 2)

            await #expect {
                _ = try await client.queryCertificates(.init(orderID: "always-expired"))
            } throws: { error in
                (error as? DouyinAPIError)?.code == 2_190_008 && (error as? DouyinAPIError)?.logid == "L1"
            }
            #expect(queries.withLock { $0.count } == 4)  // one call and exactly one retry
            #expect(stub.count == 3)
        }
    }

    @Test("wrong credentials are a permanent error and the secret appears in no log line or error")
    func noSecretLeaks() async throws {
        let stub = TokenStub()
        let router = Router()
        stub.install(on: router)
        let logs = LogCapture()
        let wrongSecret = "wrong-secret-value-123"
        try await withClient(router, secret: wrongSecret, logs: logs) { client async throws in
            await #expect {
                _ = try await client.queryCertificates(.init(orderID: "1"))
            } throws: { error in
                let text = "\(error) \(String(reflecting: error))"
                return (error as? DouyinAPIError)?.errorClass == .permanent && !text.contains(wrongSecret)
            }
        }
        try await withClient(router, logs: logs) { client async throws in
            _ = try await client.tokens.token()
        }
        #expect(!logs.all.isEmpty)
        #expect(logs.all.allSatisfy { !$0.contains(wrongSecret) && !$0.contains(stub.secret) && !$0.contains("clt.") })
    }

    @Test("HTTP 5xx, timeouts and connection errors are retryable")
    func transportFailures() async throws {
        let router = Router()
        TokenStub().install(on: router)
        router.get("/goodlife/v1/fulfilment/certificate/query/") { _, _ -> Response in
            Response(status: .badGateway, body: .init(byteBuffer: ByteBuffer(string: "<html>502</html>")))
        }
        try await withClient(router) { client async throws in
            await #expect {
                _ = try await client.queryCertificates(.init(api: .fulfilment, orderID: "1"))
            } throws: { error in
                (error as? DouyinAPIError)?.errorClass == .retry && (error as? DouyinAPIError)?.httpStatus == 502
            }
        }
        // Nothing listens on port 1 of loopback: connection refused.
        let configuration = DouyinClientConfiguration(
            baseURL: "http://127.0.0.1:1", clientKey: "k", clientSecret: "s", connectTimeout: .milliseconds(200))
        let http = DouyinClient.makeHTTPClient(configuration)
        let client = DouyinClient(configuration: configuration, httpClient: http)
        await #expect {
            _ = try await client.queryCertificates(.init(orderID: "1"))
        } throws: { error in
            (error as? DouyinAPIError)?.errorClass == .retry && (error as? DouyinAPIError)?.source == .transport
        }
        try await http.shutdown()
    }
}

@Suite("Query encoding")
struct QueryEncodingTests {
    @Test("an encrypted_code with + and / arrives intact")
    func plusSurvives() async throws {
        let router = Router()
        TokenStub().install(on: router)
        let seen = Mutex<String?>(nil)
        router.get("/goodlife/v1/fulfilment/certificate/get/") { request, _ -> Response in
            seen.withLock { $0 = request.uri.queryParameters["encrypted_code"].map(String.init) }
            return TokenStub.json(#"{"data":{"error_code":0},"extra":{"error_code":0}}"#)
        }
        try await withStubServer(router) { baseURL in
            let configuration = DouyinClientConfiguration(baseURL: baseURL, clientKey: "key", clientSecret: "s3cr3t-never-logged")
            let http = DouyinClient.makeHTTPClient(configuration)
            let client = DouyinClient(configuration: configuration, httpClient: http)
            _ = try? await client.getCertificate(encryptedCode: "ab+c/d==")
            try await http.shutdown()
        }
        #expect(seen.withLock { $0 } == "ab+c/d==")
    }
}
