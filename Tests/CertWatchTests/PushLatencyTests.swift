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

    /// Real time, the services as `serve` runs them (``CertWatchServices``: the watcher's routine
    /// workers and hint lane, the HTTP server with the intake on 127.0.0.1, the dispatcher, …) and
    /// the sandbox's pusher. The test waits for the appended event (no sleeps), then checks its time
    /// against the change.
    @Test("serve's services: the watcher and the pusher running, a verification is detected within 5 s of the push")
    func runningServices() async throws {
        let logger = Self.quiet
        let sandbox = DouyinSandbox(clock: .system())
        try await DouyinSandboxServer(sandbox: sandbox, port: 0, logger: logger).withRunning { sandboxURL in
            let policy = PollPolicy(jitter: 0, minInterval: 600, maxInterval: 600)
            let (ports, port) = AsyncStream<Int>.makeStream()
            let services = try CertWatchServices(
                configuration: try testConfiguration(
                    baseURL: sandboxURL, watcher: WatcherConfiguration(policy: policy, qps: 5, concurrency: 2)),
                options: .init(makeLogger: { _ in logger }, store: try temporaryStore(), onServerRunning: { port.yield($0) }))
            let result: Result<Void, any Error>
            do {
                result = .success(try await Self.detect(sandbox: sandbox, services: services, ports: ports, logger: logger))
            } catch {
                result = .failure(error)
            }
            try await services.shutdown()
            try result.get()
        }
    }

    static func detect(sandbox: DouyinSandbox, services: CertWatchServices, ports: AsyncStream<Int>, logger: Logger) async throws {
        let clock = SystemWallClock()
        let store = try #require(services.store as? Store)
        let appended = services.bus.subscribe()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run(signals: AsyncStream { _ in }) }
            var listening = ports.makeAsyncIterator()
            let port = try #require(await listening.next())
            let pusher = SandboxPusher(sandbox: sandbox, url: "http://127.0.0.1:\(port)/douyin/webhook", logger: logger)
            await sandbox.enablePushes()
            tasks.addTask { try await pusher.run() }
            // A watchdog, not a timing: if nothing is detected in 30 s the stream ends and the test fails.
            tasks.addTask {
                try? await Task.sleep(for: .seconds(30))
                services.bus.finish()
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
            await services.group.triggerGracefulShutdown()
            tasks.cancelAll()
            try? await tasks.waitForAll()
        }
    }
}
