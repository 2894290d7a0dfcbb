import CertWatch
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// One request a ``WebhookReceiver`` took.
package struct ReceivedWebhook: Sendable, Hashable {
    /// `webhook-id` (or `msg-id` for douyin-push).
    package var id: String?
    /// `webhook-timestamp`.
    package var timestamp: String?
    /// The request path.
    package var path: String
    /// Whether the Standard Webhooks signature verified (`nil`: the receiver has no secret).
    package var verified: Bool?
    /// Why verification failed.
    package var verificationError: String?
    /// The body.
    package var body: Data
    /// Lower-cased header names to values.
    package var headers: [String: String]
    /// The status answered.
    package var status: Int

    /// The body as a JSON object, if it is one.
    package var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    /// `subject` of a CloudEvents body.
    package var subject: String? { json?["subject"] as? String }
    /// `type` of a CloudEvents body.
    package var type: String? { json?["type"] as? String }
}

/// How a ``WebhookReceiver`` answers.
package struct ReceiverBehaviour: Sendable {
    /// Status for accepted requests (default 200).
    package var status: Int
    /// Fraction of requests answered with `failStatus` instead (0…1).
    package var failRate: Double
    /// Status of failed requests (default 503).
    package var failStatus: Int
    /// `Retry-After` to send with 429/503 answers.
    package var retryAfter: String?
    /// Delay before answering, seconds.
    package var delay: Double
    /// A per-request override: return a status to answer with, or `nil` for the rules above.
    package var decide: (@Sendable (ReceivedWebhook) -> Int?)?

    package init(
        status: Int = 200, failRate: Double = 0, failStatus: Int = 503, retryAfter: String? = nil, delay: Double = 0,
        decide: (@Sendable (ReceivedWebhook) -> Int?)? = nil
    ) {
        self.status = status
        self.failRate = failRate
        self.failStatus = failStatus
        self.retryAfter = retryAfter
        self.delay = delay
        self.decide = decide
    }
}

/// A local webhook receiver (`certwatch listen`, tests, the demo, benchmarks): verifies Standard
/// Webhooks signatures against its secrets (timestamp tolerance 5 min; a bad signature is answered
/// 401), records every request, and answers as its ``ReceiverBehaviour`` says (changeable while
/// running).
package final class WebhookReceiver: Sendable {
    /// Secrets to verify with (`whsec_…`); empty: no verification.
    package let secrets: [String]
    /// Timestamp tolerance, seconds.
    package let tolerance: Double
    private let now: @Sendable () -> Double
    private let state = Mutex<(behaviour: ReceiverBehaviour, received: [ReceivedWebhook], keep: Bool)>(
        (ReceiverBehaviour(), [], true))
    private let onReceive: @Sendable (ReceivedWebhook) -> Void
    private let count = Atomic<Int>(0)

    /// - Parameters:
    ///   - keepRequests: keep every request in ``received`` (turn off for benchmarks).
    ///   - onReceive: called for every request (the CLI prints).
    package init(
        secrets: [String] = [], tolerance: Double = 300, behaviour: ReceiverBehaviour = ReceiverBehaviour(),
        keepRequests: Bool = true, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        onReceive: @escaping @Sendable (ReceivedWebhook) -> Void = { _ in }
    ) {
        self.secrets = secrets
        self.tolerance = tolerance
        self.now = now
        self.onReceive = onReceive
        state.withLock { $0 = (behaviour, [], keepRequests) }
    }

    /// The requests taken so far, oldest first.
    package var received: [ReceivedWebhook] { state.withLock { $0.received } }
    /// How many requests were taken.
    package var requestCount: Int { count.load(ordering: .relaxed) }

    /// Changes how the receiver answers from now on.
    package func setBehaviour(_ behaviour: ReceiverBehaviour) { state.withLock { $0.behaviour = behaviour } }

    /// The router: `POST` on any path.
    package func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/") { request, _ in try await self.handle(request) }
        router.post("**") { request, _ in try await self.handle(request) }
        return router
    }

    func handle(_ request: Request) async throws -> Response {
        let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        var received = ReceivedWebhook(
            id: headers["webhook-id"] ?? headers["msg-id"], timestamp: headers["webhook-timestamp"], path: request.uri.path,
            verified: nil, verificationError: nil, body: body, headers: headers, status: 200)
        if !secrets.isEmpty {
            do {
                try StandardWebhooks.verify(
                    id: headers["webhook-id"], timestamp: headers["webhook-timestamp"],
                    signatureHeader: headers["webhook-signature"], body: body, secrets: secrets, now: now(),
                    tolerance: tolerance)
                received.verified = true
            } catch {
                received.verified = false
                received.verificationError = error.description
            }
        }
        let behaviour = state.withLock { $0.behaviour }
        if behaviour.delay > 0 { try await Task.sleep(for: .milliseconds(Int64(behaviour.delay * 1000))) }
        var status = behaviour.status
        if received.verified == false {
            status = 401
        } else if let decided = behaviour.decide?(received) {
            status = decided
        } else if behaviour.failRate > 0, Double.random(in: 0..<1) < behaviour.failRate {
            status = behaviour.failStatus
        }
        received.status = status
        count.add(1, ordering: .relaxed)
        state.withLock { if $0.keep { $0.received.append(received) } }
        onReceive(received)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if status == 429 || status == 503, let retryAfter = behaviour.retryAfter {
            fields[.retryAfter] = retryAfter
        }
        let answer = status < 300 ? #"{"ok":true}"# : #"{"ok":false,"error":"\#(received.verificationError ?? "HTTP \(status)")"}"#
        return Response(status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: answer)))
    }

    /// The HTTP application (a `Service`); `onRunning` receives the bound port.
    package func makeApplication(
        host: String = "127.0.0.1", port: Int = 0, logger: Logger = Logger(label: "certwatch.listen"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        Application(
            router: makeRouter(), configuration: .init(address: .hostname(host, port: port), serverName: "certwatch-listen"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Runs the receiver on `host` (port chosen by the system) while `body` runs; `body` gets the
    /// base URL (`http://127.0.0.1:PORT`).
    package func withRunning<T: Sendable>(host: String = "127.0.0.1", _ body: @Sendable (String) async throws -> T)
        async throws -> T
    {
        var logger = Logger(label: "certwatch.listen")
        logger.logLevel = .error
        return try await LoopbackServer.withRunning(
            host: host, logger: logger,
            makeService: { [logger] onListening in makeApplication(host: host, port: 0, logger: logger, onRunning: onListening) },
            body)
    }
}
