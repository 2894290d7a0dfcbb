import CertWatch
import CertWatchCore
import CertWatchTesting
import Foundation
import Logging

/// What ``DeliveryBenchmark/run(count:concurrency:)`` measured.
package struct DeliveryBenchmarkResult: Sendable, CustomStringConvertible {
    /// Deliveries (and raw POSTs) made.
    package var count: Int
    /// In-flight limit used for both.
    package var concurrency: Int
    /// Time to append the events with their deliveries (one transaction), seconds.
    package var enqueueSeconds: Double
    /// Time for the dispatcher to drain the outbox (signed, recorded), seconds.
    package var outboxSeconds: Double
    /// Time for the same HTTP client to make `count` raw POSTs of a pre-built signed request, seconds.
    package var rawSeconds: Double
    /// Requests the receiver saw (deliveries + raw POSTs).
    package var received: Int
    /// CPU time (user + system) of the whole process — dispatcher, HTTP client, receiver, SQLite —
    /// while the outbox drained, seconds.
    package var outboxCPUSeconds: Double = 0
    /// CPU time of the process during the raw POSTs, seconds.
    package var rawCPUSeconds: Double = 0

    /// Durable-outbox deliveries per second.
    package var deliveriesPerSecond: Double { Double(count) / outboxSeconds }
    /// Raw POSTs per second.
    package var rawPostsPerSecond: Double { Double(count) / rawSeconds }
    /// Process CPU per delivery, microseconds (steadier than the rates on a shared machine).
    package var outboxCPUMicroseconds: Double { outboxCPUSeconds / Double(count) * 1e6 }
    /// Process CPU per raw POST, microseconds.
    package var rawCPUMicroseconds: Double { rawCPUSeconds / Double(count) * 1e6 }

    package var description: String {
        String(
            format:
                "%d deliveries, concurrency %d: outbox %.0f deliveries/s (%.2fs, enqueue %.2fs, %.0f µs CPU each) · raw POST %.0f/s (%.2fs, %.0f µs CPU each) · outbox/raw %.0f%%",
            count, concurrency, deliveriesPerSecond, outboxSeconds, enqueueSeconds, outboxCPUMicroseconds, rawPostsPerSecond,
            rawSeconds, rawCPUMicroseconds, 100 * deliveriesPerSecond / rawPostsPerSecond)
    }
}

/// Measures delivery throughput to a local receiver in one run: the durable outbox (claim, sign,
/// POST, record every attempt in SQLite) next to raw POSTs of the same HTTP client to the same
/// receiver. Used by `certwatch deliveries bench`.
package enum DeliveryBenchmark {
    /// Runs the benchmark with `count` events (distinct certificates) and `concurrency` in flight.
    /// `databasePath` nil: a temporary file. Throws store and server errors.
    package static func run(count: Int = 2000, concurrency: Int = 8, databasePath: String? = nil) async throws
        -> DeliveryBenchmarkResult
    {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let receiver = WebhookReceiver(secrets: [secret], keepRequests: false)
        return try await receiver.withRunning { url in
            let path =
                databasePath
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-bench-\(UUID().uuidString).sqlite").path
            let store = try Store(path: path)
            var logger = Logger(label: "certwatch.bench")
            logger.logLevel = .error
            let configuration = SinkConfiguration(
                name: "bench", kind: .webhook, url: url + "/bench", secrets: [secret], allowPrivate: true,
                concurrency: concurrency)
            let sink = HTTPSink(configuration: configuration, userAgent: SinkFactory.defaultUserAgent)
            let clock = SystemWallClock()
            let rules = RuleSet(defaultSinks: ["bench"])
            let outbox = Outbox(rules: rules, clock: clock, logger: logger)
            let dispatcher = Dispatcher(store: store, sinks: ["bench": sink], clock: clock, logger: logger)
            let now = clock.unixNow
            let events = sampleEvents(count: count, tag: "bench-\(now)", time: now)
            do {
                let enqueueStart = ContinuousClock.now
                _ = try await outbox.append(events, to: store)
                let enqueueSeconds = BenchSupport.seconds(ContinuousClock.now - enqueueStart)

                let outboxStart = ContinuousClock.now
                let outboxCPUStart = BenchSupport.cpuSeconds()
                try await dispatcher.dispatchDue()
                let outboxSeconds = BenchSupport.seconds(ContinuousClock.now - outboxStart)
                let outboxCPUSeconds = BenchSupport.cpuSeconds() - outboxCPUStart

                guard
                    let request = try sink.request(
                        for: OutboundDelivery(deliveryID: 0, attempt: 1, event: events[0], now: clock.now()))
                else { throw CancellationError() }
                let rawStart = ContinuousClock.now
                let rawCPUStart = BenchSupport.cpuSeconds()
                await withTaskGroup(of: Void.self) { group in
                    var started = 0
                    while started < min(concurrency, count) {
                        group.addTask { _ = await sink.send(request) }
                        started += 1
                    }
                    for await _ in group where started < count {
                        group.addTask { _ = await sink.send(request) }
                        started += 1
                    }
                }
                let rawSeconds = BenchSupport.seconds(ContinuousClock.now - rawStart)
                let rawCPUSeconds = BenchSupport.cpuSeconds() - rawCPUStart
                await sink.shutdown()
                if databasePath == nil { try? FileManager.default.removeItem(atPath: path) }
                return DeliveryBenchmarkResult(
                    count: count, concurrency: concurrency, enqueueSeconds: enqueueSeconds, outboxSeconds: outboxSeconds,
                    rawSeconds: rawSeconds, received: receiver.requestCount, outboxCPUSeconds: outboxCPUSeconds,
                    rawCPUSeconds: rawCPUSeconds)
            } catch {
                await sink.shutdown()
                throw error
            }
        }
    }

    /// `count` distinct `certificate.verified` events of one watch each (`tag` keeps ids distinct
    /// between runs on the same database), at Unix second `time`.
    package static func sampleEvents(count: Int, tag: String, time: Int64) -> [CertWatchEvent] {
        (0..<count).map { index in
            let watch = WatchInfo(id: "w_\(tag)_\(index)", orderID: "\(tag)-\(index)")
            return CertWatchEvent(
                id: CertWatchEvent.eventID(subject: "\(tag)-\(index)", type: .verified, discriminator: "1"),
                source: CertWatchEvent.source(of: watch), type: .verified, subject: "7\(index)", time: time,
                data: EventData(watch: watch, verification: Verification(verifyID: "v\(index)", poiID: "poi-1", verifyTime: time)))
        }
    }

}
