import CertWatchCore
import Foundation
import Logging
import Synchronization

/// The durable outbox: routes committed events through the rules and writes one delivery row per
/// (event, sink) in the same transaction as the events, so events and their deliveries commit
/// together or not at all.
///
/// Wire ``afterAppend`` into ``Watcher`` (`afterAppend:`); use ``append(_:to:)`` for events
/// appended outside polls. Rules can be swapped at any time (``update(rules:)``); events committed
/// afterwards use the new rules.
public final class Outbox: Sendable {
    private let rules: Mutex<RuleSet>
    private let clock: any WallClock
    private let logger: Logger

    /// - Parameters:
    ///   - rules: the routing rules.
    ///   - clock: the clock (`now` in rule conditions, `created_at` of deliveries).
    public init(rules: RuleSet, clock: any WallClock = SystemWallClock(), logger: Logger = Logger(label: "certwatch.outbox")) {
        self.rules = Mutex(rules)
        self.clock = clock
        self.logger = logger
    }

    /// The rules in effect.
    public var currentRules: RuleSet { rules.withLock { $0 } }

    /// Replaces the rules (a reload).
    public func update(rules newRules: RuleSet) { rules.withLock { $0 = newRules } }

    /// The closure for ``Watcher``'s `afterAppend:`: runs inside the poll's transaction.
    public var afterAppend: AfterAppend {
        { [self] transaction, events in try self.enqueue(events, in: transaction) }
    }

    /// Routes `events` (already appended, with sequences) and writes their deliveries in
    /// `transaction`. Events routed by a `group:` rule join their group (stored in the same
    /// transaction); ``GroupFlusher`` sends the summaries.
    /// Returns how many deliveries were written.
    @discardableResult
    public func enqueue(_ events: [CertWatchEvent], in transaction: any StorageTransaction) throws -> Int {
        guard !events.isEmpty else { return 0 }
        let ruleSet = currentRules
        let now = clock.now()
        var items: [(event: CertWatchEvent, decision: RouteDecision)] = []
        var groups: GroupingState?
        for event in events {
            let outcome = ruleSet.evaluate(event, now: Int64(now))
            if outcome.unmatched {
                CertWatchMetrics.eventUnrouted(event.type)
            }
            if outcome.decisions.contains(where: { $0.group != nil }) {
                var state = try groups ?? transaction.groupingState()
                ruleSet.group(event, decisions: outcome.decisions, into: &state, now: Int64(now))
                groups = state
            }
            items += outcome.decisions.filter { $0.group == nil }.map { (event, $0) }
        }
        if let groups { try transaction.saveGroupingState(groups) }
        return try transaction.enqueueDeliveries(items, now: now)
    }

    /// Loads the rule files for `serve`, checking sink names against `sinks`. A missing default
    /// `rules/` directory yields no rules (nothing is delivered) with a warning; any other problem
    /// throws ``RuleLoadErrors`` (every diagnostic, file:line:col).
    public static func loadRules(paths: [String], sinks: [SinkConfiguration], logger: Logger) throws -> RuleSet {
        if paths == ["rules/"], !FileManager.default.fileExists(atPath: "rules/") {
            logger.warning("no rules/ directory: events are recorded but not delivered (set rules.paths)")
            return RuleSet()
        }
        let rules = try RuleSet.load(paths: paths, knownSinks: Set(sinks.map(\.name)))
        logger.info("rules loaded", metadata: ["files": "\(rules.files.count)", "rules": "\(rules.rules.count)"])
        return rules
    }

    /// Appends events outside a poll, with their deliveries, in one transaction. Returns the
    /// events appended (ids already stored are skipped).
    @discardableResult
    public func append(_ events: [CertWatchEvent], to store: any CertWatchStorage) async throws -> [CertWatchEvent] {
        try await store.transaction { transaction in
            let appended = try transaction.append(events)
            try self.enqueue(appended, in: transaction)
            return appended
        }
    }
}
