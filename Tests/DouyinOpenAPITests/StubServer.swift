import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Runs a Hummingbird router on 127.0.0.1 with an ephemeral port for the duration of `body`.
func withStubServer<T: Sendable>(
    _ router: Router<BasicRequestContext>, _ body: @Sendable (_ baseURL: String) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    var logger = Logger(label: "stub")
    logger.logLevel = .critical
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }, logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await app.runService()
            return nil
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        let result = try await body("http://127.0.0.1:\(port)")
        group.cancelAll()
        return result
    }
}

/// A wall clock tests move by hand.
final class ManualClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date(timeIntervalSince1970: 1_734_169_082)) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// A log handler that keeps every rendered line, to check what reaches the logs.
struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
    }
}

/// A shared sink for ``CapturingLogHandler``.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])
    var logger: Logger {
        Logger(label: "capture") { _ in CapturingLogHandler(capture: self) }
    }
    var all: [String] { lines.withLock { $0 } }
}
