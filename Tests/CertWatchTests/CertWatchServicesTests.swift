import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import UnixSignals

/// The one assembly (``CertWatchServices``): the services stop in the order the daemon documents,
/// a poll in flight at shutdown commits its event and delivery, and a second signal cancels.
@Suite("Service assembly and shutdown")
struct CertWatchServicesTests {
    @Test("graceful shutdown stops the inputs, the HTTP server, the watcher, …, the dispatcher, the heartbeat last")
    func shutdownOrder() async throws {
        try await FakeDouyin.with { douyin in
            let services = try CertWatchServices(
                configuration: try testConfiguration(baseURL: douyin.baseURL, watcher: WatcherConfiguration()),
                clock: StillClock(),
                options: .init(
                    makeLogger: { _ in quietLogger() }, store: try temporaryStore(),
                    inputs: [.init(service: Idle(), serviceName: "backend")]))
            try await services.shutdown()
            #expect(
                services.shutdownOrder == [
                    "backend", "http-server", "account-monitor", "watcher", "rule-reloader", "group-flusher", "retention", "dispatcher", "replica-heartbeat",
                ])
        }
    }

    @Test("a poll in flight when SIGTERM comes completes after the server stopped; its events and deliveries commit", .timeLimit(.minutes(2)))
    func pollInFlightAtShutdown() async throws {
        try await FakeDouyin.with { douyin in
            let rig = try await Rig(douyin: douyin)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await rig.services.run(signals: rig.signals) }
                _ = try #require(await rig.nextPort())  // the server listens
                _ = try #require(await douyin.nextQuery())  // the poll is on the wire
                rig.signal.yield(.sigterm)
                await rig.log.waitFor("Service finished", service: "http-server")
                // The server has stopped (no longer accepts); the watcher still waits for Douyin.
                #expect(!rig.log.finished.contains("watcher"))
                douyin.release()
                try await tasks.waitForAll()
            }
            #expect(rig.log.triggered == ["http-server", "account-monitor", "watcher", "rule-reloader", "group-flusher", "retention", "dispatcher", "replica-heartbeat"])
            #expect(rig.log.finished == rig.log.triggered)
            // The documented example's certificates were discovered, each event with its delivery.
            let events = try await rig.services.store.events(after: 0, type: nil, orderID: nil, limit: 10_000)
            #expect(events.contains { $0.type == .discovered })
            let deliveries = try await rig.services.store.deliveries(limit: 10_000)
            #expect(deliveries.count == events.count)
            #expect(Set(deliveries.map(\.eventID)) == Set(events.map(\.id)))
            try await rig.services.shutdown()
        }
    }

    @Test("a second SIGTERM cancels at once: the held poll is abandoned and nothing of it commits", .timeLimit(.minutes(2)))
    func secondSignalCancels() async throws {
        try await FakeDouyin.with { douyin in
            let rig = try await Rig(douyin: douyin)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await rig.services.run(signals: rig.signals) }
                _ = try #require(await douyin.nextQuery())
                rig.signal.yield(.sigterm)
                await rig.log.waitFor("Service finished", service: "http-server")
                rig.signal.yield(.sigint)
                try await tasks.waitForAll()  // returns although Douyin never answered
            }
            douyin.release()
            #expect(try await rig.services.store.events(after: 0, type: nil, orderID: nil, limit: 100).isEmpty)
            try await rig.services.shutdown()
        }
    }
}

/// certwatch's services against ``FakeDouyin``, one watch due now, every event routed to stdout
/// (written nowhere), the group's log captured, signals fed by the test.
private struct Rig: Sendable {
    let services: CertWatchServices
    let log: ShutdownLog
    let signals: AsyncStream<UnixSignal>
    let signal: AsyncStream<UnixSignal>.Continuation
    let ports: AsyncStream<Int>

    init(douyin: FakeDouyin) async throws {
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: rules, withIntermediateDirectories: true)
        try Data("rules:\n  - name: all\n    on: [\"*\"]\n    deliver: [stdout]\n".utf8)
            .write(to: rules.appendingPathComponent("all.yaml"))
        let clock = StillClock()
        let log = ShutdownLog()
        let (ports, port) = AsyncStream<Int>.makeStream()
        let store = try temporaryStore()
        _ = try await store.register(WatchRegistration(orderID: "1001"), now: clock.unixNow, firstPollAt: clock.unixNow)
        services = try CertWatchServices(
            configuration: try testConfiguration(
                baseURL: douyin.baseURL, watcher: WatcherConfiguration(qps: 1_000, concurrency: 1), rulePaths: [rules.path]),
            clock: clock,
            options: .init(
                makeLogger: { label in label == "certwatch" ? log.logger : quietLogger() }, stdout: { _ in }, store: store,
                // Longer than a loaded machine needs to stop them (the test's own limit is 2 minutes): the
                // order is under test here, not the 10 s default, which turns into cancellation under load.
                shutdownGrace: .seconds(100), onServerRunning: { port.yield($0) }))
        self.log = log
        self.ports = ports
        (signals, signal) = AsyncStream<UnixSignal>.makeStream()
    }

    func nextPort() async -> Int? {
        var iterator = ports.makeAsyncIterator()
        return await iterator.next()
    }
}

/// A service that does nothing until graceful shutdown.
private struct Idle: Service {
    func run() async throws { try? await gracefulShutdown() }
}

/// A clock that stands still: `now` never moves and `sleep` returns only when cancelled, so the
/// services wake by signals and shutdown only, never by time.
final class StillClock: WallClock {
    func now() -> Double { 1_734_169_082 }
    func sleep(seconds: Double) async throws {
        let (never, keep) = AsyncStream<Never>.makeStream()
        for await _ in never {}
        withExtendedLifetime(keep) {}
        throw CancellationError()
    }
}

/// Douyin's token and certificate query endpoints on 127.0.0.1; each query answers the documented
/// example once the test calls ``release()``.
private struct FakeDouyin: Sendable {
    let baseURL: String
    let queries: AsyncStream<Void>
    let released: AsyncStream<Void>.Continuation

    func nextQuery() async -> Void? {
        var iterator = queries.makeAsyncIterator()
        return await iterator.next()
    }

    /// Lets every held query (and every later one) answer.
    func release() { released.finish() }

    static func with(_ body: @Sendable (FakeDouyin) async throws -> Void) async throws {
        let example = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/DouyinOpenAPITests/Fixtures/compre_retail_query_ok.json"))
        let (queries, query) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let router = Router()
        router.post("/oauth/stable_client_token/") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"data": {"access_token": "clt.fake", "expires_in": 7200, "error_code": 0, "description": ""}, "message": "success"}"#)))
        }
        router.get(RouterPath(CertificateAPI.compreRetail.queryPath)) { _, _ -> Response in
            query.yield()
            for await _ in released {}
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: example)))
        }
        let (ports, port) = AsyncStream<Int>.makeStream()
        let server = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.yield($0.localAddress?.port ?? 0) }, logger: quietLogger())
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await server.runService() }
            var iterator = ports.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            defer { release.finish() }
            try await body(FakeDouyin(baseURL: "http://127.0.0.1:\(bound)", queries: queries, released: release))
            tasks.cancelAll()
        }
    }
}

/// Captures the service group's log: which services it asked to shut down and which finished, in order.
private final class ShutdownLog: Sendable {
    private struct State {
        var triggered: [String] = []
        var finished: [String] = []
        var waiters: [(message: String, service: String, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    var triggered: [String] { state.withLock { $0.triggered } }
    var finished: [String] { state.withLock { $0.finished } }

    var logger: Logger {
        var logger = Logger(label: "certwatch") { _ in Handler(log: self) }
        logger.logLevel = .debug
        return logger
    }

    /// Returns once the group logged `message` for `service`.
    func waitFor(_ message: String, service: String) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if message == "Service finished", state.finished.contains(service) { return true }
                state.waiters.append((message, service, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    fileprivate func record(_ message: String, service: String?) {
        guard let service else { return }
        let ready = state.withLock { state in
            switch message {
            case "Triggering graceful shutdown for service": state.triggered.append(service)
            case "Service finished": state.finished.append(service)
            default: return [CheckedContinuation<Void, Never>]()
            }
            let ready = state.waiters.filter { $0.message == message && $0.service == service }.map(\.continuation)
            state.waiters.removeAll { $0.message == message && $0.service == service }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    private struct Handler: LogHandler {
        let log: ShutdownLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.record("\(event.message)", service: event.metadata?["sl-service"].map { "\($0)" })
        }
    }
}
