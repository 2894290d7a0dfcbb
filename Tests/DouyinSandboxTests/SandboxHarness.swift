import AsyncHTTPClient
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Runs an in-process sandbox on 127.0.0.1, port 0, with a real `DouyinClient` pointed at it.
struct SandboxHarness {
    let sandbox: DouyinSandbox
    let client: DouyinClient
    let http: HTTPClient
    let baseURL: String

    static func run(
        configuration: SandboxConfiguration = SandboxConfiguration(), clock: SandboxClock = .manual(),
        clientKey: String = "sandbox_key", clientSecret: String = "sandbox_secret",
        tokenEndpoint: DouyinClientConfiguration.TokenEndpoint = .stable, requestTimeout: Duration = .seconds(5),
        _ body: (SandboxHarness) async throws -> Void
    ) async throws {
        let sandbox = DouyinSandbox(configuration: configuration, clock: clock)
        var logger = Logger(label: "sandbox-test")
        logger.logLevel = .warning
        let server = DouyinSandboxServer(sandbox: sandbox, host: "127.0.0.1", port: 0, logger: logger)
        try await server.withRunning { baseURL in
            let config = DouyinClientConfiguration(
                baseURL: baseURL, clientKey: clientKey, clientSecret: clientSecret, tokenEndpoint: tokenEndpoint,
                requestTimeout: requestTimeout)
            let http = DouyinClient.makeHTTPClient(config)
            let client = DouyinClient(configuration: config, httpClient: http, logger: logger)
            let harness = SandboxHarness(sandbox: sandbox, client: client, http: http, baseURL: baseURL)
            // The client goes first, so the server finds no open connection when it stops.
            do {
                try await body(harness)
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    /// A raw request: status, body bytes, headers.
    func raw(
        _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), Data(buffer: bytes), response.headers)
    }

    /// A raw request whose body is JSON, parsed.
    func json(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = []) async throws
        -> (status: Int, json: JSONValue)
    {
        let (status, data, _) = try await raw(method, path, body: body, headers: headers)
        return (status, try JSONValue(parsing: data))
    }

    /// A token from the stable endpoint.
    func token() async throws -> String {
        let (_, json) = try await self.json(
            .POST, "/oauth/stable_client_token/",
            body: #"{"client_key":"sandbox_key","client_secret":"sandbox_secret","grant_type":"client_credential"}"#,
            headers: [("content-type", "application/json")])
        guard case .string(let token)? = json["data"]?["access_token"] else { throw HarnessError.noToken(json) }
        return token
    }
}

enum HarnessError: Error {
    case noToken(JSONValue)
}

extension JSONValue {
    var int: Int64? {
        switch self {
        case .int(let value): return value
        case .uint(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}

/// One voucher and one 5-use times card.
let twoCertificateOrder = OrderSpec(
    certificates: [.init(kind: .voucher), .init(kind: .timesCard, timesCount: 5)], expireIn: 86_400)
