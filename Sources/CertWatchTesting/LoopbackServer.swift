import Logging
import ServiceLifecycle

/// Runs an HTTP service on a port the system chooses, for exactly as long as a body runs: the
/// `certwatch listen` receiver in tests and the demo, and the benchmarks' trivial handler.
package enum LoopbackServer {
    /// Starts the service `makeService` builds (it must call the callback it gets with the port it
    /// bound), waits until it listens, runs `body` with `http://host:port`, then shuts the service
    /// down gracefully (in-flight requests get `shutdownGrace`). Returns what `body` returns.
    /// Throws what `body` or the service throws; `CancellationError` when the service stopped
    /// before it listened.
    package static func withRunning<T: Sendable>(
        host: String = "127.0.0.1", shutdownGrace: Duration = .seconds(2), logger: Logger,
        makeService: (_ onListening: @escaping @Sendable (Int) async -> Void) -> any Service,
        _ body: @Sendable (_ baseURL: String) async throws -> T
    ) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let service = makeService { port in
            continuation.yield(port)
            continuation.finish()
        }
        var configuration = ServiceGroupConfiguration(services: [service], logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { continuation.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await tasks.next()
                throw CancellationError()
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body("http://\(host):\(port)"))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}
