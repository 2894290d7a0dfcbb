import CertWatchCore
import Foundation
import Logging
import Synchronization

/// The durable outbox: routes committed events through the rules and writes one delivery row per
/// (event, sink) in the same transaction as the events, so events and their deliveries commit
/// together or not at all.
///
/// Wire ``router`` into ``Watcher`` (`route:`); use ``append(_:to:)`` for events
/// appended outside polls. Rules can be swapped at any time (``update(rules:)``); events committed
/// afterwards use the new rules.
package final class Outbox: Sendable {
    private let rules: Mutex<RuleSet>
    private let clock: any WallClock
    private let logger: Logger

    /// - Parameters:
    ///   - rules: the routing rules.
    ///   - clock: the clock (`now` in rule conditions, `created_at` of deliveries).
    package init(rules: RuleSet, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "certwatch.outbox")) {
        self.rules = Mutex(rules)
        self.clock = clock
        self.logger = logger
    }

    /// The rules in effect.
    package var currentRules: RuleSet { rules.withLock { $0 } }

    /// Replaces the rules (a reload).
    package func update(rules newRules: RuleSet) { rules.withLock { $0 = newRules } }

    /// The ``EventRouter`` for ``Watcher``'s `route:`: the storage backend calls it inside each poll's
    /// transaction with the events appended.
    package var router: EventRouter {
        { [self] events in self.route(events) }
    }

    /// Routes `events` (already appended, with sequences) through the current rules, without I/O:
    /// one delivery per (event, sink) a rule delivers it to, due now, and — for events a `group:`
    /// rule takes — a grouping change adding them to their groups (``GroupFlusher`` sends the
    /// summaries). Counts the events no rule matched (`certwatch_events_unrouted_total`).
    package func route(_ events: [CertWatchEvent]) -> Routing {
        let ruleSet = currentRules
        let now = clock.now()
        var deliveries: [PlannedDelivery] = []
        var grouped: [(event: CertWatchEvent, decisions: [RouteDecision])] = []
        for event in events {
            let outcome = ruleSet.evaluate(event, now: Int64(now))
            if outcome.unmatched {
                CertWatchMetrics.eventUnrouted(event.type)
            }
            if outcome.decisions.contains(where: { $0.group != nil }) {
                grouped.append((event, outcome.decisions))
            }
            deliveries += outcome.decisions.filter { $0.group == nil }.map { PlannedDelivery(event: event, decision: $0) }
        }
        guard !grouped.isEmpty else { return Routing(now: now, deliveries: deliveries) }
        let groupedEvents = grouped
        return Routing(now: now, deliveries: deliveries) { state in
            for (event, decisions) in groupedEvents {
                ruleSet.group(event, decisions: decisions, into: &state, now: Int64(now))
            }
            return []
        }
    }

    /// Loads the rule files for `serve`, checking sink names against `sinks`. A missing default
    /// `rules/` directory yields no rules (nothing is delivered) with a warning; any other problem
    /// throws ``RuleLoadErrors`` (every diagnostic, file:line:col).
    package static func loadRules(paths: [String], sinks: [SinkConfiguration], logger: Logger) throws -> RuleSet {
        if defaultRulesAbsent(paths) {
            logger.warning("\(noRulesWarning)")
            return RuleSet()
        }
        let rules = try RuleSet.load(paths: paths, knownSinks: Set(sinks.map(\.name)))
        logger.info("rules loaded", metadata: ["files": "\(rules.files.count)", "rules": "\(rules.rules.count)"])
        return rules
    }

    /// Whether `paths` is the default `rules/` (no `rules.paths` set; relative to the working
    /// directory) and there is no such directory: then nothing is delivered, with ``noRulesWarning``.
    package static func defaultRulesAbsent(_ paths: [String]) -> Bool {
        paths == ["rules/"] && !FileManager.default.fileExists(atPath: "rules/")
    }

    /// What `serve` and `config check` say when ``defaultRulesAbsent(_:)``.
    package static let noRulesWarning = "no rules/ directory here and no rules.paths: events are recorded but not delivered"

    /// Appends events outside a poll, with their deliveries, in one transaction. Returns the
    /// events appended (ids already stored are skipped).
    @discardableResult
    package func append(_ events: [CertWatchEvent], to store: any EventLog) async throws -> [CertWatchEvent] {
        try await store.append(events, route: router)
    }
}
