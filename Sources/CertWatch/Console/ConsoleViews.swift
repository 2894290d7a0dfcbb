import CertWatchCore
import DouyinOpenAPI
import Foundation

/// What the console's Mustache templates read: plain values, already formatted for people, with
/// labels in Chinese and English (the glossary's terms). Mustache escapes every `{{ }}`.
enum ConsoleViews {
    /// What every page's layout reads: the signed-in state, the CSRF token its forms send, the
    /// current section for the navigation, a notice from the last action.
    struct Chrome {
        var signedIn: Bool
        var csrf: String
        var section: String
        var notice: String?
        // One flag per navigation entry (Mustache reads stored properties only).
        var overview: Bool
        var watches: Bool
        var events: Bool
        var deliveries: Bool
        var sinks: Bool

        init(signedIn: Bool, csrf: String, section: String, notice: String? = nil) {
            self.signedIn = signedIn
            self.csrf = csrf
            self.section = section
            self.notice = notice
            overview = section == "overview"
            watches = section == "watches"
            events = section == "events"
            deliveries = section == "deliveries"
            sinks = section == "sinks"
        }
    }

    /// A name and a number.
    struct Count {
        var label: String
        var value: Int
        var key: String = ""
    }

    /// One hour of the events histogram.
    struct Hour {
        var label: String
        var count: Int
        var max: Int
    }

    struct WatchRow {
        var id: String
        var orderID: String?
        var encryptedCode: String?
        var api: String
        var state: String
        var stateLabel: String
        var labels: String
        var nextPoll: String
        var lastPolled: String
        var failures: Int64
        var lastError: String?
        var created: String

        init(_ watch: Watch) {
            id = watch.id
            orderID = watch.orderID
            encryptedCode = watch.encryptedCode.map { $0.count > 16 ? $0.prefix(12) + "…" : $0 }
            api = watch.api.rawValue
            state = watch.state.rawValue
            stateLabel = ConsoleViews.label(watch.state)
            labels = watch.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            nextPoll = watch.nextPollAt.map(ConsoleViews.time) ?? "—"
            lastPolled = watch.lastPolledAt.map(ConsoleViews.time) ?? "—"
            failures = watch.consecutiveFailures
            lastError = watch.lastError
            created = ConsoleViews.time(watch.createdAt)
        }
    }

    struct CertificateRow {
        var id: String
        var code: String?
        var state: String
        var stateLabel: String
        var expires: String
        var amount: String?
        var sku: String?
        var timesCard: String?
        var verifications: [VerificationRow]
        var observed: String
        var rawStatus: String

        init(_ snapshot: CertificateSnapshot, now: Int64) {
            id = snapshot.certificateID
            code = snapshot.code
            (state, stateLabel) = ConsoleViews.derived(snapshot, now: now)
            expires = snapshot.expireTime.map(ConsoleViews.time) ?? "—"
            amount = snapshot.amount?.payAmount.map(ConsoleViews.yuan)
            sku = snapshot.sku?.title
            timesCard = snapshot.timesCard.map { "\($0.timesUsed)/\($0.timesCount)" }
            verifications = snapshot.verifications.map(VerificationRow.init)
            observed = ConsoleViews.time(snapshot.observedAt)
            rawStatus = snapshot.status.map(String.init) ?? "—"
        }
    }

    struct VerificationRow {
        var verifyID: String
        var time: String
        var poiID: String?
        var canCancel: Bool

        init(_ verification: Verification) {
            verifyID = verification.verifyID
            time = verification.verifyTime.map(ConsoleViews.time) ?? "—"
            poiID = verification.poiID
            canCancel = verification.canCancel
        }
    }

    struct EventRow {
        var sequence: Int64
        var id: String
        var type: String
        var typeLabel: String
        var time: String
        var subject: String
        var orderID: String?
        var watchID: String
        var detail: String?
        var deliveries: [DeliveryChip]

        init(_ event: CertWatchEvent, deliveries: [Delivery] = []) {
            sequence = event.sequence ?? 0
            id = event.id
            type = event.type.rawValue
            typeLabel = ConsoleViews.label(event.type)
            time = ConsoleViews.time(event.time)
            subject = event.subject
            orderID = event.data.watch.orderID
            watchID = event.data.watch.id
            detail = ConsoleViews.detail(event)
            self.deliveries = deliveries.map(DeliveryChip.init)
        }
    }

    struct DeliveryChip {
        var id: Int64
        var sink: String
        var state: String
        var stateLabel: String
        init(_ delivery: Delivery) {
            id = delivery.id
            sink = delivery.sink
            state = delivery.state.rawValue
            stateLabel = ConsoleViews.label(delivery.state)
        }
    }

    struct DeliveryRow {
        var id: Int64
        var sink: String
        var state: String
        var stateLabel: String
        var attempts: Int
        var eventType: String
        var eventID: String
        var eventSequence: Int64
        var subject: String
        var rule: String?
        var nextAttempt: String
        var created: String
        var updated: String
        var lastStatus: String
        var lastError: String?
        var canReplay: Bool

        init(_ delivery: Delivery) {
            id = delivery.id
            sink = delivery.sink
            state = delivery.state.rawValue
            stateLabel = ConsoleViews.label(delivery.state)
            attempts = delivery.attempts
            eventType = delivery.eventType
            eventID = delivery.eventID
            eventSequence = delivery.eventSequence
            subject = delivery.subject
            rule = delivery.rule
            nextAttempt = delivery.state.isOpen ? delivery.nextAttemptAt.map { ConsoleViews.time(Int64($0)) } ?? "—" : "—"
            created = ConsoleViews.time(Int64(delivery.createdAt))
            updated = ConsoleViews.time(Int64(delivery.updatedAt))
            lastStatus = delivery.lastStatus.map(String.init) ?? "—"
            lastError = delivery.lastError
            canReplay = true
        }
    }

    struct AttemptRow {
        var number: Int
        var started: String
        var duration: String
        var status: String
        var outcome: String
        var error: String?
        var response: String?

        init(_ attempt: DeliveryAttempt) {
            number = attempt.number
            started = ConsoleViews.time(Int64(attempt.startedAt))
            duration = String(format: "%.0f ms", attempt.duration * 1000)
            status = attempt.status.map(String.init) ?? "—"
            outcome = ConsoleViews.label(attempt.outcome)
            error = attempt.error
            response = attempt.response.map { $0.count > 300 ? String($0.prefix(300)) + "…" : $0 }
        }
    }

    struct SinkRow {
        var name: String
        var kind: String
        var enabled: Bool
        var disabledAt: String?
        var reason: String?
        var pending: Int
        var retrying: Int
        var delivered: Int
        var dead: Int
        var cancelled: Int
    }

    struct ErrorRow {
        var code: String
        var errorClass: String
        var count: Int
        var last: String
        var logid: String?
        var watchID: String
        var message: String
    }

    struct Option {
        var value: String
        var label: String
        var selected: Bool
    }

    // MARK: Formatting

    /// Unix seconds as `2024-12-14 17:38:02` in China Standard Time (UTC+8), where Douyin's merchants are.
    static func time(_ seconds: Int64) -> String {
        guard seconds > -62_135_596_800, seconds < 253_402_300_800 else { return String(seconds) }
        let c = chinaCalendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    private static let chinaCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3_600) ?? .gmt
        return calendar
    }()

    /// Fen as yuan: `¥12.50`.
    static func yuan(_ fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let value = fen.magnitude
        let cents = value % 100
        return "\(sign)¥\(value / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    /// The derived state of a certificate at `now`, as a CSS-friendly key and a label.
    static func derived(_ snapshot: CertificateSnapshot, now: Int64) -> (String, String) {
        if snapshot.isRefunded { return ("refunded", "已退款 refunded") }
        if snapshot.isRefundPending { return ("refund-pending", "退款中 refund requested") }
        switch snapshot.derivedState(at: now) {
        case .refunded: return ("refunded", "已退款 refunded")
        case .verified:
            if snapshot.isCancellable {
                // Douyin allows a cancel for about an hour after the verification.
                let latest = snapshot.verifications.filter(\.canCancel).compactMap(\.verifyTime).max()
                let until = latest.map { time($0 + 3_600) } ?? "?"
                return ("cancellable", "已核销，可撤销至 \(until) · verified, cancellable until \(until)")
            }
            return ("used", "已使用 used")
        case .expired: return ("expired", "已过期 expired")
        case .available:
            if let card = snapshot.timesCard {
                return ("usable", "可用 usable · 次卡 times card \(card.timesUsed)/\(card.timesCount) used")
            }
            return ("usable", "可用 usable")
        }
    }

    /// A line of what changed, for the timeline.
    static func detail(_ event: CertWatchEvent) -> String? {
        if let verification = event.data.verification {
            return "verify_id \(verification.verifyID)" + (verification.poiID.map { " · 门店 poi \($0)" } ?? "")
        }
        if let error = event.data.error {
            return [error.code.map { "code \($0)" }, error.description, error.logid.map { "logid \($0)" }].compactMap { $0 }
                .joined(separator: " · ")
        }
        if let use = event.data.use { return "次卡 use \(use.number): \(use.timesUsed)/\(use.timesCount)" }
        let changes = event.data.changes.map { change in
            "\(change.field): \(String(decoding: change.before.encoded(), as: UTF8.self)) → \(String(decoding: change.after.encoded(), as: UTF8.self))"
        }
        return changes.isEmpty ? nil : changes.joined(separator: "; ")
    }

    static func label(_ state: Watch.State) -> String {
        switch state {
        case .active: return "监控中 active"
        case .stalled: return "停滞 stalled"
        case .done: return "完成 done"
        case .failed: return "失败 failed"
        case .removed: return "已移除 removed"
        case .paused: return "已暂停 paused (未授权)"
        }
    }

    static func label(_ state: DeliveryState) -> String {
        switch state {
        case .pending: return "待发送 pending"
        case .retrying: return "重试中 retrying"
        case .delivered: return "已送达 delivered"
        case .dead: return "死信 dead"
        case .cancelled: return "已取消 cancelled"
        }
    }

    static func label(_ type: EventType) -> String {
        let chinese: String
        switch type {
        case .discovered: chinese = "发现券"
        case .verified: chinese = "核销"
        case .verifyCancelled: chinese = "撤销核销"
        case .cancelWindowClosed: chinese = "撤销期结束"
        case .timesCardUsed: chinese = "次卡使用"
        case .expiringSoon: chinese = "即将过期"
        case .expired: chinese = "已过期"
        case .refundRequested: chinese = "申请退款"
        case .refunding: chinese = "退款中"
        case .refunded: chinese = "已退款"
        case .refundFailed: chinese = "退款失败"
        case .statusChanged: chinese = "状态变化"
        case .watchFailed: chinese = "监控失败"
        case .watchStalled: chinese = "监控停滞"
        case .watchRecovered: chinese = "监控恢复"
        }
        return "\(chinese) \(type.rawValue)"
    }
}
