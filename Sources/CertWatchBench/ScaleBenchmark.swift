import CertWatch
import CertWatchCore
import Foundation

/// Store behaviour at 100,000 and 1,000,000 registered watches: database size, registration
/// rate, time to pick the next due watch (``Store/claimDue(now:limit:lease:)``), start-up time of
/// opening the store, and the resident memory of this process afterwards.
public enum ScaleBenchmark {
    /// One measured size.
    public struct Size: Sendable {
        /// Watches registered.
        public var watches: Int
        /// Registration rate (``Store/registerMany(_:now:firstPollAt:)`` in batches of 10,000), watches/s.
        public var registeredPerSecond: Double
        /// Database file plus WAL after a checkpoint, bytes.
        public var databaseBytes: Double
        /// Mean time of `claimDue(limit: 1)` over ``claimCount`` claims, milliseconds.
        public var claimMilliseconds: Double
        /// 99th percentile of the same, milliseconds.
        public var claimP99Milliseconds: Double
        /// Mean time of `nextDue`, milliseconds.
        public var nextDueMilliseconds: Double
        /// Opening the existing store (pool, migrations check) and answering the first `nextDue`, milliseconds.
        public var startupMilliseconds: Double
        /// VmRSS of this process after reopening and claiming, bytes.
        public var residentBytes: Double
        /// `certwatch serve` on this database: spawn to `/healthz` 200, milliseconds (``ServeProbe``).
        public var serveStartupMilliseconds: Double = .nan
        /// VmRSS of that `serve` process after it ran 5 s, bytes.
        public var serveResidentBytes: Double = .nan
    }

    /// `claimDue` calls timed per size (few: at 1,000,000 watches each one sorts every active watch,
    /// see BENCHMARKS.md).
    static let claimCount = 20

    /// Measures each size in `sizes`; with `serveExecutable` (this `certwatch` binary) also starts
    /// `certwatch serve` on each database (start-up time, resident memory).
    public static func run(sizes: [Int], serveExecutable: String? = nil) async throws -> [Size] {
        var results: [Size] = []
        for size in sizes {
            let directory = try BenchSupport.temporaryDirectory("scale")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("certwatch.sqlite").path
            let now: Int64 = 1_734_169_082
            var registerSeconds = 0.0
            do {
                let store = try Store(path: path)
                let batch = 10_000
                registerSeconds = try await BenchSupport.time {
                    for start in stride(from: 0, to: size, by: batch) {
                        let registrations = (start..<min(start + batch, size)).map {
                            WatchRegistration(orderID: "\(1_000_000_000 + $0)", labels: ["store": "sh-\($0 % 10)"])
                        }
                        // Spread first polls over 300 s so the due index has a realistic order.
                        _ = try await store.registerMany(registrations, now: now, firstPollAt: now + Int64(start / batch) % 300)
                    }
                }
                try await store.checkpoint()
            }
            let bytes = BenchSupport.fileSize(path) + BenchSupport.fileSize(path + "-wal")
            var startup = 0.0
            var store: Store?
            startup = try await BenchSupport.time {
                let opened = try Store(path: path)
                _ = try await opened.nextDue(now: now + 1_000)
                store = opened
            }
            guard let store else { continue }
            var claims: [Double] = []
            for index in 0..<claimCount {
                let start = ContinuousClock.now
                _ = try await store.claimDue(now: now + 1_000 + Int64(index), limit: 1, lease: 120)
                claims.append(BenchSupport.seconds(ContinuousClock.now - start))
            }
            var nextDue: [Double] = []
            for index in 0..<10 {
                let start = ContinuousClock.now
                _ = try await store.nextDue(now: now + 1_000 + Int64(index))
                nextDue.append(BenchSupport.seconds(ContinuousClock.now - start))
            }
            claims.sort()
            var serve: ServeProbe.Measurement?
            if let serveExecutable { serve = try await ServeProbe.measure(database: path, executable: serveExecutable) }
            var measured =
                Size(
                    watches: size, registeredPerSecond: Double(size) / registerSeconds, databaseBytes: bytes,
                    claimMilliseconds: claims.reduce(0, +) / Double(claims.count) * 1000,
                    claimP99Milliseconds: BenchSupport.percentile(claims, 0.99) * 1000,
                    nextDueMilliseconds: nextDue.reduce(0, +) / Double(nextDue.count) * 1000,
                    startupMilliseconds: startup * 1000, residentBytes: BenchSupport.residentBytes())
            measured.serveStartupMilliseconds = (serve?.startupSeconds ?? .nan) * 1000
            measured.serveResidentBytes = serve?.residentBytes ?? .nan
            results.append(measured)
        }
        return results
    }

    /// The benchmark as a printable result.
    public static func result(_ sizes: [Size], skipped: [Int]) -> BenchResult {
        var result = BenchResult(name: "scale")
        result.say("Store (SQLite/WAL) with many registered watches")
        for size in sizes {
            let key = size.watches >= 1_000_000 ? "\(size.watches / 1_000_000)m" : "\(size.watches / 1_000)k"
            result.add("\(key)_register_per_s", size.registeredPerSecond)
            result.add("\(key)_database_bytes", size.databaseBytes)
            result.add("\(key)_bytes_per_watch", size.databaseBytes / Double(size.watches))
            result.add("\(key)_claim_due_ms", size.claimMilliseconds)
            result.add("\(key)_claim_due_p99_ms", size.claimP99Milliseconds)
            result.add("\(key)_next_due_ms", size.nextDueMilliseconds)
            result.add("\(key)_startup_ms", size.startupMilliseconds)
            result.add("\(key)_rss_bytes", size.residentBytes)
            result.add("\(key)_serve_startup_ms", size.serveStartupMilliseconds)
            result.add("\(key)_serve_rss_bytes", size.serveResidentBytes)
            result.say(
                String(
                    format: "  %9d watches: register %.0f/s · database %.1f MB (%.0f B/watch) · claimDue %.3f ms (p99 %.3f) · nextDue %.3f ms · open store %.1f ms · RSS %.1f MB",
                    size.watches, size.registeredPerSecond, size.databaseBytes / 1e6, size.databaseBytes / Double(size.watches),
                    size.claimMilliseconds, size.claimP99Milliseconds, size.nextDueMilliseconds, size.startupMilliseconds,
                    size.residentBytes / 1e6))
            if size.serveStartupMilliseconds.isFinite {
                result.say(
                    String(
                        format: "             certwatch serve on it: start-up (spawn → /healthz 200) %.0f ms · RSS after %.0f s %.1f MB",
                        size.serveStartupMilliseconds, ServeProbe.settle, size.serveResidentBytes / 1e6))
            }
        }
        for size in skipped { result.say("  \(size) watches: skipped (--quick)") }
        result.say("  (open store / RSS: this bench process after reopening the store; `certwatch serve`: the real daemon as a child process, Douyin unreachable so its watcher backs off at 10 QPS)")
        return result
    }
}
