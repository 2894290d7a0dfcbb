import CertWatch
import CertWatchCore
import Foundation

/// Delivery throughput (``DeliveryBenchmark``: durable outbox → signed webhook → local receiver)
/// and SQLite event commits per second at several batch sizes (``EventLog/append(_:)``).
package enum DeliveryThroughputBenchmark {
    /// Event commit rate at one batch size.
    package struct Commit: Sendable {
        /// Events per transaction.
        package var batch: Int
        /// Events appended.
        package var events: Int
        /// Events committed per second.
        package var eventsPerSecond: Double
    }

    /// Runs the outbox benchmark with `count` deliveries at `concurrency`, then the commit rates.
    package static func run(count: Int, concurrency: Int, commitEvents: Int) async throws -> (DeliveryBenchmarkResult, [Commit]) {
        let delivery = try await DeliveryBenchmark.run(count: count, concurrency: concurrency)
        let directory = try BenchSupport.temporaryDirectory("events")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(path: directory.appendingPathComponent("certwatch.sqlite").path)
        var commits: [Commit] = []
        let now: Int64 = 1_734_169_082
        for batch in [1, 10, 100, 1000] {
            let total = batch == 1 ? min(commitEvents, 2_000) : commitEvents
            let events = DeliveryBenchmark.sampleEvents(count: total, tag: "b\(batch)", time: now)
            let seconds = try await BenchSupport.time {
                for start in stride(from: 0, to: total, by: batch) {
                    _ = try await store.append(Array(events[start..<min(start + batch, total)]))
                }
            }
            commits.append(Commit(batch: batch, events: total, eventsPerSecond: Double(total) / seconds))
        }
        return (delivery, commits)
    }

    /// The benchmark as a printable result; `postCeiling` is the POST rate at the same concurrency.
    package static func result(_ delivery: DeliveryBenchmarkResult, _ commits: [Commit], postCeiling: Double?) -> BenchResult {
        var result = BenchResult(name: "delivery")
        let ratio = postCeiling.map { delivery.deliveriesPerSecond / $0 } ?? .nan
        let rawRatio = delivery.deliveriesPerSecond / delivery.rawPostsPerSecond
        result.add("deliveries_per_s", delivery.deliveriesPerSecond)
        result.add("concurrency", Double(delivery.concurrency))
        result.add("raw_signed_post_per_s", delivery.rawPostsPerSecond)
        result.add("ratio_to_post_ceiling", ratio)
        result.add("ratio_to_raw_signed_post", rawRatio)
        result.add("enqueue_s", delivery.enqueueSeconds)
        result.add("cpu_us_per_delivery", delivery.outboxCPUMicroseconds)
        result.add("cpu_us_per_raw_signed_post", delivery.rawCPUMicroseconds)
        result.say("durable outbox → Standard Webhooks signed POST → local receiver, every attempt recorded in SQLite")
        result.say(
            String(
                format: "  %d deliveries at concurrency %d: %.0f deliveries/s (%.2f s; enqueue %.2f s)",
                delivery.count, delivery.concurrency, delivery.deliveriesPerSecond, delivery.outboxSeconds, delivery.enqueueSeconds))
        result.say(
            String(
                format: "  ratio to http-ceiling POST c%d: %.2f %@ · to raw POST of the same signed request via the sink (%.0f/s): %.2f",
                delivery.concurrency, ratio, (ratio >= 0.5 ? "(goal ≥ 0.5 met)" : "(goal ≥ 0.5 NOT met)") as NSString,
                delivery.rawPostsPerSecond, rawRatio))
        result.say(
            String(
                format: "  process CPU (client, receiver, SQLite, all on this machine's cores): %.0f µs per delivery, %.0f µs per raw signed POST",
                delivery.outboxCPUMicroseconds, delivery.rawCPUMicroseconds))
        result.say("  events committed (Store.append, one transaction per batch):")
        for commit in commits {
            result.add("events_batch\(commit.batch)_per_s", commit.eventsPerSecond)
            result.say(String(format: "    batch %4d: %8.0f events/s (%d events)", commit.batch, commit.eventsPerSecond, commit.events))
        }
        return result
    }
}
