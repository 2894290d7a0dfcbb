import CertWatchCore
import Foundation

/// One stored event a backfill considers, and whether the sink already has a delivery of it.
public struct BackfillCandidate: Sendable {
    /// The event, with its `sequence`.
    public var event: CertWatchEvent
    /// Whether a delivery of this event to the backfilled sink is stored (any state: a dead or
    /// cancelled one is replayed, not backfilled).
    public var hasDelivery: Bool

    /// A candidate: `event` (with its sequence) and whether the sink has a delivery of it.
    public init(event: CertWatchEvent, hasDelivery: Bool) {
        self.event = event
        self.hasDelivery = hasDelivery
    }
}

/// What to backfill: the stored events of a window, run through the rules as they are now, for
/// one sink (`certwatch deliveries backfill`, `POST /v1/sinks/{name}/backfill`, the console).
package struct BackfillRequest: Sendable, Hashable {
    /// The sink to create deliveries for.
    package var sink: String
    /// The window's start: events whose `time` is at or after it, Unix seconds.
    package var since: Int64
    /// Only events of this type.
    package var type: EventType?
    /// Only events of this order.
    package var orderID: String?
    /// Count what would be created without writing anything.
    package var dryRun: Bool

    /// A backfill of `sink` from `since` (Unix seconds), optionally of one event type and one order.
    package init(sink: String, since: Int64, type: EventType? = nil, orderID: String? = nil, dryRun: Bool = false) {
        self.sink = sink
        self.since = since
        self.type = type
        self.orderID = orderID
        self.dryRun = dryRun
    }

    /// Reads a window start written as an RFC 3339 time, Unix seconds, or a duration ago (`6h`, `7d`,
    /// ``DurationText``) before `now` (Unix seconds). `nil` when it is none of these (or a number too
    /// large to be a time).
    package static func time(_ text: String, now: Double) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let parsed = UnixTime.parse(rfc3339: text) { return Double(parsed) }
        if let unix = Double(text) { return unix.isFinite && (0...253_402_300_799).contains(unix) ? unix : nil }
        // At most 9 digits per number: DurationText's Int64 arithmetic cannot overflow.
        guard text.count <= 40, text.split(whereSeparator: { !$0.isNumber }).allSatisfy({ $0.count <= 9 }) else { return nil }
        if let ago = DurationText.seconds(text), ago >= 0 { return now - Double(ago) }
        return nil
    }
}

/// What a backfill did (or, in a dry run, would do). Every count is of events in the window.
package struct BackfillReport: Sendable, Hashable, Codable {
    /// The sink.
    package var sink: String
    /// The window's start, Unix seconds.
    package var since: Int64
    /// Whether nothing was written.
    package var dryRun: Bool
    /// Events in the window (after the type and order filters).
    package var events: Int
    /// Events the sink already has a delivery of (skipped).
    package var alreadyDelivered: Int
    /// Events the rules, as they are now, do not send to the sink directly (skipped): no rule, a
    /// dropping rule, or another sink.
    package var notRouted: Int
    /// Events a `group:` rule collects for the sink (skipped: a summary of the past is not sent).
    package var grouped: Int
    /// Deliveries created, due now (in a dry run: that would be created).
    package var created: Int

    enum CodingKeys: String, CodingKey {
        case sink, since, dryRun = "dry_run", events, alreadyDelivered = "already_delivered", notRouted = "not_routed"
        case grouped, created
    }

    /// One line for people: `backfill erp: 12 deliveries created (40 events since …; 25 already delivered, 3 not routed to erp)`.
    package var summary: String {
        let verb = dryRun ? "would be created (dry run)" : "created"
        var skipped = ["\(alreadyDelivered) already delivered", "\(notRouted) not routed to \(sink)"]
        if grouped > 0 { skipped.append("\(grouped) grouped (not backfilled)") }
        return "backfill \(sink): \(created) deliver\(created == 1 ? "y" : "ies") \(verb) (\(events) event\(events == 1 ? "" : "s") since \(UnixTime.rfc3339(since)); \(skipped.joined(separator: ", ")))"
    }
}

extension Outbox {
    /// Events read per page while backfilling.
    static let backfillPage = 500

    /// Backfills `request.sink`: pages through the stored events of the window (``DeliveryQueue/backfillCandidates(sink:since:type:orderID:after:limit:)``),
    /// skips those the sink already has a delivery of, runs the rest through the rules in effect
    /// (``currentRules``) and writes one pending delivery, due now, for each event a rule delivers
    /// to the sink (with that rule's rendered body), through ``DeliveryQueue/enqueue(_:)`` (a
    /// delivery written meanwhile by the watcher is kept, not doubled). Events a `group:` rule takes
    /// for the sink are counted, not backfilled. Nothing is written in a dry run. The dispatcher
    /// sends the new deliveries (wake it afterwards). Throws what the storage throws; a page already
    /// written stays written.
    package func backfill(_ request: BackfillRequest, store: any DeliveryQueue, now: Double) async throws -> BackfillReport {
        let rules = currentRules
        var report = BackfillReport(
            sink: request.sink, since: request.since, dryRun: request.dryRun, events: 0, alreadyDelivered: 0, notRouted: 0,
            grouped: 0, created: 0)
        var cursor: Int64 = 0
        while true {
            let page = try await store.backfillCandidates(
                sink: request.sink, since: request.since, type: request.type, orderID: request.orderID, after: cursor,
                limit: Self.backfillPage)
            var planned: [PlannedDelivery] = []
            for candidate in page {
                report.events += 1
                if candidate.hasDelivery {
                    report.alreadyDelivered += 1
                    continue
                }
                let decisions = rules.evaluate(candidate.event, now: Int64(now)).decisions.filter { $0.sink == request.sink }
                if let direct = decisions.first(where: { $0.group == nil }) {
                    planned.append(PlannedDelivery(event: candidate.event, decision: direct))
                } else if !decisions.isEmpty {
                    report.grouped += 1
                } else {
                    report.notRouted += 1
                }
            }
            if request.dryRun {
                report.created += planned.count
            } else if !planned.isEmpty {
                report.created += try await store.enqueue(Routing(now: now, deliveries: planned))
            }
            guard page.count == Self.backfillPage, let last = page.last?.event.sequence else { break }
            cursor = last
        }
        return report
    }
}
