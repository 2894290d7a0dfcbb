import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Serves a ``DouyinSandbox`` over HTTP with Hummingbird.
///
/// ```swift
/// let sandbox = DouyinSandbox(clock: .manual())
/// let server = DouyinSandboxServer(sandbox: sandbox, port: 0)
/// try await server.withRunning { baseURL in
///     // baseURL is e.g. "http://127.0.0.1:53211": point a DouyinClient at it.
/// }
/// ```
///
/// For a long-running process, ``makeApplication(onRunning:)`` returns the Hummingbird
/// `Application`, which is a swift-service-lifecycle `Service`: add it to a `ServiceGroup`
/// (or call `runService()`), and learn the bound port from `onRunning`.
package struct DouyinSandboxServer: Sendable {
    /// The sandbox served.
    package let sandbox: DouyinSandbox
    /// Address to bind, default `127.0.0.1`.
    package var host: String
    /// Port to bind; 0 picks a free one (reported to `onRunning`). Default 8790.
    package var port: Int
    /// Logger of the HTTP server.
    package var logger: Logger

    package init(
        sandbox: DouyinSandbox, host: String = "127.0.0.1", port: Int = 8790,
        logger: Logger = Logger(label: "certwatch.sandbox")
    ) {
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// The Hummingbird router with every sandbox route (to mount in another application).
    package func makeRouter() -> Router<BasicRequestContext> {
        SandboxRouter.make(sandbox)
    }

    /// The HTTP application (a `Service`). `onRunning` receives the bound port once listening.
    package func makeApplication(
        onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) -> Application<RouterResponder<BasicRequestContext>> {
        let requestedPort = port
        return Application(
            router: makeRouter(),
            server: .http1(additionalChannelHandlers: [ArrivalStamp()]),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "certwatch-sandbox"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? requestedPort) },
            logger: logger)
    }

    /// Runs the server until SIGINT or SIGTERM, then shuts down gracefully (for the CLI).
    /// `alongside` services (e.g. a ``SandboxPusher``) run in the same group and stop first.
    package func runUntilSignalled(
        alongside services: [any Service] = [], onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) async throws {
        let app = makeApplication(onRunning: onRunning)
        guard !services.isEmpty else { return try await app.runService() }
        let group = ServiceGroup(
            configuration: .init(services: [app as any Service] + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Runs the server while `body` runs, then stops it. `body` receives the base URL
    /// (`http://host:port`, with the port actually bound). Throws what `body` or the server throws;
    /// throws ``SandboxServerError/stoppedBeforeListening`` if the server could not start.
    package func withRunning<T>(_ body: (_ baseURL: String) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = makeApplication { port in
            continuation.yield(port)
            continuation.finish()
        }
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        // In-flight requests (e.g. a held `timeout` fault) get a moment, then are cancelled.
        configuration.maximumGracefulShutdownDuration = .seconds(3)
        let services = ServiceGroup(configuration: configuration)
        let host = self.host
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.next()
                throw SandboxServerError.stoppedBeforeListening
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body("http://\(host):\(port)"))
            } catch {
                result = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return try result.get()
        }
    }
}

/// Failures of ``DouyinSandboxServer``.
package enum SandboxServerError: Error, Sendable {
    /// The server ended before it was listening (e.g. the port was taken).
    case stoppedBeforeListening
}
