import AsyncHTTPClient
import CertWatchCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The HTTP sinks: `webhook`, `feishu`, `dingtalk`, `wecom`. One POST per attempt with a connect
/// timeout (default 5 s) and a whole-request deadline (default 15 s), redirects never followed
/// (a 3xx is a failure), the response body read up to 64 KiB (1 KiB kept in the attempt log).
///
/// 2xx = delivered (for bots, only when the body's code is 0); 410 = gone and a target the guard
/// refuses (a name now resolving to a private address) = refused: the sink is disabled;
/// 429/503 honour `Retry-After`; everything else, timeouts and transport errors are failures.
/// Error texts never contain the URL's path or query, nor secrets.
package final class HTTPSink: Sink {
    package let configuration: SinkConfiguration
    /// The HTTP client (owned by this sink).
    package let client: HTTPClient
    /// `user-agent`.
    package let userAgent: String
    /// Largest response body read, bytes.
    package static let responseLimit = 64 * 1024
    /// Response text kept in the attempt log, bytes.
    package static let recordedResponseLimit = 1024
    private let isShutDown = Atomic<Bool>(false)

    package init(configuration: SinkConfiguration, userAgent: String) {
        self.configuration = configuration
        self.userAgent = userAgent
        var http = HTTPClient.Configuration()
        http.timeout = .init(
            connect: .milliseconds(Int64(configuration.connectTimeout * 1000)),
            read: .milliseconds(Int64(configuration.timeout * 1000)))
        http.redirectConfiguration = .disallow
        http.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(configuration.concurrency, 8))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    /// Builds the request of `delivery` for this sink's kind and format (`nil`: not representable).
    package func request(for delivery: OutboundDelivery) throws -> SinkRequest? {
        switch configuration.kind {
        case .webhook: try WebhookFormat.request(for: delivery, sink: configuration, userAgent: userAgent)
        default: try ChatBotFormat.request(for: delivery, sink: configuration, userAgent: userAgent)
        }
    }

    package func deliver(_ delivery: OutboundDelivery) async -> SinkResponse {
        let built: SinkRequest
        do {
            guard let request = try request(for: delivery) else {
                let type = (try? delivery.event().type.rawValue) ?? "this event"
                return SinkResponse(outcome: .skipped, error: "the \(configuration.format.rawValue) format has no message for \(type)")
            }
            built = request
        } catch {
            return SinkResponse(outcome: .failed(retryAfter: nil), error: "cannot build the request: \(error)")
        }
        guard let url = URL(string: built.url) else {
            return SinkResponse(outcome: .failed(retryAfter: nil), error: "invalid URL")
        }
        do {
            try TargetGuard.check(url, allowPrivate: configuration.allowPrivate)
        } catch {
            // A DNS failure may pass; a private address will not until the configuration changes.
            return SinkResponse(outcome: error.unresolved ? .failed(retryAfter: nil) : .refused, error: "\(error)")
        }
        return await send(built)
    }

    /// Sends a built request and interprets the answer.
    package func send(_ built: SinkRequest) async -> SinkResponse {
        var request = HTTPClientRequest(url: built.url)
        request.method = .POST
        for (name, value) in built.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: built.body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(configuration.timeout * 1000)))
            var body = Data()
            for try await chunk in response.body {
                body.append(contentsOf: chunk.readableBytesView.prefix(Self.responseLimit - body.count))
                if body.count >= Self.responseLimit { break }
            }
            return interpret(status: Int(response.status.code), headers: response.headers, body: body)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout].contains(error) {
            return SinkResponse(outcome: .failed(retryAfter: nil), error: "timed out after \(configuration.timeout)s")
        } catch let error as HTTPClientError where error == .connectTimeout {
            return SinkResponse(outcome: .failed(retryAfter: nil), error: "connect timed out after \(configuration.connectTimeout)s")
        } catch let error as IOError {
            // IOError's own description garbles some (`connection reset (error set): Connection refused)`): the errno says it.
            return SinkResponse(
                outcome: .failed(retryAfter: nil), error: "\(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))")
        } catch {
            return SinkResponse(outcome: .failed(retryAfter: nil), error: scrub("\(error)"))
        }
    }

    /// The outcome of an HTTP answer.
    func interpret(status: Int, headers: HTTPHeaders, body: Data) -> SinkResponse {
        let text = String(decoding: body.prefix(Self.recordedResponseLimit), as: UTF8.self)
        let recorded = text.isEmpty ? nil : scrub(text)
        switch status {
        case 200..<300:
            if configuration.kind != .webhook, let failure = ChatBotFormat.failure(inBody: body, kind: configuration.kind) {
                return SinkResponse(
                    outcome: .failed(retryAfter: failure.retryAfter), status: status, response: recorded,
                    error: failure.code == -1 ? "the bot's answer has no success code" : "the bot answered error code \(failure.code)")
            }
            return SinkResponse(outcome: .delivered, status: status, response: recorded)
        case 410:
            return SinkResponse(outcome: .gone, status: status, response: recorded, error: "410 Gone: the receiver asked to stop")
        case 429, 503:
            let retryAfter = headers.first(name: "retry-after").flatMap(Self.retryAfterSeconds)
            return SinkResponse(outcome: .failed(retryAfter: retryAfter), status: status, response: recorded, error: "HTTP \(status)")
        case 300..<400:
            return SinkResponse(outcome: .failed(retryAfter: nil), status: status, response: recorded, error: "HTTP \(status) (redirects are not followed)")
        default:
            return SinkResponse(outcome: .failed(retryAfter: nil), status: status, response: recorded, error: "HTTP \(status)")
        }
    }

    /// `Retry-After`: delta seconds or an HTTP date (relative to the system clock).
    static func retryAfterSeconds(_ value: String) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// Removes the sink's secrets and URL from a text.
    func scrub(_ text: String) -> String {
        var result = text
        for secret in configuration.secrets where secret.count >= 4 && result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "<secret>")
        }
        if let url = configuration.url, !url.isEmpty, result.contains(url) {
            result = result.replacingOccurrences(of: url, with: SinkConfiguration.redacted(url))
        }
        return result
    }

    package func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .relaxed) else { return }
        try? await client.shutdown()
    }

    deinit {
        // A sink dropped without shutdown() (an error path) must not trap: shut the client down in the background.
        if !isShutDown.exchange(true, ordering: .relaxed) { client.shutdown { _ in } }
    }
}
