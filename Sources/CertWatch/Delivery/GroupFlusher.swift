import CertWatchCore
import Logging
import ServiceLifecycle

/// Sends group summaries when their `wait` or `interval` runs out: checks the stored groups every
/// ``interval`` seconds of the clock and turns due groups into deliveries (then wakes the dispatcher).
package struct GroupFlusher: Service {
    let store: any DeliveryQueue
    let outbox: Outbox
    let clock: any WallClock
    let interval: Double
    let wake: @Sendable () -> Void
    let logger: Logger

    package init(
        store: any DeliveryQueue, outbox: Outbox, clock: any WallClock, interval: Double = 1, wake: @escaping @Sendable () -> Void = {},
        logger: Logger = Logger(label: "certwatch.groups")
    ) {
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.interval = interval
        self.wake = wake
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                if try await flushDue() > 0 { wake() }
            } catch {
                logger.error("cannot flush groups", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await clock.sleep(seconds: interval) }
        }
    }

    /// Flushes every group due now; returns how many deliveries were queued (one per summary and sink).
    @discardableResult
    package func flushDue() async throws -> Int {
        try await store.enqueue(Self.routing(rules: outbox.currentRules, now: clock.now()))
    }

    /// The flush of the groups due at `now`, without I/O: each summary becomes one delivery per sink,
    /// carried by the group's latest event (so ordering per certificate still holds) with the
    /// rendered summary as its body. When no group is due, the stored state is left as it was.
    static func routing(rules: RuleSet, now: Double) -> Routing {
        Routing(now: now) { state in
            var flushed = state
            let summaries = flushed.flush(now: Int64(now))
            guard !summaries.isEmpty else { return [] }
            state = flushed
            var items: [PlannedDelivery] = []
            for summary in summaries {
                guard let carrier = summary.events.max(by: { ($0.sequence ?? 0) < ($1.sequence ?? 0) }) else { continue }
                let body = rules.render(summary)
                for sink in summary.sinks {
                    items.append(PlannedDelivery(event: carrier, decision: RouteDecision(sink: sink, rule: summary.key.rule, body: body)))
                }
            }
            return items
        }
    }
}
