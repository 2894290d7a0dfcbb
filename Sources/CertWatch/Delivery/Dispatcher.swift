import CertWatchCore
import DouyinOpenAPI
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Settings of the dispatcher.
package struct DispatcherConfiguration: Sendable {
    /// Longest idle wait between looks at the outbox, seconds (deliveries replayed by another
    /// process are picked up within this time). Default 1.
    package var idleCheck: Double
    /// Seed for retry jitter (`nil`: random).
    package var seed: UInt64?

    package init(idleCheck: Double = 1, seed: UInt64? = nil) {
        self.idleCheck = idleCheck
        self.seed = seed
    }
}

/// Takes due deliveries from the outbox and hands them to their sinks: per sink, up to the sink's
/// `concurrency` deliveries at a time, each the earliest open delivery of its certificate (so one
/// certificate's events reach a sink in `sequence` order, while different certificates proceed in
/// parallel). Every attempt is recorded with the next state from ``DeliveryPlanner``.
///
/// Each sink runs a pipeline (``DeliveryPipeline``): `concurrency` requests stay in flight while
/// deliveries are claimed ahead in batches and finished attempts are recorded in batches (one
/// transaction each), so neither the store nor the slowest request of a batch holds the others up.
///
/// At-least-once: a delivery is recorded only after the sink answered, so a crash in between
/// re-sends it after restart, with the same `webhook-id`.
///
/// A `Service`: ``run()`` runs one pipeline per sink until graceful shutdown (the deliveries in
/// flight complete and are recorded), woken by the ``EventBus`` or by the next due time.
/// ``dispatchDue()`` is the step, for tests and tools driving an injected clock: it runs the same
/// claim → send → record pipeline as ``run()``.
package final class Dispatcher: Service {
    /// The outbox's queue: claims, attempts recorded, the next due time.
    package let store: any DeliveryQueue
    /// Sinks by name.
    package let sinks: [String: any Sink]
    /// The clock.
    package let clock: any WallClock
    /// Settings.
    package let configuration: DispatcherConfiguration
    private let bus: EventBus?
    private let logger: Logger
    private let random: Mutex<SeededGenerator>
    private let wake = WakeSignal()

    /// - Parameters:
    ///   - bus: wakes the dispatcher when events commit (optional).
    package init(
        store: any DeliveryQueue, sinks: [String: any Sink], clock: any WallClock = SystemWallClock(),
        configuration: DispatcherConfiguration = DispatcherConfiguration(), bus: EventBus? = nil,
        logger: Logger = Logger(label: "certwatch.dispatcher")
    ) {
        self.store = store
        self.sinks = sinks
        self.clock = clock
        self.configuration = configuration
        self.bus = bus
        self.logger = logger
        var system = SystemRandomNumberGenerator()
        random = Mutex(SeededGenerator(seed: configuration.seed ?? system.next()))
    }

    /// Wakes the sink loops (e.g. after a replay in this process).
    package func wakeUp() { wake.signal() }

    /// Dispatches until nothing is due at the clock's current time: every sink's pipeline (in
    /// parallel) runs until it finds nothing more to claim and has recorded every attempt.
    /// Returns the number of attempts made.
    @discardableResult
    package func dispatchDue() async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for name in sinks.keys {
                group.addTask { try await self.pump(sink: name) }
            }
            return try await group.reduce(0, +)
        }
    }

    /// Runs one sink's ``DeliveryPipeline`` until it is idle (nothing due, everything recorded) or,
    /// at graceful shutdown or a 410, until what is in flight is recorded. Returns the number of
    /// attempts made. Throws store errors (attempts not yet recorded are re-sent later).
    func pump(sink name: String) async throws -> Int {
        guard let sink = sinks[name] else { return 0 }
        enum Report: Sendable {
            case sent(Attempt)
            case claimed([DueDelivery], limit: Int)
            case recorded([Int64])
        }
        var pipeline = DeliveryPipeline(concurrency: sink.configuration.concurrency)
        var attempts = 0
        try await withThrowingTaskGroup(of: Report.self) { group in
            while true {
                if Task.isShuttingDownGracefully || Task.isCancelled { pipeline.stop() }
                for step in pipeline.next() {
                    switch step {
                    case .send(let due):
                        group.addTask { .sent(await self.send(due, via: sink)) }
                    case .claim(let limit, let held):
                        group.addTask {
                            .claimed(
                                try await self.store.claimDeliveries(sink: name, now: self.clock.now(), limit: limit, excluding: held),
                                limit: limit)
                        }
                    case .record(let finished):
                        group.addTask {
                            try await self.record(await self.flushed(finished, sink: sink), sink: sink)
                            return .recorded(finished.map(\.delivery.id))
                        }
                    }
                }
                if pipeline.isIdle { return }
                guard let report = try await group.next() else { return }
                switch report {
                case .sent(let attempt):
                    attempts += 1
                    pipeline.sent(attempt)
                case .claimed(let items, let limit): pipeline.claimed(items, limit: limit)
                case .recorded(let ids): pipeline.recorded(ids)
                }
            }
        }
        return attempts
    }

    /// An attempt's result, to record: the delivery, the sink's answer, when it started (Unix
    /// seconds) and how long it took (seconds).
    typealias Attempt = (delivery: Delivery, response: SinkResponse, started: Double, duration: Double)

    /// One attempt of a due delivery. A stored event that cannot be read is a failed attempt.
    func send(_ due: DueDelivery, via sink: any Sink) async -> Attempt {
        let now = clock.now()
        do {
            return await send(try due.outbound(now: now), of: due.delivery, via: sink)
        } catch {
            return (due.delivery, SinkResponse(outcome: .failed(retryAfter: nil), error: "cannot read the stored event: \(error)"), now, 0)
        }
    }

    private func send(_ outbound: OutboundDelivery, of delivery: Delivery, via sink: any Sink) async -> Attempt {
        let started = ContinuousClock.now
        let response = await sink.deliver(outbound)
        return (delivery, response, outbound.now, (ContinuousClock.now - started).inSeconds)
    }

    /// Flushes the sink; when that fails, the attempts it answered as delivered count as failed.
    func flushed(_ results: [Attempt], sink: any Sink) async -> [Attempt] {
        do {
            try await sink.flush()
            return results
        } catch {
            var results = results
            for index in results.indices where results[index].response.outcome == .delivered {
                results[index].response = SinkResponse(
                    outcome: .failed(retryAfter: nil), error: "flush failed: \(error.localizedDescription)")
            }
            return results
        }
    }

    /// Plans and records attempts (one transaction), logs dead letters and disabled sinks.
    func record(_ responses: [Attempt], sink: any Sink) async throws {
        let now = clock.now()
        var recorded: [RecordedAttempt] = []
        for (delivery, response, started, duration) in responses {
            let number = delivery.attempts + 1
            let plan = random.withLock { random in
                DeliveryPlanner.plan(
                    afterAttempt: number, outcome: response.outcome, schedule: sink.configuration.retry, now: now,
                    random: &random)
            }
            recorded.append(
                RecordedAttempt(
                    delivery: delivery,
                    attempt: DeliveryAttempt(
                        deliveryID: delivery.id, number: number, startedAt: started, duration: duration,
                        status: response.status, response: response.response, error: response.error, outcome: plan.state),
                    plan: plan))
            CertWatchMetrics.deliveryAttempt(sink: sink.configuration.name, outcome: plan.state)
            if plan.state == .delivered {
                CertWatchMetrics.deliveryLatency(sink: sink.configuration.name, seconds: now - delivery.createdAt)
            }
            // Built only when a line is logged (most attempts log at debug level).
            func metadata() -> Logger.Metadata {
                [
                    "sink": "\(sink.configuration.name)", "delivery": "\(delivery.id)", "event": "\(delivery.eventID)",
                    "attempt": "\(number)", "status": "\(response.status.map(String.init) ?? "-")",
                    "error": "\(response.error ?? "-")",
                ]
            }
            switch plan.state {
            case .dead: logger.warning("delivery dead after its last attempt", metadata: metadata())
            case .retrying: logger.info("delivery failed, retrying", metadata: metadata().merging(["next_attempt_at": "\(UnixTime.rfc3339(Int64(plan.nextAttemptAt ?? 0)))"]) { $1 })
            case .cancelled: logger.info("delivery cancelled", metadata: metadata())
            default: logger.debug("delivery attempted", metadata: metadata())
            }
            if plan.disableSink {
                logger.error(
                    "sink.disabled: its deliveries wait for `certwatch sinks enable \(sink.configuration.name)`", metadata: metadata())
            }
        }
        try await store.recordDeliveryAttempts(recorded, now: now)
    }

    /// Runs one pipeline per sink until graceful shutdown, then shuts the sinks down.
    package func run() async throws {
        logger.info("dispatcher started", metadata: ["sinks": "\(sinks.keys.sorted().joined(separator: ","))"])
        await withDiscardingTaskGroup { group in
            if let bus {
                let stream = bus.subscribe()
                group.addTask {
                    try? await cancelWhenGracefulShutdown {
                        for await _ in stream { self.wake.signal() }
                    }
                }
            }
            for name in sinks.keys.sorted() {
                group.addTask { await self.loop(sink: name) }
            }
        }
        for sink in sinks.values { await sink.shutdown() }
        logger.info("dispatcher stopped")
    }

    private func loop(sink name: String) async {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let generation = wake.generation
            do {
                if try await pump(sink: name) > 0 { continue }
            } catch {
                logger.error("cannot dispatch", metadata: ["sink": "\(name)", "error": "\(error)"])
            }
            let now = clock.now()
            let next = (try? await store.nextDeliveryDue(sinks: [name])) ?? nil
            let wait = min(configuration.idleCheck, max(0.01, (next ?? .infinity) - now))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.wake.wait(after: generation) }
                group.addTask { try? await self.clock.sleep(seconds: wait) }
                group.addTask { try? await gracefulShutdown() }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
