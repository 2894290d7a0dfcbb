import CertWatch
import CertWatchCore
import CertWatchTesting
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Logging
import ServiceLifecycle

/// `certwatch demo`: the whole pipeline on real-shaped data, in under a minute.
///
/// An in-process sandbox plays the shipped pickup-store scenario at accelerated time; the merchant
/// "backend" registers each order as it appears; every service `serve` runs, assembled by the same
/// ``CertWatchServices`` (watcher, rules and their reloads, outbox, group summaries, retention,
/// dispatcher, the HTTP API with the push intake; only the configuration and the clock differ)
/// delivers every event to a stdout sink and to a signed webhook sink pointed at an in-process
/// receiver that verifies each signature. The sandbox pushes its 券消息通知 (lost, repeated,
/// delayed and reordered as the profile's `push` keys say) to certwatch's own `/douyin/webhook` on
/// loopback. The scenario's merchant account is a certwatch account with the change feed and the
/// sweep on (``feedInterval``, ``sweepInterval``), and the backend never registers the orders whose
/// label ends in `-unregistered` (``isUnregistered(label:)``), so the summary can show which
/// detector — push, feed, sweep or a routine poll — first saw each change, which orders nobody
/// registered the feed and the sweep found, and the verification cancelled before any poll (only
/// the sweep's verify records show it).
package struct Demo: Sendable {
    /// Output format of the event lines.
    package enum Format: String, Sendable, CaseIterable {
        /// Readable lines.
        case text
        /// One CloudEvents JSON object per line (the summary goes to stderr).
        case json
    }

    /// Real seconds the scenario's day is squeezed into (default 40).
    package var duration: Double
    /// Seed of the sandbox's faults and data.
    package var seed: UInt64
    /// Fault profile: a built-in name (`demo`, `none`, `wild`, `busy30`, `flaky`, `token-chaos`, `rate-limited`) or a YAML file.
    package var faults: String
    /// Keep serving after the scenario (until Ctrl-C).
    package var keepRunning: Bool
    /// Database path (default: a temporary file, removed afterwards).
    package var databasePath: String?
    /// The scenario file.
    package var scenarioPath: String
    /// Rule files or directories.
    package var rulePaths: [String]
    /// Output format.
    package var format: Format

    package init(
        duration: Double = 40, seed: UInt64 = 42, faults: String = "demo", keepRunning: Bool = false,
        databasePath: String? = nil, scenarioPath: String = "deploy/sandbox/scenarios/pickup-store-day.yaml",
        rulePaths: [String] = ["rules/"], format: Format = .text
    ) {
        self.duration = duration
        self.seed = seed
        self.faults = faults
        self.keepRunning = keepRunning
        self.databasePath = databasePath
        self.scenarioPath = scenarioPath
        self.rulePaths = rulePaths
        self.format = format
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "certwatch.demo")
        logger.logLevel = .critical
        return logger
    }

    /// The demo's fault profile: Douyin busy now and then, early token expiry, a QPS quota, and
    /// pushes that are sometimes lost (30 %), repeated (10 %), late (up to 30 s) or overtaken (10 %).
    package static let demoFaults = FaultProfile(
        name: "demo", qps: 30, burst: 10,
        faults: [FaultRule(kind: .busy, probability: 0.04), FaultRule(kind: .tokenExpired, probability: 0.01)],
        push: PushFaults(loss: 0.3, duplicate: 0.1, delayMaxSeconds: 30, reorder: 0.1, reorderDelaySeconds: 120))

    /// Runs the demo; writes event lines through `emit` and returns the summary.
    /// Throws ``DemoError`` when the scenario, rules or fault profile cannot be loaded.
    package func run(emit: @escaping @Sendable (String) -> Void) async throws -> DemoSummary {
        let (scenario, profile) = try loadInputs()
        let day = Double(Self.dayLength(scenario))
        let speed = day / max(duration, 1)
        let origin = Date().timeIntervalSince1970.rounded(.down)
        let clock = ScaledWallClock(origin: origin, speed: speed)
        let quiet = Self.quietLogger

        let sandbox = DouyinSandbox(
            configuration: Self.sandboxConfiguration(seed: seed, faults: profile, scenario: scenario),
            clock: .system(speed: speed, now: Date(timeIntervalSince1970: origin)))
        let secret = "whsec_" + Data("certwatch-demo-secret-\(seed)".utf8).base64EncodedString()
        let verified = Counter()
        // The receiver answers 503 to one request in ten, so retries show in the summary.
        let receiver = WebhookReceiver(
            secrets: [secret], behaviour: ReceiverBehaviour(failRate: 0.1), now: { clock.now() },
            onReceive: { webhook in
            if webhook.verified == true { verified.add() }
        })

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        return try await DouyinSandboxServer(sandbox: sandbox, port: 0, logger: quiet).withRunning { sandboxURL in
            try await receiver.withRunning { receiverURL in
                var configuration = try demoConfiguration(
                    sandboxURL: sandboxURL, receiverURL: receiverURL, secret: secret, directory: directory.path)
                configuration.accounts = AccountsConfiguration(accounts: Self.accounts(scenario))
                configuration.database = databasePath ?? directory.appendingPathComponent("demo.sqlite").path
                let store = try Store(path: configuration.database)
                // The sandbox pushes its 券消息通知 to certwatch's own /douyin/webhook once the server listens.
                let (ports, port) = AsyncStream<Int>.makeStream()
                let pusher = PusherRelay(sandbox: sandbox, ports: ports, logger: quiet)
                let services = try CertWatchServices(
                    configuration: configuration, clock: clock,
                    options: .init(
                        makeLogger: { _ in quiet },
                        stdout: { data in emit(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)) },
                        store: store, dispatcher: DispatcherConfiguration(idleCheck: 5, seed: seed), groupCheckInterval: 60,
                        onServerRunning: { port.yield($0) },
                        inputs: [
                            .init(
                                service: Registrar(sandbox: sandbox, store: store, clock: clock, policy: configuration.watcher.policy),
                                serviceName: "demo-registrar"),
                            .init(service: pusher, serviceName: "demo-pusher"),
                        ]))
                await sandbox.enablePushes()
                do {
                    try await play(services)
                } catch {
                    try? await services.shutdown()
                    throw error
                }
                try await services.shutdown()
                return try await DemoSummary.collect(
                    store: store, dispatcher: services.dispatcher, sandbox: sandbox, signaturesVerified: verified.value,
                    received: receiver.requestCount, speed: speed, databasePath: databasePath, pushes: pusher.outcomes,
                    accounts: configuration.accounts.accounts)
            }
        }
    }

    /// Runs the services for ``duration`` real seconds (or until a signal with ``keepRunning``),
    /// lets the outbox drain (at most 3 s) so the summary does not end on a pending delivery, then
    /// shuts them down gracefully.
    func play(_ services: CertWatchServices) async throws {
        enum Ending: Sendable { case stopped, timeUp }
        try await withThrowingTaskGroup(of: Ending.self) { tasks in
            tasks.addTask {
                try await services.run()
                return .stopped
            }
            tasks.addTask {
                if keepRunning {
                    try await Task.sleep(for: .seconds(365 * 86_400))
                } else {
                    try await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
                }
                for _ in 0..<30 {
                    let open = try await services.store.deliveryCounts().values.reduce(0) {
                        $0 + ($1[.pending] ?? 0) + ($1[.retrying] ?? 0)
                    }
                    if open == 0 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                await services.group.triggerGracefulShutdown()
                return .timeUp
            }
            while let ending = try await tasks.next() {
                if ending == .stopped { tasks.cancelAll() }  // stopped by a signal: no more waiting
            }
        }
    }

    /// The demo's configuration: the sandbox as Douyin, the watcher settings of
    /// ``watcherConfiguration``, the HTTP server on a free loopback port, push on, and the sinks
    /// `stdout` (pretty in text format), `webhook` (the signing receiver) and, for every other sink
    /// a rule file names (`dingtalk-ops` in `rules/examples/`), a stdout sink that prints the
    /// delivery's body — so `--rules rules/examples/dingtalk-store-summary.yaml` prints the store
    /// summary a DingTalk group would get. A rule sending every event to `webhook` is added (written
    /// to `directory`). Throws ``DemoError`` when the rules do not check.
    func demoConfiguration(sandboxURL: String, receiverURL: String, secret: String, directory: String) throws
        -> CertWatchConfiguration
    {
        var configuration = try CertWatchConfiguration.load(path: nil, environment: [:])
        configuration.douyin = DouyinClientConfiguration(baseURL: sandboxURL, clientKey: "sandbox_key", clientSecret: "sandbox_secret")
        configuration.watcher = Self.watcherConfiguration
        configuration.listen = "127.0.0.1:0"
        configuration.push = PushConfiguration(enabled: true)
        let demoRules = directory + "/rules"
        try FileManager.default.createDirectory(atPath: demoRules, withIntermediateDirectories: true)
        try Data("rules:\n  - name: demo-everything-to-webhook\n    on: [\"*\"]\n    deliver: [webhook]\n".utf8)
            .write(to: URL(fileURLWithPath: demoRules + "/demo-webhook.yaml"))
        configuration.rulePaths = rulePaths + [demoRules]
        var sinks = [
            SinkConfiguration(name: "stdout", kind: .stdout, pretty: format == .text),
            SinkConfiguration(
                name: "webhook", kind: .webhook, url: receiverURL + "/certwatch", secrets: [secret], allowPrivate: true,
                retry: RetrySchedule.standard),
        ]
        let named: Set<String>
        do {
            named = Set(try RuleSet.load(paths: configuration.rulePaths, knownSinks: nil).rules.flatMap(\.deliver))
        } catch {
            throw DemoError(message: "rules: \(error)")
        }
        for name in named.subtracting(sinks.map(\.name)).sorted() {
            sinks.append(SinkConfiguration(name: name, kind: .stdout, pretty: false))
        }
        configuration.sinks = sinks
        return configuration
    }
}

/// Runs the sandbox's pusher against certwatch's `/douyin/webhook` once the HTTP server's port is known.
final class PusherRelay: Service, Sendable {
    let sandbox: DouyinSandbox
    let ports: AsyncStream<Int>
    let logger: Logger
    private let pusher = Mutex<SandboxPusher?>(nil)

    init(sandbox: DouyinSandbox, ports: AsyncStream<Int>, logger: Logger) {
        self.sandbox = sandbox
        self.ports = ports
        self.logger = logger
    }

    /// What certwatch's intake answered, by outcome (empty before the server listened).
    var outcomes: [String: Int] { pusher.withLock { $0?.outcomes } ?? [:] }

    func run() async throws {
        var port: Int?
        for await listening in ports.cancelOnGracefulShutdown() {
            port = listening
            break
        }
        guard let port else { return }
        let pusher = SandboxPusher(sandbox: sandbox, url: "http://127.0.0.1:\(port)/douyin/webhook", logger: logger)
        self.pusher.withLock { $0 = pusher }
        try await pusher.run()
    }
}

extension Demo {
    /// The watcher settings of the demo: the poll policy with a 15-minute base interval, 0.2 QPS.
    /// Routine polls 10 to 15 sandbox minutes apart: the scenario spaces each certificate's changes
    /// at least 20 minutes, so every change is seen even with every push lost, and the sandbox's
    /// (real-time) rate limit is met only now and then at 1,350× speed.
    /// Stalls count failures only: the sandbox's rate limit runs on real time, so at this speed a
    /// few real seconds of 2119003 are a sandbox hour, which is not what `poll.stall_after` means.
    static let watcherConfiguration = WatcherConfiguration(
        policy: PollPolicy(minInterval: 600, maxInterval: 900), qps: 0.2, concurrency: 8, idleCheck: 5,
        stall: StallPolicy(failures: 5, duration: 0))

    /// The change feed's interval in the demo, sandbox seconds: every 5 demo-minutes (about
    /// 0.2 real seconds at the default 1,350×), so it runs some 180 times in the day.
    package static let feedInterval: Int64 = 300
    /// The sweep's interval in the demo, sandbox seconds: every 30 demo-minutes (about 1.3 real
    /// seconds), some 30 runs in the day.
    package static let sweepInterval: Int64 = 1_800

    /// Whether the demo's merchant backend leaves an order unregistered: its scenario label ends in
    /// `-unregistered` (bought through a channel the backend never hears of). In the shipped
    /// scenario, K-unregistered and L-unregistered, 2 of its 12 orders.
    package static func isUnregistered(label: String?) -> Bool {
        label?.hasSuffix("-unregistered") ?? false
    }

    /// The demo's merchant accounts: every `account_id` the scenario's orders name, and the
    /// sandbox's own (orders without one), with the feed and the sweep on at ``feedInterval`` and
    /// ``sweepInterval``, every store.
    static func accounts(_ scenario: Scenario) -> [AccountSettings] {
        let ids = Set(scenario.steps.compactMap { $0.create.map { $0.accountID ?? SandboxConfiguration().accountID } })
        return (ids.isEmpty ? [SandboxConfiguration().accountID] : ids).sorted().map {
            AccountSettings(
                accountID: $0, name: "demo merchant", feed: .init(enabled: true, interval: feedInterval),
                sweep: .init(enabled: true, interval: sweepInterval))
        }
    }

    /// The sandbox of the demo: the scenario, seed and fault profile. Its list APIs' quotas (订单查询,
    /// 验券历史查询) run on real time like the certificate query's: at 30 per real second (as the
    /// demo profile's certificate query), so the feed's runs, a few per real second at the demo's
    /// speed, stay within them.
    static func sandboxConfiguration(seed: UInt64, faults: FaultProfile, scenario: Scenario) -> SandboxConfiguration {
        SandboxConfiguration(seed: seed, faults: faults, scenario: scenario, orderQueryQPS: 30, verifyRecordQueryQPS: 30)
    }

    /// Sandbox seconds the demo plays: the scenario's last step plus an hour.
    static func dayLength(_ scenario: Scenario) -> Int64 {
        (scenario.steps.map(\.at.seconds).max() ?? 3_600) + 3_600
    }

    /// The scenario file and the fault profile (`demo`, a built-in name or a YAML file).
    /// Throws ``DemoError`` naming what cannot be loaded.
    func loadInputs() throws -> (Scenario, FaultProfile) {
        let scenario: Scenario
        do {
            scenario = try Scenario.load(path: scenarioPath)
        } catch {
            throw DemoError(message: "\(scenarioPath): \(error) (run the demo from the repository root, or pass --scenario)")
        }
        do {
            return (scenario, faults == "demo" ? Self.demoFaults : try FaultProfile.load(nameOrPath: faults))
        } catch {
            throw DemoError(message: "--faults \(faults): \(error)")
        }
    }

    /// The demo's day on a virtual clock: the same scenario, seed, fault profile, poll policy,
    /// merchant registrations and account detectors (feed and sweep, at the same intervals) as
    /// ``run(emit:)``, but the sandbox's and the watcher's clocks move by `step` seconds at a time
    /// with no real waiting, so a run is reproducible. Each step registers, runs the due detectors
    /// (the feed and the sweep side by side), then polls one at a time, and the QPS budget is not
    /// simulated (it only delays polls by seconds). There are no pushes. No rules or delivery: returns
    /// every event detected and what the sandbox answered. `origin` is the day's start (Unix
    /// seconds; default 2025-12-01 08:00 in China). Throws ``DemoError`` for bad inputs.
    package func detectDay(origin: Int64 = 1_764_547_200, step: Double = 60) async throws -> Day {
        let (scenario, profile) = try loadInputs()
        let quiet = Self.quietLogger
        let sandbox = DouyinSandbox(
            configuration: Self.sandboxConfiguration(seed: seed, faults: profile, scenario: scenario), clock: .manual(at: origin))
        let clock = ManualWallClock(Double(origin))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if databasePath == nil { try? FileManager.default.removeItem(at: directory) } }
        let store = try Store(path: databasePath ?? directory.appendingPathComponent("demo.sqlite").path)
        return try await DouyinSandboxServer(sandbox: sandbox, port: 0, logger: quiet).withRunning { sandboxURL in
            let douyin = DouyinClientConfiguration(baseURL: sandboxURL, clientKey: "sandbox_key", clientSecret: "sandbox_secret")
            let http = DouyinClient.makeHTTPClient(douyin)
            let client = DouyinClient(
                configuration: douyin, httpClient: http, now: { Date(timeIntervalSince1970: clock.now()) }, logger: quiet)
            var configuration = Self.watcherConfiguration
            configuration.qps = 1_000_000
            // Unlimited quota would poll every watch at the 30 s floor; poll every 15 minutes, as the
            // live demo's day at most does, so both days see the same changes at the same sandbox times.
            configuration.policy.minInterval = 900
            configuration.concurrency = 1
            let watcher = Watcher(store: store, client: client, clock: clock, configuration: configuration, logger: quiet)
            let registrar = Registrar(sandbox: sandbox, store: store, clock: clock, policy: configuration.policy)
            let monitor = AccountMonitor(
                store: store, client: client, clock: clock, orderQPS: 1_000_000, verifyRecordQPS: 1_000_000,
                fileAccounts: Self.accounts(scenario), logger: quiet)
            do {
                try await monitor.saveFileAccounts()
                var known = Set<String>()
                let end = Double(origin + Self.dayLength(scenario))
                while clock.now() < end {
                    try await sandbox.advanceClock(by: step)
                    clock.advance(step)
                    try await registrar.registerNew(&known)
                    try await monitor.runDue()
                    _ = try await watcher.pollDue()
                }
                try await http.shutdown()
            } catch {
                try? await http.shutdown()
                throw error
            }
            let requests = await sandbox.requests(limit: Int.max)
            return Day(
                events: try await store.events(limit: 1_000_000), requests: requests.count,
                driftedAnswers: requests.filter { $0.fault == "drift" }.count)
        }
    }

    /// What ``detectDay(origin:step:)`` saw.
    package struct Day: Sendable {
        /// Every event detected, oldest first.
        package var events: [CertWatchEvent]
        /// Requests the sandbox answered (within its request log, 10,000 by default).
        package var requests: Int
        /// Of those, answers in drifted shapes (fault `drift`, the `wild` profile).
        package var driftedAnswers: Int
    }
}

/// Registers each sandbox order as it appears, the way a merchant backend would — except those
/// ``Demo/isUnregistered(label:)`` names, which only the account's feed and sweep can find.
struct Registrar: Service {
    let sandbox: DouyinSandbox
    let store: Store
    let clock: any WallClock
    let policy: PollPolicy

    func run() async throws {
        var known = Set<String>()
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try await registerNew(&known)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// Registers the orders not in `known` (and adds them to it).
    func registerNew(_ known: inout Set<String>) async throws {
        for order in await sandbox.listOrders() where !known.contains(order.orderID) {
            known.insert(order.orderID)
            if Demo.isUnregistered(label: order.label) { continue }  // the backend never hears of it
            let now = clock.unixNow
            _ = try await store.register(
                WatchRegistration(orderID: order.orderID, labels: ["store": "pickup-01", "scenario_order": order.label ?? "-"]),
                now: now, firstPollAt: policy.firstPoll(now: now))
        }
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A demo that cannot start.
package struct DemoError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

import Synchronization
