import CertWatchCore
import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /douyin/webhook`: Douyin's own push (券消息通知 and order messages) taken as a hint.
///
/// Follows Douyin's webhook rules (开放平台 Webhooks 概述 and 生活服务消息推送):
/// - `X-Douyin-Signature` must be the hex SHA-1 of client secret + raw body; otherwise 401 and
///   nothing happens;
/// - the verification handshake `{"event": "verify_webhook", "content": {"challenge": N}}` (content
///   may also be a JSON string) is answered with `{"challenge": N}`;
/// - messages are de-duplicated by `Msg-Id` (header, else the body's `msg_id`; Douyin retries up
///   to 3 times): a repeat answers 200 `{"status": "duplicate"}` and polls nothing. The ids
///   handled are kept in the database for a day (``pushMessageMemory``; pruned by
///   ``RetentionService``), so a repeat is caught by any replica and after a restart;
/// - `life_trade_certificate_notify` and `life_trade_order_notify` in every shape
///   ``DouyinPushMessage`` reads name orders, certificates or encrypted codes; the watches they
///   name (``PollSchedule/hint(_:now:)``: by order id, by a certificate in a watch's stored snapshots, by
///   encrypted code) are polled now, ahead of routine polls and inside the QPS budget — the poll
///   is the truth, the push only makes it sooner. With `auto_register`, an unknown order is
///   registered;
/// - any other event answers 200 `{"status": "ignored"}` (Douyin stops retrying) and is counted.
///
/// Every message is counted in `certwatch_push_messages_total{event,result}` (`event`: the two
/// hint events, `verify_webhook` or `other`; `result`: `hinted`, `registered`, `unknown_watch`,
/// `no_ids`, `duplicate`, `ignored`, `challenge`, `invalid`, `unauthorized`).
package struct DouyinPushIntake: Sendable {
    /// The app's client secret (signature key).
    package var clientSecret: String
    /// Register unknown orders (`push.auto_register`).
    package var autoRegister: Bool
    /// Endpoint family for auto-registered orders (`push.api`, default `compre_retail`).
    package var api: CertificateAPI
    let store: any PollSchedule & WatchRegistry & PushMessageLog
    /// Called after a hint named watches (wakes this process's watcher: ``Watcher/hintTaken()``).
    let onHint: @Sendable () -> Void
    let clock: any WallClock
    let policy: PollPolicy
    let logger: Logger

    package init(
        clientSecret: String, autoRegister: Bool = false, api: CertificateAPI = .compreRetail, store: any PollSchedule & WatchRegistry & PushMessageLog,
        clock: any WallClock, policy: PollPolicy, onHint: @escaping @Sendable () -> Void = {},
        logger: Logger = Logger(label: "certwatch.push")
    ) {
        self.onHint = onHint
        self.clientSecret = clientSecret
        self.autoRegister = autoRegister
        self.api = api
        self.store = store
        self.clock = clock
        self.policy = policy
        self.logger = logger
    }

    /// The route, relative to `/douyin/webhook`: bodies of at most `bodyLimit` bytes (413 above).
    package func routes(bodyLimit: Int) -> RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .post { request, _ -> [String: JSONValue] in
                let body = try await readBody(request, limit: bodyLimit)
                return try await self.handle(
                    body: body, signature: request.headers[HTTPField.Name("X-Douyin-Signature")!],
                    messageID: request.headers[HTTPField.Name("Msg-Id")!])
            }
    }

    /// Hex SHA-1 of `secret + body` (Douyin's `X-Douyin-Signature`, ``DouyinPushSignature``).
    package static func signature(secret: String, body: Data) -> String {
        DouyinPushSignature.hex(clientSecret: secret, body: body)
    }

    /// Answers one push: the JSON object Douyin gets back. Throws ``APIError`` (401 unsigned, 400/422
    /// unreadable) and store errors.
    func handle(body: Data, signature: String?, messageID header: String?) async throws -> [String: JSONValue] {
        guard DouyinPushSignature.matches(signature, clientSecret: clientSecret, body: body) else {
            Self.count(event: nil, "unauthorized")
            throw APIError(
                401, "unauthorized",
                signature == nil ? "the X-Douyin-Signature header is missing" : "X-Douyin-Signature does not match the body")
        }
        let message: DouyinPushMessage
        do {
            message = try DouyinPushMessage(parsing: body)
        } catch {
            Self.count(event: nil, "invalid")
            logger.warning("push message rejected", metadata: ["error": "\(error.message)", "field": "\(error.field ?? "-")"])
            throw error
        }
        let event = message.event
        if event == "verify_webhook" {
            Self.count(event: event, "challenge")
            return ["challenge": message.content["challenge"] ?? .null]
        }
        let messageID = header ?? message.messageID
        if let messageID, try await store.pushMessageSeen(messageID) {
            Self.count(event: event, "duplicate")
            return ["status": .string("duplicate")]
        }
        guard DouyinPushMessage.hintEvents.contains(event) else {
            Self.count(event: event, "ignored")
            logger.debug("push event ignored", metadata: ["event": "\(event)"])
            try await remember(messageID)
            return ["status": .string("ignored")]
        }
        let targets = message.targets
        guard !targets.isEmpty else {
            Self.count(event: event, "no_ids")
            logger.info(
                "push without order_id, certificate_id or encrypted_code ignored",
                metadata: ["event": "\(event)", "warnings": "\(message.warnings)"])
            try await remember(messageID)
            return ["status": .string("ignored"), "warnings": .array(message.warnings.map(JSONValue.string))]
        }
        let now = clock.unixNow
        let hinted = try await store.hint(targets, now: now)
        if !hinted.isEmpty { onHint() }
        var result = hinted.isEmpty ? "unknown_watch" : "hinted"
        if hinted.isEmpty, autoRegister, let orderID = targets.orderIDs.first {
            _ = try await store.register(
                WatchRegistration(orderID: orderID, api: api, accountID: message.accountID, labels: ["source": "douyin-push"]),
                now: now, firstPollAt: now)
            result = "registered"
        }
        // Remembered only once handled: a message that failed here is taken again when Douyin retries.
        try await remember(messageID)
        Self.count(event: event, result)
        logger.info(
            "push hint",
            metadata: [
                "event": "\(event)", "action": "\(message.action ?? "-")", "order_ids": "\(targets.orderIDs)",
                "certificate_ids": "\(targets.certificateIDs)", "watches": "\(hinted.count)", "result": "\(result)",
                "warnings": "\(message.warnings)",
            ])
        return [
            "status": .string(result == "unknown_watch" ? "unknown watch" : "polling"), "watches": .int(Int64(hinted.count)),
            "warnings": .array(message.warnings.map(JSONValue.string)),
        ]
    }

    /// How long a handled `Msg-Id` is remembered, seconds: a day, far beyond Douyin's retries.
    package static let pushMessageMemory = 86_400.0

    /// Remembers a handled message's id, if it has one.
    private func remember(_ messageID: String?) async throws {
        if let messageID { try await store.rememberPushMessage(messageID, at: clock.now()) }
    }

    /// Counts one message in `certwatch_push_messages_total{event,result}`.
    static func count(event: String?, _ result: String) {
        let label = event.map { DouyinPushMessage.hintEvents.contains($0) || $0 == "verify_webhook" ? $0 : "other" } ?? "other"
        CertWatchMetrics.pushMessage(event: label, result: result)
    }
}
