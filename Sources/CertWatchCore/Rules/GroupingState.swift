import Crypto
import DouyinModels
import Foundation

/// Identifies a group: the rule and the values of its `group.by` fields (as text; absent is empty).
package struct GroupKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The grouping rule's name.
    package var rule: String
    /// The `by` values in order.
    package var values: [String]

    package init(rule: String, values: [String]) {
        self.rule = rule
        self.values = values
    }

    package var description: String { rule + "{" + values.joined(separator: ",") + "}" }

    package static func < (a: GroupKey, b: GroupKey) -> Bool { (a.rule, a.values.joined(separator: "\u{0}")) < (b.rule, b.values.joined(separator: "\u{0}")) }

    /// Text of a JSON value as a key part.
    static func text(of value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .string(let s): return s
        case .int(let v): return String(v)
        case .uint(let v): return String(v)
        case .bool(let b): return b ? "true" : "false"
        case .double(let d): return String(d)
        case .array, .object: return String(decoding: value.encoded(), as: UTF8.self)
        }
    }
}

/// One summary message of a group, ready to render (``RuleSet/render(_:)``) and deliver to `sinks`.
package struct GroupSummary: Sendable, Hashable, Codable {
    /// Deterministic id (`grp_…`): the same summary computed again after a crash has the same id.
    package var id: String
    /// The group.
    package var key: GroupKey
    /// The `by` field paths, parallel to `key.values`.
    package var by: [String]
    /// The sinks to deliver to.
    package var sinks: [String]
    /// Events summarised (all of them, listed or not).
    package var count: Int
    /// Counts per event type.
    package var types: [String: Int]
    /// Sum of `data.certificate.amount.pay_amount` over the events, fen (saturating).
    package var payAmountTotal: Int64
    /// Earliest and latest event time, Unix seconds.
    package var firstTime: Int64
    package var lastTime: Int64
    /// The listed events (at most the policy's `max`, oldest first).
    package var events: [CertWatchEvent]
    /// 1 for the group's first summary, then 2, 3, …
    package var messageNumber: Int
    /// When the summary was cut, Unix seconds.
    package var at: Int64

    /// The template context (schema ``TemplateSchemas/group``).
    package func context() -> JSONValue {
        .object([
            "rule": .string(key.rule),
            "group": .object([
                "id": .string(id),
                "key": .string(key.values.joined(separator: ", ")),
                "by": .array(zip(by, key.values).map { .object(["field": .string($0), "value": .string($1)]) }),
                "count": .int(Int64(count)),
                "listed": .int(Int64(events.count)),
                "truncated": .int(Int64(count - events.count)),
                "is_truncated": .bool(count > events.count),
                "types": .array(types.keys.sorted().map { .object(["type": .string($0), "count": .int(Int64(types[$0]!))]) }),
                "pay_amount_total": .int(payAmountTotal),
                "first_time": .int(firstTime),
                "last_time": .int(lastTime),
                "message_number": .int(Int64(messageNumber)),
            ]),
            "events": .array(events.map(EventSchema.tree(of:))),
        ])
    }

    /// A plain-text summary for rules without a template.
    package func plainText(timeZone: TimeZone) -> String {
        let typeText = types.keys.sorted().map { "\($0) ×\(types[$0]!)" }.joined(separator: ", ")
        var text = "[\(key.rule)] \(key.values.joined(separator: ", ")): \(count) event\(count == 1 ? "" : "s") (\(typeText))"
        text += ", total ¥\(RuleTemplate.yuan(payAmountTotal))"
        text += ", \(RuleTemplate.localTime(firstTime, zone: timeZone)) – \(RuleTemplate.localTime(lastTime, zone: timeZone))"
        for event in events {
            text += "\n- \(event.type.rawValue) \(event.subject)"
            if let pay = event.data.certificate?.amount?.payAmount { text += " ¥\(RuleTemplate.yuan(pay))" }
        }
        if count > events.count { text += "\n… and \(count - events.count) more" }
        return text
    }
}

/// The grouping state machine (pure; a `Codable` value the store saves with the deliveries it
/// produces, so a restart neither loses nor repeats a summary).
///
/// Per group, Alertmanager-style: the first event opens the group and schedules the first summary at
/// `now + wait`; a summary takes every pending event (listing at most `max`, counting all) and
/// schedules the next no earlier than `interval` later; a group with nothing pending for a whole
/// interval after its last summary is forgotten, so the next event waits `wait` again.
/// The same event id added twice to a group before its summary is counted once.
package struct GroupingState: Sendable, Hashable, Codable {
    struct Group: Sendable, Hashable, Codable {
        var policy: GroupPolicy
        var sinks: [String]
        var nextFlushAt: Int64
        var lastFlushAt: Int64?
        var messagesSent: Int
        var pendingIDs: [String]
        var listed: [CertWatchEvent]
        var types: [String: Int]
        var payAmountTotal: Int64
        var firstTime: Int64
        var lastTime: Int64
    }

    var groups: [GroupKey: Group] = [:]

    package init() {}

    /// Number of open groups.
    package var groupCount: Int { groups.count }

    /// Events waiting for a summary, over all groups.
    package var pendingCount: Int { groups.values.reduce(0) { $0 + $1.pendingIDs.count } }

    /// Adds `event` to group `key` at `now`.
    package mutating func add(_ event: CertWatchEvent, key: GroupKey, policy: GroupPolicy, sinks: [String], now: Int64) {
        var group = groups[key] ?? Group(
            policy: policy, sinks: sinks, nextFlushAt: now + policy.wait, lastFlushAt: nil, messagesSent: 0, pendingIDs: [],
            listed: [], types: [:], payAmountTotal: 0, firstTime: event.time, lastTime: event.time)
        group.policy = policy
        group.sinks = sinks
        guard !group.pendingIDs.contains(event.id) else { return }
        if group.pendingIDs.isEmpty {
            group.firstTime = event.time
            group.lastTime = event.time
            group.types = [:]
            group.payAmountTotal = 0
            if let last = group.lastFlushAt { group.nextFlushAt = max(last + policy.interval, now) }
        }
        group.pendingIDs.append(event.id)
        if group.listed.count < policy.max { group.listed.append(event) }
        group.types[event.type.rawValue, default: 0] += 1
        let pay = event.data.certificate?.amount?.payAmount ?? 0
        let (sum, overflow) = group.payAmountTotal.addingReportingOverflow(pay)
        group.payAmountTotal = overflow ? (pay > 0 ? Int64.max : Int64.min) : sum
        group.firstTime = min(group.firstTime, event.time)
        group.lastTime = max(group.lastTime, event.time)
        groups[key] = group
    }

    /// The earliest time a summary is due, if any group has pending events.
    package func nextDue() -> Int64? {
        groups.values.filter { !$0.pendingIDs.isEmpty }.map(\.nextFlushAt).min()
    }

    /// Cuts every summary due at `now` (in group-key order) and forgets idle groups.
    package mutating func flush(now: Int64) -> [GroupSummary] {
        var summaries: [GroupSummary] = []
        for key in groups.keys.sorted() {
            guard var group = groups[key] else { continue }
            if group.pendingIDs.isEmpty {
                if let last = group.lastFlushAt, now >= last + group.policy.interval { groups[key] = nil }
                continue
            }
            guard now >= group.nextFlushAt else { continue }
            group.messagesSent += 1
            let id = "grp_" + SHA256.hash(data: Data("\(key.rule)|\(key.values.joined(separator: "\u{1f}"))|\(group.pendingIDs.first ?? "")|\(group.messagesSent)".utf8))
                .prefix(16).map { String(format: "%02x", $0) }.joined()
            summaries.append(GroupSummary(
                id: id, key: key, by: group.policy.by, sinks: group.sinks, count: group.pendingIDs.count, types: group.types,
                payAmountTotal: group.payAmountTotal, firstTime: group.firstTime, lastTime: group.lastTime, events: group.listed,
                messageNumber: group.messagesSent, at: now))
            group.lastFlushAt = now
            group.nextFlushAt = now + group.policy.interval
            group.pendingIDs = []
            group.listed = []
            groups[key] = group
        }
        return summaries
    }
}
