import AsyncHTTPClient
import DouyinOpenAPI
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Sends the sandbox's 券消息通知 to a URL the way Douyin pushes them (`certwatch sandbox
/// --push-url URL`): for every verify, verify_cancel and refund, a `POST` of the
/// `life_trade_certificate_notify` body (``SandboxPush``) with headers `Msg-Id`,
/// `X-Douyin-Signature` = hex SHA-1 of client secret + body (``DouyinPushSignature``) and
/// `content-type: application/json`, after the delay, loss, duplication and reordering of the
/// profile's ``PushFaults``. A push is sent once; a failed request (no 2xx within 5 s) is logged and
/// counted, not retried.
///
/// A `Service`: ``run()`` sends pushes as they fall due until graceful shutdown. ``sendDue()`` is
/// the step, for tests that drive time by hand.
package final class SandboxPusher: Service, Sendable {
    /// The sandbox whose changes are pushed.
    package let sandbox: DouyinSandbox
    /// Where pushes go, e.g. `http://127.0.0.1:8787/douyin/webhook`.
    package let url: String
    /// Longest real wait between looks at the queue, seconds (default 0.05; never more than one
    /// sandbox second, so an accelerated clock does not delay pushes).
    package let tick: Double
    private let httpClient: HTTPClient
    private let logger: Logger
    private let counts = Mutex<[String: Int]>([:])

    /// - Parameters:
    ///   - httpClient: the client to send with (the caller shuts it down).
    package init(
        sandbox: DouyinSandbox, url: String, httpClient: HTTPClient = .shared, tick: Double = 0.05,
        logger: Logger = Logger(label: "certwatch.sandbox.push")
    ) {
        self.sandbox = sandbox
        self.url = url
        self.httpClient = httpClient
        self.tick = tick
        self.logger = logger
    }

    /// Requests sent so far by outcome: `2xx`, the HTTP status (`401`, …) or `error`.
    package var outcomes: [String: Int] { counts.withLock { $0 } }

    /// Sends pushes as they fall due until graceful shutdown.
    package func run() async throws {
        await sandbox.enablePushes()
        logger.info("pushing to \(url)")
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            await sendDue()
            // The next push's due time in real seconds (sandbox seconds / speed), at most one tick
            // and at most one sandbox second.
            let speed = await sandbox.clockSpeed
            let next = await sandbox.secondsUntilNextPush()
            let tick = speed > 0 ? min(self.tick, 1 / speed) : self.tick
            let wait = min(tick, max(0.001, next.map { speed > 0 ? $0 / speed : tick } ?? tick))
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .microseconds(Int64(wait * 1_000_000))) }
        }
    }

    /// Sends every push due now, in order; returns the HTTP status of each (0: no answer).
    @discardableResult
    package func sendDue() async -> [Int] {
        await sandbox.enablePushes()
        var statuses: [Int] = []
        for push in await sandbox.takeDuePushes() {
            statuses.append(await send(push))
        }
        return statuses
    }

    private func send(_ push: SandboxPush) async -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "Msg-Id", value: push.messageID)
        request.headers.add(
            name: "X-Douyin-Signature",
            value: DouyinPushSignature.hex(clientSecret: sandbox.configuration.clientSecret, body: push.body))
        request.body = .bytes(ByteBuffer(bytes: push.body))
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            count((200..<300).contains(status) ? "2xx" : String(status))
            if !(200..<300).contains(status) {
                logger.warning("push refused", metadata: ["status": "\(status)", "msg_id": "\(push.messageID)"])
            }
            return status
        } catch {
            count("error")
            logger.warning("push failed", metadata: ["error": "\(error)", "msg_id": "\(push.messageID)"])
            return 0
        }
    }

    private func count(_ outcome: String) { counts.withLock { $0[outcome, default: 0] += 1 } }
}
