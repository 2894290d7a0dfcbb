import CertWatch
import CertWatchCore
import Foundation
import Logging
import Synchronization

/// A test event of certificate `subject` (order `o-<subject>`), with a deterministic id.
func testEvent(_ subject: String, _ type: EventType = .verified, n: Int = 1, time: Int64 = 1_734_169_082) -> CertWatchEvent {
    let watch = WatchInfo(id: "w_\(subject)", orderID: "o-\(subject)", accountID: "acc-1")
    return CertWatchEvent(
        id: CertWatchEvent.eventID(subject: subject, type: type, discriminator: "\(n)"),
        source: CertWatchEvent.source(of: watch), type: type, subject: subject, time: time,
        data: EventData(watch: watch, verification: Verification(verifyID: "v\(n)", poiID: "poi-1", verifyTime: time)))
}

/// Rules delivering every event to `sinks`.
func everythingTo(_ sinks: [String]) throws -> RuleSet {
    try RuleSet.parse(
        sources: [("test.yaml", "rules:\n  - name: all\n    on: [\"*\"]\n    deliver: [\(sinks.joined(separator: ", "))]\n")],
        knownSinks: nil)
}

/// A quiet logger.
func quietLogger() -> Logger {
    var logger = Logger(label: "test.delivery")
    logger.logLevel = .critical
    return logger
}

/// A store, an outbox routing everything to the given sinks, a dispatcher on a manual clock.
struct DeliveryRig: Sendable {
    let store: Store
    let clock: ManualWallClock
    let outbox: Outbox
    let dispatcher: Dispatcher
    var deliveries: Store { store }

    init(sinks: [SinkConfiguration], store: Store? = nil, clock: ManualWallClock? = nil, stdout: (@Sendable (Data) -> Void)? = nil) throws {
        self.store = try store ?? temporaryStore()
        self.clock = clock ?? ManualWallClock(1_734_169_082)
        outbox = Outbox(rules: try everythingTo(sinks.map(\.name)), clock: self.clock, logger: quietLogger())
        dispatcher = Dispatcher(
            store: self.store, sinks: SinkFactory.make(sinks, stdout: stdout), clock: self.clock,
            configuration: DispatcherConfiguration(seed: 42), logger: quietLogger())
    }

    /// Appends events with their deliveries.
    @discardableResult
    func append(_ events: [CertWatchEvent]) async throws -> [CertWatchEvent] {
        try await outbox.append(events, to: store)
    }

    /// The single delivery of an event to a sink.
    func delivery(of event: CertWatchEvent, sink: String) async throws -> Delivery {
        try await deliveries.deliveries(limit: 10_000).first { $0.eventID == event.id && $0.sink == sink }!
    }

    func shutdown() async {
        for sink in dispatcher.sinks.values { await sink.shutdown() }
    }
}

/// A webhook sink for a local receiver.
func webhook(_ name: String = "hook", url: String, secrets: [String] = [testSecret], retry: RetrySchedule = RetrySchedule(delays: [0, 5, 300, 1800], jitter: 0), concurrency: Int = 8) -> SinkConfiguration {
    SinkConfiguration(name: name, kind: .webhook, url: url, secrets: secrets, allowPrivate: true, retry: retry, concurrency: concurrency)
}

/// The Standard Webhooks reference secret.
let testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/// Collected stdout lines.
final class LineCollector: Sendable {
    let data = Mutex(Data())
    var write: @Sendable (Data) -> Void { { chunk in self.data.withLock { $0.append(chunk) } } }
    var lines: [String] { data.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map(String.init) }
}
