import CertWatchCore
import Foundation

/// Message formats and answers of the chat bots: Feishu/Lark custom bot, DingTalk custom robot,
/// WeCom group robot. They answer HTTP 200 with an error code in the body; a non-zero code is a
/// failed attempt, and their rate-limit codes are treated like HTTP 429.
package enum ChatBotFormat {
    /// Rate-limit codes: Feishu 9499 / 11232, DingTalk 130101, WeCom 45009.
    static let rateLimitCodes: Set<Int> = [9499, 11232, 130101, 45009]
    /// How long to wait after a bot's rate limit, seconds (DingTalk and WeCom count per minute).
    static let rateLimitWait: Double = 60

    /// The request for `delivery` to a chat sink. Throws when the event cannot be decoded.
    package static func request(for delivery: OutboundDelivery, sink: SinkConfiguration, userAgent: String) throws -> SinkRequest {
        let event = try delivery.event()
        let text = delivery.body ?? defaultText(event)
        let custom = delivery.body.flatMap(PayloadJSON.object).flatMap { $0["msgtype"] != nil || $0["msg_type"] != nil ? $0 : nil }
        var url = sink.url ?? ""
        var message: [String: Any]
        switch sink.kind {
        case .feishu:
            message = custom ?? ["msg_type": "text", "content": ["text": text]]
            if let secret = sink.secrets.first {
                let timestamp = Int64(delivery.now)
                message["timestamp"] = String(timestamp)
                message["sign"] = ChatBotSigning.feishu(timestampSeconds: timestamp, secret: secret)
            }
        case .dingtalk:
            message = custom ?? ["msgtype": "markdown", "markdown": ["title": title(event), "text": text]]
            if let secret = sink.secrets.first {
                let milliseconds = Int64(delivery.now * 1000)
                url += (url.contains("?") ? "&" : "?")
                    + "timestamp=\(milliseconds)&sign=\(ChatBotSigning.dingTalk(timestampMilliseconds: milliseconds, secret: secret))"
            }
        default:
            message = custom ?? ["msgtype": "markdown", "markdown": ["content": String(text.utf8.prefix(4000)) ?? text]]
        }
        return SinkRequest(
            url: url, headers: [("content-type", "application/json"), ("user-agent", userAgent)],
            body: PayloadJSON.encode(message))
    }

    /// Interprets a 2xx answer: `code` (Feishu; `StatusCode` in old answers) or `errcode`
    /// (DingTalk, WeCom). Returns `nil` when it reports success, else the failure.
    package static func failure(inBody body: Data, kind: SinkConfiguration.Kind) -> (code: Int, retryAfter: Double?)? {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return (-1, nil)
        }
        let keys = kind == .feishu ? ["code", "StatusCode"] : ["errcode"]
        for key in keys {
            if let number = object[key] as? NSNumber {
                let code = number.intValue
                if code == 0 { return nil }
                return (code, rateLimitCodes.contains(code) ? rateLimitWait : nil)
            }
        }
        return (-1, nil)
    }

    /// The message of an event without a template: what happened, order, certificate, store, time.
    package static func defaultText(_ event: CertWatchEvent) -> String {
        var lines = ["**\(title(event))** (\(event.type.rawValue))"]
        if let order = event.data.watch.orderID { lines.append("订单 order: \(order)") }
        lines.append("券 certificate: \(event.subject)")
        if let title = event.data.certificate?.sku?.title { lines.append("商品 sku: \(title)") }
        if let poi = event.data.verification?.poiID { lines.append("门店 poi: \(poi)") }
        if let store = event.data.watch.labels["store"] { lines.append("store: \(store)") }
        if let use = event.data.use { lines.append("次卡 use: \(use.number)/\(use.timesCount)") }
        if let error = event.data.error {
            lines.append("error: \(error.code.map(String.init) ?? "-") \(error.description ?? "") logid=\(error.logid ?? "-")")
        }
        lines.append("time: \(UnixTime.rfc3339(event.time))")
        return lines.joined(separator: "\n")
    }

    static func title(_ event: CertWatchEvent) -> String {
        switch event.type {
        case .discovered: "新券 certificate discovered"
        case .verified: "券已核销 certificate verified"
        case .verifyCancelled: "核销已撤销 verification cancelled"
        case .cancelWindowClosed: "撤销窗口关闭 cancel window closed"
        case .timesCardUsed: "次卡使用 times card used"
        case .expiringSoon: "券即将过期 expiring soon"
        case .expired: "券已过期 expired"
        case .refundRequested: "申请退款 refund requested"
        case .refunding: "退款中 refunding"
        case .refunded: "已退款 refunded"
        case .refundFailed: "退款失败 refund failed"
        case .statusChanged: "状态变化 status changed"
        case .watchFailed: "监控失败 watch failed"
        case .watchStalled: "查询持续失败 watch stalled"
        case .watchRecovered: "查询已恢复 watch recovered"
        }
    }
}
