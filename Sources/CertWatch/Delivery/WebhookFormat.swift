import CertWatchCore
import DouyinOpenAPI
import Foundation

/// Builds `webhook` sink requests: CloudEvents JSON with Standard Webhooks signatures, or Douyin's
/// own 券消息通知 push shape.
package enum WebhookFormat {
    /// The request for `delivery` to `sink`, or `nil` when the format cannot represent the event
    /// (douyin-push has no action for it). Throws ``StandardWebhooks/Failure`` for a bad secret, or
    /// when the event cannot be decoded.
    package static func request(for delivery: OutboundDelivery, sink: SinkConfiguration, userAgent: String) throws
        -> SinkRequest?
    {
        switch sink.format {
        case .cloudevents: return try cloudEvents(delivery, sink: sink, userAgent: userAgent)
        case .douyinPush: return try DouyinPushFormat.request(for: delivery, sink: sink, userAgent: userAgent)
        }
    }

    static func cloudEvents(_ delivery: OutboundDelivery, sink: SinkConfiguration, userAgent: String) throws -> SinkRequest {
        let body = delivery.bodyOrEventJSON
        let timestamp = Int64(delivery.now.rounded(.down))
        var headers: [(String, String)] = [
            ("content-type", "application/json"), ("user-agent", userAgent),
            ("webhook-id", delivery.eventID), ("webhook-timestamp", String(timestamp)),
        ]
        if !sink.secrets.isEmpty {
            headers.append(
                ("webhook-signature",
                 try StandardWebhooks.signatureHeader(id: delivery.eventID, timestamp: timestamp, body: body, secrets: sink.secrets)))
        }
        for (name, value) in sink.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        return SinkRequest(url: sink.url ?? "", headers: headers, body: body)
    }
}

/// Douyin's 券消息通知 (`life_trade_certificate_notify`) push, so a system built for Douyin's push
/// takes certwatch's events unchanged: body `{event, client_key, from_user_id, to_user_id, content,
/// log_id}` with `content` a JSON string `{action, msg_time, certificate: {order_id,
/// certificate_id, code, account_id}}`; headers `Msg-Id` (the event id) and `X-Douyin-Signature` =
/// hex SHA-1 of (client secret + body).
///
/// Actions: `verify` (certificate.verified, certificate.times_card_used), `verify_cancel`
/// (certificate.verify_cancelled), `refund_success` (certificate.refunded). Other event types are
/// not sent (the delivery is cancelled).
package enum DouyinPushFormat {
    /// The push action of an event type, or `nil`.
    package static func action(for type: EventType) -> String? {
        switch type {
        case .verified, .timesCardUsed: "verify"
        case .verifyCancelled: "verify_cancel"
        case .refunded: "refund_success"
        default: nil
        }
    }

    /// `X-Douyin-Signature`: lowercase hex SHA-1 of `clientSecret + body`.
    package static func signature(clientSecret: String, body: Data) -> String {
        DouyinPushSignature.hex(clientSecret: clientSecret, body: body)
    }

    /// The push body of an event (`nil` when it has no action).
    package static func body(of event: CertWatchEvent, clientKey: String, msgTime: Int64) -> Data? {
        guard let action = action(for: event.type) else { return nil }
        var certificate: [String: Any] = ["certificate_id": event.subject]
        if let orderID = event.data.watch.orderID { certificate["order_id"] = orderID }
        if let code = event.data.certificate?.code { certificate["code"] = code }
        if let account = event.data.watch.accountID ?? event.data.certificate?.sku?.accountID?.value {
            certificate["account_id"] = account
        }
        let content: [String: Any] = ["action": action, "msg_time": msgTime, "certificate": certificate]
        let body: [String: Any] = [
            "event": "life_trade_certificate_notify", "client_key": clientKey, "from_user_id": "", "to_user_id": "",
            "content": String(decoding: PayloadJSON.encode(content), as: UTF8.self), "log_id": "certwatch-\(event.id)",
        ]
        return PayloadJSON.encode(body)
    }

    static func request(for delivery: OutboundDelivery, sink: SinkConfiguration, userAgent: String) throws -> SinkRequest? {
        let body: Data
        if let custom = delivery.body {
            body = Data(custom.utf8)
        } else {
            guard let built = Self.body(of: try delivery.event(), clientKey: sink.clientKey ?? "", msgTime: Int64(delivery.now))
            else { return nil }
            body = built
        }
        var headers: [(String, String)] = [
            ("content-type", "application/json"), ("user-agent", userAgent), ("msg-id", delivery.eventID),
        ]
        if let secret = sink.secrets.first {
            headers.append(("x-douyin-signature", signature(clientSecret: secret, body: body)))
        }
        for (name, value) in sink.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        return SinkRequest(url: sink.url ?? "", headers: headers, body: body)
    }
}
