import AsyncHTTPClient
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Logging

/// The repository root (tests read shipped files such as rules and scenarios from it).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// A fresh database file in a temporary directory.
func temporaryStore() throws -> Store {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return try Store(path: directory.appendingPathComponent("certwatch.sqlite").path)
}

/// The sandbox (manual clock), a watcher against it over loopback HTTP, and one shared clock.
struct Harness: Sendable {
    let sandbox: DouyinSandbox
    let store: Store
    let clock: ManualWallClock
    let watcher: Watcher
    let client: DouyinClient
    let baseURL: String

    /// Moves both the sandbox's clock and the watcher's by `seconds`.
    func advance(_ seconds: Double) async throws {
        _ = try await sandbox.advanceClock(by: seconds)
        clock.advance(seconds)
    }

    /// Registers an order now.
    @discardableResult
    func register(_ orderID: String, labels: [String: String] = [:]) async throws -> Watch {
        let now = clock.unixNow
        return try await store.register(
            WatchRegistration(orderID: orderID, labels: labels), now: now,
            firstPollAt: watcher.configuration.policy.firstPoll(now: now)
        ).watch
    }

    /// Runs the watcher for `seconds` of virtual time: jumps the clocks from one due poll to the
    /// next (at least `step` seconds at a time) and polls; returns the events appended.
    func run(for seconds: Double, step: Double = 1) async throws -> [CertWatchEvent] {
        var events: [CertWatchEvent] = []
        let end = clock.now() + seconds
        while clock.now() < end {
            let now = clock.now()
            let next = try await store.nextDue(now: clock.unixNow).map(Double.init) ?? end
            try await advance(min(max(next - now, step), end - now))
            for outcome in try await watcher.pollDue() {
                if case .polled(let appended) = outcome { events += appended }
            }
        }
        return events
    }

    static let start: Int64 = 1_734_169_082

    /// Runs `body` with a sandbox served on 127.0.0.1 and a watcher pointed at it.
    static func with<T: Sendable>(
        faults: FaultProfile = FaultProfile(), policy: PollPolicy = PollPolicy(jitter: 0), scenario: Scenario? = nil,
        afterAppend: AfterAppend? = nil, _ body: @Sendable (Harness) async throws -> T
    ) async throws -> T {
        let sandbox = DouyinSandbox(
            configuration: SandboxConfiguration(faults: faults, scenario: scenario), clock: .manual(at: start))
        let server = DouyinSandboxServer(sandbox: sandbox, port: 0)
        return try await server.withRunning { baseURL in
            let store = try temporaryStore()
            let clock = ManualWallClock(Double(start))
            let configuration = DouyinClientConfiguration(
                baseURL: baseURL, clientKey: "sandbox_key", clientSecret: "sandbox_secret")
            let http = DouyinClient.makeHTTPClient(configuration)
            let client = DouyinClient(
                configuration: configuration, httpClient: http, now: { Date(timeIntervalSince1970: clock.now()) })
            var logger = Logger(label: "test.watcher")
            logger.logLevel = .critical
            let watcher = Watcher(
                store: store, client: client, clock: clock,
                configuration: WatcherConfiguration(policy: policy, qps: 10_000, concurrency: 4), logger: logger,
                afterAppend: afterAppend)
            let harness = Harness(sandbox: sandbox, store: store, clock: clock, watcher: watcher, client: client, baseURL: baseURL)
            do {
                let result = try await body(harness)
                try await http.shutdown()
                return result
            } catch {
                try? await http.shutdown()
                throw error
            }
        }
    }
}
