import AsyncHTTPClient
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Logging

/// Polls per second of the real ``Watcher`` (claim, HTTP query, decode, diff, one commit per poll)
/// against the in-process sandbox with its QPS limit lifted.
package enum PollPipelineBenchmark {
    /// One measured pass.
    package struct Pass: Sendable {
        /// What the pass was (`first sight`: every certificate new; `re-poll`: unchanged certificates).
        package var kind: String
        /// Watcher workers.
        package var concurrency: Int
        /// Polls made.
        package var polls: Int
        /// Events appended.
        package var events: Int
        /// Wall time, seconds.
        package var seconds: Double
        /// CPU time of the whole process (watcher, sandbox, HTTP on both sides) during the pass, seconds.
        package var cpuSeconds: Double = .nan
        /// Polls per second.
        package var pollsPerSecond: Double { Double(polls) / seconds }
        /// CPU milliseconds per poll (both ends of the loopback included).
        package var cpuMillisecondsPerPoll: Double { cpuSeconds / Double(polls) * 1000 }
        /// CPU milliseconds per raw sandbox GET (both ends included).
        package var cpuMillisecondsPerSandboxGet: Double = .nan
        /// Raw GETs of the same sandbox query (same client, token and concurrency; bodies read, not
        /// decoded) per second: what loopback HTTP and the in-process sandbox allow for these bodies.
        package var sandboxGetsPerSecond: Double = .nan
        /// Mean response body of those GETs, bytes.
        package var bodyBytes: Double = .nan
    }

    /// Registers `watches` orders (the sandbox's random mix, seeded) and runs the watcher's workers
    /// until every watch was polled once, for each `(kind, concurrency)` in `passes`; the first pass
    /// sees every certificate for the first time, later passes re-poll (all made due again).
    package static func run(watches: Int = 10_000, concurrencies: [Int] = [8, 64]) async throws -> [Pass] {
        let clock = SystemWallClock()
        let start = clock.unixNow
        let sandbox = DouyinSandbox(configuration: SandboxConfiguration(faults: FaultProfile()))
        var serverLogger = Logger(label: "certwatch.bench.sandbox")
        serverLogger.logLevel = .error
        let server = DouyinSandboxServer(sandbox: sandbox, port: 0, logger: serverLogger)
        var orders: [CreatedOrder] = []
        var remaining = watches
        var seed: UInt64 = 42
        while remaining > 0 {
            let count = min(remaining, 10_000)
            orders += try await sandbox.createRandomOrders(RandomOrdersSpec(count: count, seed: seed))
            remaining -= count
            seed += 1
        }
        let directory = try BenchSupport.temporaryDirectory("poll")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("certwatch.sqlite").path)
        for batch in stride(from: 0, to: orders.count, by: 5_000) {
            let registrations = orders[batch..<min(batch + 5_000, orders.count)].map { WatchRegistration(orderID: $0.orderID) }
            _ = try await store.registerMany(registrations, now: start, firstPollAt: start)
        }
        let orderIDs = orders.map(\.orderID)
        return try await server.withRunning { baseURL in
            var passes: [Pass] = []
            for (index, concurrency) in ([concurrencies.first ?? 8] + concurrencies).enumerated() {
                if index > 0 {
                    // Make every watch due again (steady state: certificates already known).
                    let now = clock.unixNow
                    try await store.makeEveryWatchDue(at: now)
                }
                // certwatch as `serve` assembles it, with this pass's watcher settings and no rules.
                let services = try CertWatchServices(
                    configuration: try configuration(baseURL: baseURL, concurrency: concurrency), clock: clock,
                    options: .init(makeLogger: { label in
                        var logger = Logger(label: label)
                        logger.logLevel = .critical
                        return logger
                    }, store: store))
                do {
                    var measured = try await pass(kind: index == 0 ? "first sight" : "re-poll", services: services, store: store)
                    if index > 0 {
                        (measured.sandboxGetsPerSecond, measured.bodyBytes, measured.cpuMillisecondsPerSandboxGet) = try await rawSandboxGets(
                            http: services.douyinHTTP, client: services.client, baseURL: baseURL, orderIDs: orderIDs,
                            concurrency: concurrency)
                    }
                    passes.append(measured)
                } catch {
                    try? await services.shutdown()
                    throw error
                }
                try await services.shutdown()
            }
            return passes
        }
    }

    /// The configuration of a pass: the sandbox at `baseURL` as Douyin, its QPS limit lifted,
    /// `concurrency` workers, no rule files (events are recorded, nothing is delivered).
    static func configuration(baseURL: String, concurrency: Int) throws -> CertWatchConfiguration {
        var configuration = try CertWatchConfiguration.load(path: nil, environment: [:])
        configuration.douyin = DouyinClientConfiguration(baseURL: baseURL, clientKey: "sandbox_key", clientSecret: "sandbox_secret")
        configuration.watcher = WatcherConfiguration(qps: 1_000_000, concurrency: concurrency, idleCheck: 0.05)
        configuration.rulePaths = []
        return configuration
    }

    /// Runs the watcher of `services` until every watch due at the start was polled once.
    static func pass(kind: String, services: CertWatchServices, store: Store) async throws -> Pass {
        let clock = services.clock
        let watcher = services.watcher
        let concurrency = watcher.configuration.concurrency
        let before = try await store.lastSequence()
        let pollsBefore = try await totalPolls(store)
        try await Task.sleep(for: .seconds(1.05))  // so `last_polled_at >= polledAt` means "polled in this pass"
        let polledAt = clock.unixNow
        try await store.rescheduleActiveWatches(at: polledAt)
        let start = ContinuousClock.now
        let cpuStart = BenchSupport.cpuSeconds()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watcher.run() }
            // Wait until nothing is due any more (every watch polled once and committed: its next poll
            // is in the future, or it is done). Counted on the due index, so the check costs little.
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                let due = try await store.dueWatchCount(now: polledAt)
                if due == 0 { break }
            }
            group.cancelAll()
            try await group.waitForAll()
        }
        let seconds = BenchSupport.seconds(ContinuousClock.now - start)
        let cpu = BenchSupport.cpuSeconds() - cpuStart
        let after = try await store.lastSequence()
        let polls = try await totalPolls(store) - pollsBefore
        var result = Pass(kind: kind, concurrency: concurrency, polls: polls, events: Int(after - before), seconds: seconds)
        result.cpuSeconds = cpu
        return result
    }

    /// GETs of the sandbox's query endpoint for the registered orders (cycling), as the watcher
    /// sends them, without decoding: requests/s, mean body size (bytes) and CPU ms per request.
    static func rawSandboxGets(
        http: HTTPClient, client: DouyinClient, baseURL: String, orderIDs: [String], concurrency: Int
    ) async throws -> (Double, Double, Double) {
        let token = try await client.tokens.token().value
        let requests = min(orderIDs.count, 8_000)
        let path = CertificateAPI.compreRetail.queryPath
        let cpuStart = BenchSupport.cpuSeconds()
        let level = try await HTTPCeilingBenchmark.measure(
            client: http, method: "GET", concurrency: concurrency, requests: requests
        ) { number in
            var request = HTTPClientRequest(url: baseURL + path + "?order_id=" + orderIDs[number % orderIDs.count])
            request.headers.add(name: "access-token", value: token)
            request.headers.add(name: "content-type", value: "application/json")
            return request
        }
        let cpuPerGet = (BenchSupport.cpuSeconds() - cpuStart) / Double(requests) * 1000
        return (level.requestsPerSecond, level.meanBodyBytes, cpuPerGet)
    }

    static func totalPolls(_ store: Store) async throws -> Int {
        try await store.totalPollCount()
    }

    /// The benchmark as a printable result; `ceiling` gives GET requests/s at a concurrency.
    package static func result(_ passes: [Pass], ceiling: (Int) -> Double?) -> BenchResult {
        var result = BenchResult(name: "poll-pipeline")
        result.say("real Watcher (claim → GET sandbox → decode → diff → commit) over loopback, sandbox QPS limit lifted")
        for pass in passes {
            let key = (pass.kind == "first sight" ? "first" : "repoll") + "_c\(pass.concurrency)"
            let ratio = ceiling(pass.concurrency).map { pass.pollsPerSecond / $0 } ?? .nan
            result.add("\(key)_polls_per_s", pass.pollsPerSecond)
            result.add("\(key)_ratio_to_get_ceiling", ratio)
            result.add("\(key)_cpu_ms_per_poll", pass.cpuMillisecondsPerPoll)
            if pass.sandboxGetsPerSecond.isFinite {
                result.add("\(key)_cpu_ms_per_raw_sandbox_get", pass.cpuMillisecondsPerSandboxGet)
                result.add("\(key)_raw_sandbox_get_per_s", pass.sandboxGetsPerSecond)
                result.add("\(key)_ratio_to_raw_sandbox_get", pass.pollsPerSecond / pass.sandboxGetsPerSecond)
                result.add("body_bytes", pass.bodyBytes)
            }
            result.say(
                String(
                    format: "  %@ concurrency %2d: %6.0f polls/s (%d polls, %d events, %.1f s) · ratio to GET ceiling %.2f %@",
                    pass.kind.padding(toLength: 11, withPad: " ", startingAt: 0) as NSString, pass.concurrency,
                    pass.pollsPerSecond, pass.polls, pass.events, pass.seconds, ratio,
                    (ratio >= 0.5 ? "(goal ≥ 0.5 met)" : "(goal ≥ 0.5 NOT met)") as NSString))
            if pass.sandboxGetsPerSecond.isFinite {
                result.say(
                    String(
                        format: "      raw GET of the same sandbox queries (%.0f-byte bodies, not decoded): %6.0f req/s, %.2f CPU ms each · pipeline/raw %.2f",
                        pass.bodyBytes, pass.sandboxGetsPerSecond, pass.cpuMillisecondsPerSandboxGet,
                        pass.pollsPerSecond / pass.sandboxGetsPerSecond))
            }
            result.say(String(format: "      CPU per poll (whole process: watcher, sandbox, both HTTP ends): %.2f ms", pass.cpuMillisecondsPerPoll))
        }
        return result
    }
}
