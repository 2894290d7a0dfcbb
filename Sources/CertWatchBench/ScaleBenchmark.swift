import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Logging

/// Storage behaviour at 100,000 and 1,000,000 registered watches, on SQLite and (with a
/// `postgres://` database) on PostgreSQL in the same run: database size, registration rate, time
/// to pick the next due watch (``PollSchedule/claimDue(now:limit:lease:)``), start-up time of
/// opening the store, the resident memory of this process afterwards, and the rate of poll
/// commits of concurrent workers (``PollCommitRate``): one SQLite writer, one and two PostgreSQL
/// replicas.
package enum ScaleBenchmark {
    /// One measured size on one backend.
    package struct Size: Sendable {
        /// `SQLite` or `PostgreSQL`.
        package var backend: String = "SQLite"
        /// Watches registered.
        package var watches: Int
        /// Registration rate (``WatchRegistry/registerMany(_:now:firstPollAt:)`` in batches of 10,000), watches/s.
        package var registeredPerSecond: Double
        /// SQLite: database file plus WAL after a checkpoint; PostgreSQL: the schema's tables with
        /// their indexes (`pg_total_relation_size`). Bytes.
        package var databaseBytes: Double
        /// Mean time of `claimDue(limit: 1)` over ``claimCount`` claims, milliseconds.
        package var claimMilliseconds: Double
        /// 99th percentile of the same, milliseconds.
        package var claimP99Milliseconds: Double
        /// Mean time of `nextDue`, milliseconds.
        package var nextDueMilliseconds: Double
        /// Opening the existing store (SQLite: file and migrations check; PostgreSQL: a new pool,
        /// its connection and the migrations check) and answering the first `nextDue`, milliseconds.
        package var startupMilliseconds: Double
        /// VmRSS of this process after reopening and claiming, bytes.
        package var residentBytes: Double
        /// `certwatch serve` on this database: spawn to `/healthz` 200, milliseconds (``ServeProbe``; SQLite only).
        package var serveStartupMilliseconds: Double = .nan
        /// VmRSS of that `serve` process after it ran 5 s, bytes.
        package var serveResidentBytes: Double = .nan
    }

    /// Poll commits per second of concurrent workers on one backend: each worker claims up to
    /// ``claimBatch`` due watches (`claimDue`), reads their last snapshots, and commits one poll
    /// per watch (``PollSchedule/commitPoll(_:route:)``) with one or two certificates, every
    /// ``eventEvery``-th poll with one event, and the next poll scheduled behind every other
    /// watch (so the workers go round all of them, never out of due watches).
    package struct PollCommitRate: Sendable {
        /// `SQLite` or `PostgreSQL`.
        package var backend: String
        /// Stores (PostgreSQL: replicas, each a `PostgresStore` with its own pool) sharing the database.
        package var replicas: Int
        /// Concurrent workers per store.
        package var workersPerReplica: Int
        /// Watches registered in the database measured.
        package var watches: Int
        /// Polls committed in ``seconds``.
        package var commits: Int
        /// Events appended by those polls.
        package var events: Int
        /// Measured wall time, seconds.
        package var seconds: Double
        /// Whether the workers only committed (no `claimDue`, no snapshot read): the rate of
        /// ``PollSchedule/commitPoll(_:route:)`` itself.
        package var commitOnly = false

        /// Commits per second, all stores together.
        package var commitsPerSecond: Double { Double(commits) / seconds }
    }

    /// `claimDue` calls timed per size (few: at 1,000,000 watches a SQLite claim sorts every
    /// active watch, see BENCHMARKS.md).
    static let claimCount = 20
    /// Watches one worker claims at a time in the poll-commit workload (the watcher's own batch).
    static let claimBatch = 4
    /// One poll in this many carries an event.
    static let eventEvery = 10
    /// The benchmark's "now" (Unix seconds).
    static let now: Int64 = 1_734_169_082

    /// Measures each size in `sizes` on SQLite; with `serveExecutable` (this `certwatch` binary)
    /// also starts `certwatch serve` on each database (start-up time, resident memory).
    package static func run(sizes: [Int], serveExecutable: String? = nil) async throws -> [Size] {
        var results: [Size] = []
        for size in sizes {
            let directory = try BenchSupport.temporaryDirectory("scale")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("certwatch.sqlite").path
            let store = try Store(path: path)
            let registerSeconds = try await register(size, into: store)
            try await store.checkpoint()
            let bytes = BenchSupport.fileSize(path) + BenchSupport.fileSize(path + "-wal")
            var reopened: Store?
            let startup = try await BenchSupport.time {
                let opened = try Store(path: path)
                _ = try await opened.nextDue(now: now + 1_000)
                reopened = opened
            }
            guard let reopened else { continue }
            var measured = try await measure(reopened, watches: size, registerSeconds: registerSeconds, bytes: bytes, startup: startup)
            if let serveExecutable {
                let serve = try await ServeProbe.measure(database: path, executable: serveExecutable)
                measured.serveStartupMilliseconds = serve.startupSeconds * 1000
                measured.serveResidentBytes = serve.residentBytes
            }
            results.append(measured)
        }
        return results
    }

    /// Measures each size in `sizes` on the PostgreSQL database at `location`, each in a fresh
    /// schema of its own (`cw_bench_<random>`) that is dropped afterwards. Throws
    /// ``PostgresStoreError`` when the database cannot be used.
    package static func runPostgres(sizes: [Int], location: PostgresLocation) async throws -> [Size] {
        var results: [Size] = []
        for size in sizes {
            let schema = "cw_bench_" + UUID().uuidString.prefix(8).lowercased()
            let store = try await PostgresStore.connect(location: location, schema: schema, logger: quietLogger)
            do {
                let registerSeconds = try await register(size, into: store)
                // What autovacuum does within a minute of a bulk load: without statistics a claim
                // sorts every due watch (BENCHMARKS.md, "Scale on PostgreSQL and SQLite").
                try await store.analyze()
                let bytes = Double(try await store.storageBytes())
                var reopened: PostgresStore?
                let startup = try await BenchSupport.time {
                    let opened = try await PostgresStore.connect(location: location, schema: schema, logger: quietLogger)
                    _ = try await opened.nextDue(now: now + 1_000)
                    reopened = opened
                }
                guard let reopened else { continue }
                var measured = try await measure(reopened, watches: size, registerSeconds: registerSeconds, bytes: bytes, startup: startup)
                measured.backend = "PostgreSQL"
                try await reopened.close()
                results.append(measured)
                try await store.dropSchema()
            } catch {
                try? await store.dropSchema()
                throw error
            }
        }
        return results
    }

    /// The poll-commit workload (``PollCommitRate``) for `seconds` per configuration on `watches`
    /// registered watches: SQLite with `workers` and with 2 × `workers` workers on one store, and,
    /// with `postgres`, PostgreSQL with one replica and with two replicas of `workers` workers each
    /// (a fresh schema, analyzed after registering, dropped afterwards); then the same with commits
    /// only (``PollCommitRate/commitOnly``): SQLite with `workers`, PostgreSQL with one and two replicas.
    package static func pollCommitRates(watches: Int, workers: Int, seconds: Double, postgres: PostgresLocation?) async throws
        -> [PollCommitRate]
    {
        var rates: [PollCommitRate] = []
        // Polls are timed from one epoch, so each configuration's polls queue behind the last one's.
        let epoch = ContinuousClock.now
        do {
            let directory = try BenchSupport.temporaryDirectory("poll-commit")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try Store(path: directory.appendingPathComponent("certwatch.sqlite").path)
            _ = try await register(watches, into: store)
            for perStore in [workers, 2 * workers] {
                var rate = try await pollCommits(stores: [store], workers: perStore, seconds: seconds, epoch: epoch, tag: "sqlite\(perStore)")
                rate.backend = "SQLite"
                rate.watches = watches
                rates.append(rate)
            }
            var alone = try await pollCommits(
                stores: [store], workers: workers, seconds: seconds, epoch: epoch, tag: "sqlite-alone", targets: try await allWatches(store))
            alone.backend = "SQLite"
            alone.watches = watches
            rates.append(alone)
        }
        if let postgres {
            let schema = "cw_bench_" + UUID().uuidString.prefix(8).lowercased()
            let first = try await PostgresStore.connect(location: postgres, schema: schema, logger: quietLogger)
            do {
                _ = try await register(watches, into: first)
                try await first.analyze()
                let second = try await PostgresStore.connect(location: postgres, schema: schema, logger: quietLogger)
                let stored = try await allWatches(first)
                for replicas in [[first], [first, second]] {
                    var rate = try await pollCommits(stores: replicas, workers: workers, seconds: seconds, epoch: epoch, tag: "pg\(replicas.count)")
                    rate.backend = "PostgreSQL"
                    rate.watches = watches
                    rates.append(rate)
                }
                for replicas in [[first], [first, second]] {
                    var alone = try await pollCommits(
                        stores: replicas, workers: workers, seconds: seconds, epoch: epoch, tag: "pg\(replicas.count)-alone",
                        targets: stored)
                    alone.backend = "PostgreSQL"
                    alone.watches = watches
                    rates.append(alone)
                }
                try await second.close()
                try await first.dropSchema()
            } catch {
                try? await first.dropSchema()
                throw error
            }
        }
        return rates
    }

    /// Registers `size` watches in batches of 10,000 (first polls spread over 300 s, so the due
    /// index has a realistic order); returns the seconds taken.
    private static func register(_ size: Int, into store: any CertWatchStorage) async throws -> Double {
        let batch = 10_000
        return try await BenchSupport.time {
            for start in stride(from: 0, to: size, by: batch) {
                let registrations = (start..<min(start + batch, size)).map {
                    WatchRegistration(orderID: "\(1_000_000_000 + $0)", labels: ["store": "sh-\($0 % 10)"])
                }
                _ = try await store.registerMany(registrations, now: now, firstPollAt: now + Int64(start / batch) % 300)
            }
        }
    }

    /// Times `claimDue(limit: 1)` and `nextDue` on an opened store.
    private static func measure(_ store: any CertWatchStorage, watches: Int, registerSeconds: Double, bytes: Double, startup: Double)
        async throws -> Size
    {
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
        return Size(
            watches: watches, registeredPerSecond: Double(watches) / registerSeconds, databaseBytes: bytes,
            claimMilliseconds: claims.reduce(0, +) / Double(claims.count) * 1000,
            claimP99Milliseconds: BenchSupport.percentile(claims, 0.99) * 1000,
            nextDueMilliseconds: nextDue.reduce(0, +) / Double(nextDue.count) * 1000,
            startupMilliseconds: startup * 1000, residentBytes: BenchSupport.residentBytes())
    }

    /// Every watch of `store`, by id.
    private static func allWatches(_ store: any CertWatchStorage) async throws -> [Watch] {
        var watches: [Watch] = []
        while true {
            let page = try await store.watches(state: nil, labels: [:], after: watches.last?.id, limit: 10_000)
            if page.isEmpty { return watches }
            watches += page
        }
    }

    /// Runs `workers` workers on each of `stores` for `seconds` (see ``PollCommitRate``).
    /// `epoch`: the clock reading poll times count from (microseconds after it, past every first poll).
    /// With `targets`, the workers only commit (no claim, no snapshot read): worker *k* of all
    /// commits polls of the watches `targets[k]`, `targets[k + n]`, … (`n` workers in all), round and round.
    private static func pollCommits(
        stores: [any CertWatchStorage], workers: Int, seconds: Double, epoch: ContinuousClock.Instant, tag: String,
        targets: [Watch]? = nil
    ) async throws
        -> PollCommitRate
    {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int64(seconds * 1000))
        // Every watch is due at this claim time; a committed one is due again behind the others.
        let claimAt = now + 100_000_000
        let counts = try await withThrowingTaskGroup(of: (commits: Int, events: Int).self) { group in
            for (replica, store) in stores.enumerated() {
                for worker in 0..<workers {
                    group.addTask {
                        var commits = 0
                        var events = 0
                        if let targets {
                            let mine = stride(from: replica * workers + worker, to: targets.count, by: stores.count * workers).map {
                                targets[$0]
                            }
                            while ContinuousClock.now < deadline, !mine.isEmpty {
                                let watch = mine[commits % mine.count]
                                let elapsed = Int64((ContinuousClock.now - epoch).inSeconds * 1_000_000)
                                let poll = samplePoll(
                                    watch, number: commits, name: "\(tag)-\(replica)-\(worker)-\(commits)", polledAt: now + 1_000 + elapsed)
                                events += try await store.commitPoll(poll, route: nil).count
                                commits += 1
                            }
                            return (commits, events)
                        }
                        while ContinuousClock.now < deadline {
                            let claimed = try await store.claimDue(now: claimAt, limit: claimBatch, lease: 120)
                            guard !claimed.isEmpty else { break }
                            _ = try await store.snapshots(watchIDs: claimed.map(\.id))
                            for watch in claimed {
                                let elapsed = Int64((ContinuousClock.now - epoch).inSeconds * 1_000_000)
                                let poll = samplePoll(
                                    watch, number: commits, name: "\(tag)-\(replica)-\(worker)-\(commits)", polledAt: now + 1_000 + elapsed)
                                events += try await store.commitPoll(poll, route: nil).count
                                commits += 1
                            }
                        }
                        return (commits, events)
                    }
                }
            }
            return try await group.reduce(into: (commits: 0, events: 0)) { $0.commits += $1.commits; $0.events += $1.events }
        }
        return PollCommitRate(
            backend: "", replicas: stores.count, workersPerReplica: workers, watches: 0, commits: counts.commits, events: counts.events,
            seconds: BenchSupport.seconds(ContinuousClock.now - started), commitOnly: targets != nil)
    }

    /// One poll of `watch` as the watcher commits it: one or two certificates (by `number`), an
    /// event every ``eventEvery``-th poll, the next poll at `polledAt` (behind every watch not yet
    /// polled in this run), no failures. `name` makes the event id unique.
    static func samplePoll(_ watch: Watch, number: Int, name: String, polledAt: Int64) -> PollCommit {
        let certificates = (0..<(1 + number % 2)).map { index in
            let certificate = Certificate(
                certificateID: DouyinID("72300000\(watch.orderID ?? "0")\(index)"), encryptedCode: "CgwIARCu\(watch.id)\(index)",
                status: 1, startTime: now - 86_400, expireTime: now + 30 * 86_400,
                amount: Amount(originalAmount: 9_900, payAmount: 8_800))
            return StoredCertificate(snapshot: CertificateSnapshot(certificate, observedAt: polledAt), raw: certificate.raw)
        }
        var events: [CertWatchEvent] = []
        if number % eventEvery == eventEvery - 1 {
            let info = watch.info
            events.append(
                CertWatchEvent(
                    id: CertWatchEvent.eventID(subject: certificates[0].snapshot.certificateID, type: .verified, discriminator: name),
                    source: CertWatchEvent.source(of: info), type: .verified, subject: certificates[0].snapshot.certificateID,
                    time: polledAt, data: EventData(watch: info, verification: Verification(verifyID: name, poiID: "poi-1", verifyTime: polledAt))))
        }
        return PollCommit(watchID: watch.id, polledAt: polledAt, certificates: certificates, events: events, nextPollAt: polledAt)
    }

    /// The benchmark as a printable result: SQLite `sizes` (and `skipped`), PostgreSQL `postgres`,
    /// and the poll-commit `rates`.
    package static func result(_ sizes: [Size], skipped: [Int], postgres: [Size] = [], rates: [PollCommitRate] = []) -> BenchResult {
        var result = BenchResult(name: "scale")
        func key(_ size: Size) -> String {
            let count = size.watches >= 1_000_000 ? "\(size.watches / 1_000_000)m" : "\(size.watches / 1_000)k"
            return size.backend == "SQLite" ? count : "pg_\(count)"
        }
        for (title, group) in [("Store (SQLite/WAL) with many registered watches", sizes), ("PostgresStore (PostgreSQL) with many registered watches", postgres)]
        where !group.isEmpty {
            result.say(title)
            for size in group {
                let key = key(size)
                result.add("\(key)_register_per_s", size.registeredPerSecond)
                result.add("\(key)_database_bytes", size.databaseBytes)
                result.add("\(key)_bytes_per_watch", size.databaseBytes / Double(size.watches))
                result.add("\(key)_claim_due_ms", size.claimMilliseconds)
                result.add("\(key)_claim_due_p99_ms", size.claimP99Milliseconds)
                result.add("\(key)_next_due_ms", size.nextDueMilliseconds)
                result.add("\(key)_startup_ms", size.startupMilliseconds)
                result.add("\(key)_rss_bytes", size.residentBytes)
                if size.backend == "SQLite" {
                    result.add("\(key)_serve_startup_ms", size.serveStartupMilliseconds)
                    result.add("\(key)_serve_rss_bytes", size.serveResidentBytes)
                }
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
        }
        for size in skipped { result.say("  \(size) watches: skipped (--quick)") }
        if !sizes.isEmpty {
            result.say(
                "  (open store / RSS: this bench process after reopening the store; `certwatch serve`: the real daemon as a child process, Douyin unreachable so its watcher backs off at 10 QPS)"
            )
        }
        if !rates.isEmpty {
            result.say(
                "Poll commits (claimDue of \(claimBatch), snapshots, commitPoll with 1–2 certificates, an event every \(eventEvery)th poll)")
            for rate in rates {
                let who = rate.backend == "SQLite" ? "sqlite" : "pg_\(rate.replicas)_replicas"
                let what = rate.commitOnly ? "commit_only" : "commits"
                result.add("\(who)_\(rate.workersPerReplica * rate.replicas)_workers_\(what)_per_s", rate.commitsPerSecond)
                result.say(
                    "  \(rate.commitOnly ? "commitPoll alone: " : "")\(rate.backend) \(rate.replicas) \(rate.replicas == 1 ? "store" : "replicas") × \(rate.workersPerReplica) workers"
                        + String(
                            format: " on %d watches: %.0f commits/s (%d commits, %d events in %.1f s)", rate.watches,
                            rate.commitsPerSecond, rate.commits, rate.events, rate.seconds))
            }
        }
        return result
    }

    /// A logger that drops everything below errors (the PostgreSQL pool's own chatter).
    private static var quietLogger: Logger {
        var logger = Logger(label: "certwatch.bench.postgres")
        logger.logLevel = .error
        return logger
    }
}
