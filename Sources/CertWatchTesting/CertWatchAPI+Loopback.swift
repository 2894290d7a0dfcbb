import CertWatch
import Hummingbird
import Logging

extension CertWatchAPI {
    /// Serves these routes on `host` at a port the system chooses while `body` runs (the demo's
    /// push intake, tests); `body` gets the base URL (`http://127.0.0.1:PORT`). Throws what `body`
    /// or the server throws.
    package func withRunning<T: Sendable>(
        host: String = "127.0.0.1", logger: Logger = Logger(label: "certwatch.http"),
        _ body: @Sendable (_ baseURL: String) async throws -> T
    ) async throws -> T {
        let responder = makeResponder()
        return try await LoopbackServer.withRunning(
            host: host, logger: logger,
            makeService: { onListening in
                Application(
                    responder: responder, configuration: .init(address: .hostname(host, port: 0), serverName: "certwatch"),
                    onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
            }, body)
    }
}
