import CertWatchCore
import Crypto
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// `POST /douyin/webhook`: Douyin's own push (券消息通知 and order messages) taken as a hint.
///
/// Follows Douyin's webhook rules (开放平台 Webhooks 概述 and 生活服务消息推送):
/// - `X-Douyin-Signature` must be the hex SHA-1 of client secret + raw body; otherwise 401 and
///   nothing happens;
/// - the verification handshake `{"event": "verify_webhook", "content": {"challenge": N}}` (content
///   may also be a JSON string) is answered with `{"challenge": N}`;
/// - messages are de-duplicated by `Msg-Id` (Douyin retries up to 3 times);
/// - every other message names an order (`order_id` in its `content`): the matching watches are
///   polled now — the poll is the truth, the push only makes it sooner. With `auto_register`, an
///   unknown order is registered.
public struct DouyinPushIntake: Sendable {
    /// The app's client secret (signature key).
    public var clientSecret: String
    /// Register unknown orders (`push.auto_register`).
    public var autoRegister: Bool
    /// Endpoint family for auto-registered orders (`push.api`, default `compre_retail`).
    public var api: CertificateAPI
    let store: Store
    let clock: any WallClock
    let policy: PollPolicy
    let seen: RecentIDs
    let logger: Logger

    public init(
        clientSecret: String, autoRegister: Bool = false, api: CertificateAPI = .compreRetail, store: Store,
        clock: any WallClock, policy: PollPolicy, logger: Logger = Logger(label: "certwatch.push")
    ) {
        self.clientSecret = clientSecret
        self.autoRegister = autoRegister
        self.api = api
        self.store = store
        self.clock = clock
        self.policy = policy
        self.seen = RecentIDs(capacity: 10_000)
        self.logger = logger
    }

    /// Adds the route to `router`.
    public func install(on router: Router<BasicRequestContext>, bodyLimit: Int) {
        router.post("douyin/webhook") { request, _ in
            await respond {
                let body = try await readBody(request, limit: bodyLimit)
                return try await self.handle(
                    body: body, signature: request.headers[HTTPField.Name("X-Douyin-Signature")!],
                    messageID: request.headers[HTTPField.Name("Msg-Id")!])
            }
        }
    }

    /// Hex SHA-1 of `secret + body` (Douyin's `X-Douyin-Signature`).
    public static func signature(secret: String, body: Data) -> String {
        Insecure.SHA1.hash(data: Data(secret.utf8) + body).map { String(format: "%02x", $0) }.joined()
    }

    func handle(body: Data, signature: String?, messageID: String?) async throws -> Response {
        let expected = Self.signature(secret: clientSecret, body: body)
        guard let signature, !clientSecret.isEmpty, constantTimeEqual(signature.lowercased(), expected) else {
            throw APIError(401, "unauthorized", "X-Douyin-Signature does not match the body")
        }
        let message = try decodeJSON(JSONValue.self, body)
        guard case .string(let event) = message["event"] ?? .null else {
            throw APIError.invalid("a push message needs an event", field: "event")
        }
        let content = Self.content(of: message)
        if event == "verify_webhook" {
            return jsonResponse(["challenge": content["challenge"] ?? .null])
        }
        if let messageID, !seen.insert(messageID) {
            return jsonResponse(["status": "duplicate"])
        }
        guard let orderID = Self.text(content["order_id"]) else {
            logger.info("push without order_id ignored", metadata: ["event": "\(event)"])
            return jsonResponse(["status": "ignored"])
        }
        let now = clock.unixNow
        var polled = try await store.pollSoon(orderID: orderID, at: now)
        if polled == 0, autoRegister {
            _ = try await store.register(
                WatchRegistration(orderID: orderID, api: api, labels: ["source": "douyin-push"]), now: now, firstPollAt: now)
            polled = 1
        }
        logger.info("push hint", metadata: ["event": "\(event)", "order_id": "\(orderID)", "watches_polled": "\(polled)"])
        return jsonResponse(["status": polled > 0 ? "polling" : "unknown order"])
    }

    /// `content` as an object, whether Douyin sent it as an object or as a JSON string.
    static func content(of message: JSONValue) -> JSONValue {
        switch message["content"] {
        case .string(let text): return (try? JSONValue(parsing: Data(text.utf8))) ?? .null
        case .some(let value): return value
        case .none: return .null
        }
    }

    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text): return text.isEmpty ? nil : text
        case .int(let number): return String(number)
        case .uint(let number): return String(number)
        default: return nil
        }
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A bounded set of recently seen ids (oldest forgotten first).
final class RecentIDs: Sendable {
    private let state: Mutex<(set: Set<String>, order: [String], head: Int)>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        state = Mutex((Set(), [], 0))
    }

    /// Adds `id`; returns `false` if it was already there.
    func insert(_ id: String) -> Bool {
        state.withLock { state in
            guard state.set.insert(id).inserted else { return false }
            if state.order.count < capacity {
                state.order.append(id)
            } else {
                state.set.remove(state.order[state.head])
                state.order[state.head] = id
                state.head = (state.head + 1) % capacity
            }
            return true
        }
    }
}

extension Store {
    /// Makes every active watch of `orderID` due at `at`; returns how many.
    public func pollSoon(orderID: String, at: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE watches SET next_poll_at = MIN(COALESCE(next_poll_at, ?), ?)
                    WHERE order_id = ? AND state = 'active'
                    """, arguments: [at, at, orderID])
            return db.changesCount
        }
    }
}
