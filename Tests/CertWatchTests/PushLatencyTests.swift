import AsyncHTTPClient
import CertWatch
import CertWatchCore
import CertWatchTesting
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Logging
import ServiceLifecycle
import Testing

/// Issue 18's must-show: the assembled watcher, HTTP intake and the real sandbox pushing over
/// 127.0.0.1, with routine polls 10 minutes apart, detect a verification within 5 s of the push.
@Suite("Push detection latency")
struct PushLatencyTests {
    static var quiet: Logger {
        var logger = Logger(label: "test.push")
        logger.logLevel = .critical
        return logger
    }

    /// Virtual time: the sandbox and the watcher share a manual clock moved one second at a time;
    /// each second the sandbox sends the pushes due (real HTTP to the intake) and the watcher polls
    /// what is due. Without the push the verification would wait for the routine poll 600 s later.
    @Test("routine polls 10 minutes apart: a sandbox verification is detected within 5 s of its push (virtual clock)")
    func virtualClock() async throws {
        try await Harness.with(policy: PollPolicy(jitter: 0, minInterval: 600, maxInterval: 600)) { h in
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            try await h.register(order.orderID)
            _ = try await h.run(for: 5)  // discovered; the next routine poll is 10 minutes away
            let logger = Self.quiet
            let intake = CertWatchAPI(
                store: h.store, clock: h.clock, apiKeys: ["k"],
                push: DouyinPushIntake(clientSecret: "sandbox_secret", store: h.store, clock: h.clock, policy: PollPolicy(), logger: logger))
            try await intake.withRunning(logger: logger) { url in
                let pusher = SandboxPusher(sandbox: h.sandbox, url: url + "/douyin/webhook", logger: logger)
                await h.sandbox.enablePushes()
                try await h.advance(37)
                try await h.sandbox.verify(certificateID: order.certificates[0].certificateID)
                let change = await h.sandbox.pushLog().last
                let changedAt = try #require(change).changedAt
                var verified: CertWatchEvent?
                for _ in 0..<5 where verified == nil {
                    #expect(await pusher.sendDue().allSatisfy { $0 == 200 })
                    for case .polled(let events) in try await h.watcher.pollDue() {
                        verified = verified ?? events.first { $0.type == .verified }
                    }
                    if verified == nil { try await h.advance(1) }
                }
                let event = try #require(verified)
                #expect(event.time - changedAt <= 5)
                #expect(pusher.outcomes == ["2xx": 1])
                #expect(try await h.store.detections().filter { $0.type == "certificate.verified" }.map(\.detectedBy) == [.push])
            }
        }
    }

    /// Real time, the services as `serve` runs them: the watcher's `run()` (routine workers and the
    /// hint lane) and the sandbox's pusher in one ServiceGroup, the intake served on 127.0.0.1. The
    /// test waits for the appended event (no sleeps), then checks its time against the change.
    @Test("serve's services: the watcher and the pusher running, a verification is detected within 5 s of the push")
    func runningServices() async throws {
        let logger = Self.quiet
        let sandbox = DouyinSandbox(clock: .system())
        try await DouyinSandboxServer(sandbox: sandbox, port: 0, logger: logger).withRunning { sandboxURL in
            let store = try temporaryStore()
            let clock = SystemWallClock()
            let configuration = DouyinClientConfiguration(baseURL: sandboxURL, clientKey: "sandbox_key", clientSecret: "sandbox_secret")
            let http = DouyinClient.makeHTTPClient(configuration)
            let client = DouyinClient(configuration: configuration, httpClient: http, logger: logger)
            let (appended, sink) = AsyncStream<[CertWatchEvent]>.makeStream()
            let policy = PollPolicy(jitter: 0, minInterval: 600, maxInterval: 600)
            let watcher = Watcher(
                store: store, client: client, clock: clock, configuration: WatcherConfiguration(policy: policy, qps: 5, concurrency: 2),
                logger: logger, onAppend: { sink.yield($0) })
            let intake = CertWatchAPI(
                store: store, clock: clock, policy: policy, apiKeys: ["k"], watcher: watcher,
                push: DouyinPushIntake(clientSecret: "sandbox_secret", store: store, clock: clock, policy: policy, logger: logger))
            let result: Result<Void, any Error>
            do {
                result = .success(try await Self.detect(sandbox: sandbox, store: store, watcher: watcher, intake: intake, appended: appended, sink: sink, logger: logger))
            } catch {
                result = .failure(error)
            }
            try await http.shutdown()
            try result.get()
        }
    }

    static func detect(
        sandbox: DouyinSandbox, store: Store, watcher: Watcher, intake: CertWatchAPI, appended: AsyncStream<[CertWatchEvent]>,
        sink: AsyncStream<[CertWatchEvent]>.Continuation, logger: Logger
    ) async throws {
            let clock = SystemWallClock()
            try await intake.withRunning(logger: logger) { url in
                let pusher = SandboxPusher(sandbox: sandbox, url: url + "/douyin/webhook", logger: logger)
                await sandbox.enablePushes()
                let group = ServiceGroup(configuration: .init(services: [watcher, pusher], logger: logger))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    // A watchdog, not a timing: if nothing is detected in 30 s the stream ends and the test fails.
                    tasks.addTask {
                        try? await Task.sleep(for: .seconds(30))
                        sink.finish()
                    }
                    let order = try await sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
                    let now = clock.unixNow
                    _ = try await store.register(WatchRegistration(orderID: order.orderID), now: now, firstPollAt: now)
                    var events = appended.makeAsyncIterator()
                    let first = await events.next()
                    let discovered = try #require(first)
                    #expect(discovered.map(\.type).contains(.discovered))
                    try await sandbox.verify(certificateID: order.certificates[0].certificateID)
                    let change = await sandbox.pushLog().last
                    let changedAt = try #require(change).changedAt
                    var verified: CertWatchEvent?
                    while verified == nil, let batch = await events.next() {
                        verified = batch.first { $0.type == .verified }
                    }
                    let event = try #require(verified)
                    #expect(event.time - changedAt <= 5)
                    #expect(try await store.detections().filter { $0.type == "certificate.verified" }.map(\.detectedBy) == [.push])
                    await group.triggerGracefulShutdown()
                    tasks.cancelAll()
                    try? await tasks.waitForAll()
                }
            }
        }
    }
