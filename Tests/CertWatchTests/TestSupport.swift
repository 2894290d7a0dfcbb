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

/// The sandbox (manual clock), certwatch's services against it over loopback HTTP (assembled by
/// ``CertWatchServices``, as `serve` does; tests drive the steps), and one shared clock.
struct Harness: Sendable {
    let sandbox: DouyinSandbox
    let services: CertWatchServices
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

    /// Runs `body` with a sandbox served on 127.0.0.1 and certwatch's services pointed at it:
    /// `policy` for the watcher (10,000 QPS, 4 at a time), the rule files `rulePaths` (default none:
    /// events are recorded, nothing is delivered) and `sinks` (stdout sinks write nowhere).
    static func with<T: Sendable>(
        faults: FaultProfile = FaultProfile(), policy: PollPolicy = PollPolicy(jitter: 0), scenario: Scenario? = nil,
        rulePaths: [String] = [], sinks: [SinkConfiguration] = [], _ body: @Sendable (Harness) async throws -> T
    ) async throws -> T {
        let sandbox = DouyinSandbox(
            // The sandbox's list-API quotas as high as the watcher's (10,000): on a manual clock the
            // sandbox's second does not move while certwatch's budgets wait.
            configuration: SandboxConfiguration(
                faults: faults, scenario: scenario, orderQueryQPS: 10_000, verifyRecordQueryQPS: 10_000),
            clock: .manual(at: start))
        let server = DouyinSandboxServer(sandbox: sandbox, port: 0)
        return try await server.withRunning { baseURL in
            let clock = ManualWallClock(Double(start))
            let store = try temporaryStore()
            let services = try CertWatchServices(
                configuration: try testConfiguration(
                    baseURL: baseURL, watcher: WatcherConfiguration(policy: policy, qps: 10_000, concurrency: 4),
                    rulePaths: rulePaths, sinks: sinks),
                clock: clock,
                options: .init(
                    makeLogger: { _ in quietLogger() }, stdout: { _ in }, store: store,
                    dispatcher: DispatcherConfiguration(seed: 1)))
            let harness = Harness(
                sandbox: sandbox, services: services, store: store, clock: clock, watcher: services.watcher,
                client: services.client, baseURL: baseURL)
            do {
                let result = try await body(harness)
                try await services.shutdown()
                return result
            } catch {
                try? await services.shutdown()
                throw error
            }
        }
    }
}

/// The configuration of a test instance: the sandbox at `baseURL` as Douyin, the HTTP server on a
/// free loopback port, the given watcher settings, rule files and sinks (plus the built-in stdout).
func testConfiguration(
    baseURL: String, watcher: WatcherConfiguration, rulePaths: [String] = [], sinks: [SinkConfiguration] = [],
    database: String? = nil
) throws -> CertWatchConfiguration {
    var configuration = try CertWatchConfiguration.load(path: nil, environment: [:], database: database)
    configuration.douyin = DouyinClientConfiguration(baseURL: baseURL, clientKey: "sandbox_key", clientSecret: "sandbox_secret")
    configuration.watcher = watcher
    configuration.listen = "127.0.0.1:0"
    configuration.rulePaths = rulePaths
    configuration.sinks = [SinkConfiguration.builtInStdout] + sinks.filter { $0.name != SinkConfiguration.builtInStdout.name }
    return configuration
}
