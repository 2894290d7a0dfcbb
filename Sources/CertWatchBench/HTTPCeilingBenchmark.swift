import AsyncHTTPClient
import CertWatch
import CertWatchTesting
import DouyinOpenAPI
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Loopback request rate of the project's HTTP client (AsyncHTTPClient configured as
/// `DouyinClient.makeHTTPClient` does) against a trivial in-process Hummingbird handler: the limit
/// the poll pipeline and delivery are measured against.
package enum HTTPCeilingBenchmark {
    /// One measured level.
    package struct Level: Sendable {
        /// `GET` or `POST`.
        package var method: String
        /// Requests in flight.
        package var concurrency: Int
        /// Requests made.
        package var requests: Int
        /// Requests per second.
        package var requestsPerSecond: Double
        /// Median latency, milliseconds.
        package var p50Milliseconds: Double
        /// 99th-percentile latency, milliseconds.
        package var p99Milliseconds: Double
        /// Mean response body, bytes.
        package var meanBodyBytes: Double = 0
    }

    /// A small JSON body of the size of a typical webhook event (≈ 1 KiB), posted by the POST levels.
    static let postBody = ByteBuffer(string: "{\"event\":\"" + String(repeating: "x", count: 1000) + "\"}")

    /// Measures GET and POST at each concurrency with `requests(concurrency)` requests.
    package static func run(concurrencies: [Int] = [1, 8, 64], requests: @Sendable (Int) -> Int) async throws -> [Level] {
        let router = Router()
        router.get("/get") { _, _ in "{\"ok\":true}" }
        router.post("/post") { request, _ -> HTTPResponse.Status in
            _ = try await request.body.collect(upTo: 1 << 20)
            return .noContent
        }
        return try await withServer(router) { baseURL in
            let configuration = DouyinClientConfiguration(baseURL: baseURL, clientKey: "k", clientSecret: "s")
            let client = DouyinClient.makeHTTPClient(configuration)
            var levels: [Level] = []
            do {
                for method in ["GET", "POST"] {
                    // Warm up the connection pool.
                    _ = try await measure(client: client, baseURL: baseURL, method: method, concurrency: 64, requests: 200)
                    for concurrency in concurrencies {
                        levels.append(
                            try await measure(
                                client: client, baseURL: baseURL, method: method, concurrency: concurrency,
                                requests: requests(concurrency)))
                    }
                }
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            return levels
        }
    }

    static func measure(client: HTTPClient, baseURL: String, method: String, concurrency: Int, requests: Int) async throws
        -> Level
    {
        try await measure(client: client, method: method, concurrency: concurrency, requests: requests) { _ in
            var request = HTTPClientRequest(url: baseURL + (method == "GET" ? "/get" : "/post"))
            if method == "POST" {
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(postBody)
            }
            return request
        }
    }

    /// Sends `requests` requests (`makeRequest(n)` builds the n-th), `concurrency` in flight, reading
    /// every body in full; throws on a status outside 2xx.
    static func measure(
        client: HTTPClient, method: String, concurrency: Int, requests: Int,
        makeRequest: @escaping @Sendable (Int) -> HTTPClientRequest
    ) async throws -> Level {
        @Sendable func one(_ number: Int) async throws -> (latency: Double, bytes: Int) {
            let request = makeRequest(number)
            let start = ContinuousClock.now
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 22)
            guard (200..<300).contains(response.status.code) else { throw HTTPCeilingError.status(Int(response.status.code)) }
            return (BenchSupport.seconds(ContinuousClock.now - start), body.readableBytes)
        }
        let start = ContinuousClock.now
        var bytes = 0
        var latencies = try await withThrowingTaskGroup(of: (latency: Double, bytes: Int).self) { group in
            var started = 0
            var latencies: [Double] = []
            latencies.reserveCapacity(requests)
            while started < min(concurrency, requests) {
                let number = started
                group.addTask { try await one(number) }
                started += 1
            }
            while let done = try await group.next() {
                latencies.append(done.latency)
                bytes += done.bytes
                if started < requests {
                    let number = started
                    group.addTask { try await one(number) }
                    started += 1
                }
            }
            return latencies
        }
        let elapsed = BenchSupport.seconds(ContinuousClock.now - start)
        latencies.sort()
        return Level(
            method: method, concurrency: concurrency, requests: requests, requestsPerSecond: Double(requests) / elapsed,
            p50Milliseconds: BenchSupport.percentile(latencies, 0.5) * 1000,
            p99Milliseconds: BenchSupport.percentile(latencies, 0.99) * 1000,
            meanBodyBytes: Double(bytes) / Double(max(requests, 1)))
    }

    /// Runs `router` on 127.0.0.1 with a free port while `body` runs.
    static func withServer<T: Sendable>(_ router: Router<BasicRequestContext>, _ body: @Sendable (String) async throws -> T)
        async throws -> T
    {
        var logger = Logger(label: "certwatch.bench.http")
        logger.logLevel = .error
        return try await LoopbackServer.withRunning(
            logger: logger,
            makeService: { [logger] onListening in
                Application(
                    router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
            }, body)
    }

    /// The benchmark as a printable result.
    package static func result(_ levels: [Level]) -> BenchResult {
        var result = BenchResult(name: "http-ceiling")
        result.say("raw loopback rate of the project's HTTP client (AsyncHTTPClient, DouyinClient settings) vs a trivial Hummingbird handler")
        for level in levels {
            let key = "\(level.method.lowercased())_c\(level.concurrency)"
            result.add("\(key)_per_s", level.requestsPerSecond)
            result.add("\(key)_p50_ms", level.p50Milliseconds)
            result.add("\(key)_p99_ms", level.p99Milliseconds)
            result.say(
                "  " + level.method.padding(toLength: 5, withPad: " ", startingAt: 0)
                    + String(
                    format: "concurrency %2d: %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests)",
                    level.concurrency, level.requestsPerSecond, level.p50Milliseconds, level.p99Milliseconds,
                    level.requests))
        }
        return result
    }
}

/// Failures of ``HTTPCeilingBenchmark``.
package enum HTTPCeilingError: Error, Sendable {
    /// The handler answered outside 2xx.
    case status(Int)
    /// The server stopped before listening.
    case notListening
}
