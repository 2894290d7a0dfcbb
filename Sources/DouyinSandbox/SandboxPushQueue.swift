import DouyinOpenAPI
import Foundation

/// One 券消息通知 the sandbox sends (or lost), as Douyin would: `life_trade_certificate_notify`
/// with `content` a JSON string `{action, msg_time, certificate: {certificate_id, order_id,
/// account_id}}` (ids as decimal strings, `msg_time` Unix seconds), header `Msg-Id`.
package struct SandboxPush: Sendable, Hashable {
    /// `Msg-Id`: the same for every copy of one push.
    package var messageID: String
    /// `verify`, `verify_cancel` or `refund_success`.
    package var action: String
    /// The certificate that changed.
    package var certificateID: String
    /// Its order.
    package var orderID: String
    /// When it changed, sandbox Unix seconds (also the push's `msg_time`).
    package var changedAt: Int64
    /// When the push is sent, sandbox seconds (`changedAt` plus the injected delay).
    package var dueAt: Double
    /// The request body (what `X-Douyin-Signature` signs).
    package var body: Data
    /// Whether the fault profile lost it (never sent).
    package var lost: Bool
}

/// The sandbox's push outbox: a pure state machine. ``record(action:certificate:at:clientKey:faults:)``
/// queues the push of one change, drawing loss, duplication, delay and reordering from
/// ``PushFaults``; ``takeDue(now:)`` hands out the pushes due, earliest first.
struct SandboxPushQueue: Sendable {
    /// Whether pushes are recorded at all (a pusher is attached).
    var enabled = false
    private var rng: SeededGenerator
    private var pending: [(push: SandboxPush, order: Int)] = []
    private var counter = 0
    /// Every change pushed or lost, oldest first (what the demo measures detection latency from).
    private(set) var log: [SandboxPush] = []

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed ^ 0x7075_7368)
    }

    /// Queues the push of `action` on `certificate` at sandbox time `at`. Draws four numbers
    /// whatever the profile says, so the same seed gives the same pushes.
    mutating func record(action: String, certificate: SandboxCertificate, at: Int64, clientKey: String, faults: PushFaults?) {
        guard enabled else { return }
        let (lossDraw, duplicateDraw, delayDraw, reorderDraw) = (rng.unit(), rng.unit(), rng.unit(), rng.unit())
        counter += 1
        let messageID = String(format: "sandbox-%016llx", rng.next())
        var delay = (faults?.delayMaxSeconds ?? 0) * delayDraw
        if reorderDraw < (faults?.reorder ?? 0) { delay += faults?.reorderDelaySeconds ?? 60 }
        let push = SandboxPush(
            messageID: messageID, action: action, certificateID: String(certificate.certificateID),
            orderID: certificate.orderID, changedAt: at, dueAt: Double(at) + delay,
            body: Self.body(
                action: action, certificate: certificate, at: at, clientKey: clientKey, logID: messageID),
            lost: lossDraw < (faults?.loss ?? 0))
        log.append(push)
        guard !push.lost else { return }
        pending.append((push: push, order: counter))
        if duplicateDraw < (faults?.duplicate ?? 0) { pending.append((push: push, order: counter)) }
    }

    /// Removes and returns the pushes due at `now` (sandbox seconds), earliest first.
    mutating func takeDue(now: Double) -> [SandboxPush] {
        let due = pending.filter { $0.push.dueAt <= now }.sorted { ($0.push.dueAt, $0.order) < ($1.push.dueAt, $1.order) }
        pending.removeAll { $0.push.dueAt <= now }
        return due.map(\.push)
    }

    /// When the next push is due, sandbox seconds, or `nil`.
    var nextDue: Double? { pending.map(\.push.dueAt).min() }

    /// The 券消息通知 body of a change.
    static func body(action: String, certificate: SandboxCertificate, at: Int64, clientKey: String, logID: String) -> Data {
        let content = JSONValue.object([
            "action": .string(action), "msg_time": .int(at),
            "certificate": .object([
                "certificate_id": .string(String(certificate.certificateID)), "order_id": .string(certificate.orderID),
                "account_id": .string(certificate.accountID),
            ]),
        ])
        return JSONValue.object([
            "event": .string("life_trade_certificate_notify"), "client_key": .string(clientKey), "from_user_id": .string(""),
            "to_user_id": .string(""), "content": .string(String(decoding: content.encoded(), as: UTF8.self)),
            "log_id": .string(logID),
        ]).encoded()
    }

    /// The push action of a change from `before` to `after`, or `nil` (not a pushed change):
    /// `verify` when a verification was added, `verify_cancel` when one was removed,
    /// `refund_success` when a refund was approved (sent at the end of its refunding phase, see
    /// ``SandboxCertificate/refundedAt``; a request or a rejection is not pushed).
    static func action(from before: SandboxCertificate, to after: SandboxCertificate) -> String? {
        if after.refundedAt != nil, before.refundedAt == nil { return "refund_success" }
        if after.verifications.count > before.verifications.count { return "verify" }
        if after.verifications.count < before.verifications.count { return "verify_cancel" }
        return nil
    }
}
