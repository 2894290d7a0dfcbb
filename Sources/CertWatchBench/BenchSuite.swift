import CertWatch
import Foundation

/// Runs the named benchmarks in order; poll-pipeline and delivery get the http-ceiling of the same run.
package enum BenchSuite {
    /// Benchmark names, in the order `all` runs them.
    package static let names = ["http-ceiling", "poll-pipeline", "delivery", "schedule-efficiency", "scale", "micro"]

    /// What `scale` measures beyond its defaults.
    package struct ScaleOptions: Sendable {
        /// Watch counts to measure (default: 100,000 and 1,000,000; `--quick`: 100,000).
        package var sizes: [Int]?
        /// A PostgreSQL database to measure beside SQLite (a fresh schema per size, dropped after).
        package var postgres: PostgresLocation?

        /// Options for `scale`: `sizes` (`nil`: the defaults) and a PostgreSQL database.
        package init(sizes: [Int]? = nil, postgres: PostgresLocation? = nil) {
            self.sizes = sizes
            self.postgres = postgres
        }
    }

    /// Runs `name` (`all` or one of ``names``); `quick` shrinks sizes (and skips 1,000,000 watches).
    /// `scale` sets the scale benchmark's sizes and PostgreSQL database. `report` receives each
    /// result as soon as it is ready. Throws ``BenchSuiteError`` for an unknown name and the
    /// benchmarks' own errors (``PostgresStoreError`` for an unusable PostgreSQL database).
    package static func run(_ name: String, quick: Bool, scale: ScaleOptions = ScaleOptions(), report: (BenchResult) -> Void)
        async throws -> [BenchResult]
    {
        let selected = name == "all" ? names : [name]
        guard selected.allSatisfy(names.contains) else { throw BenchSuiteError.unknown(name) }
        var results: [BenchResult] = []
        func emit(_ result: BenchResult) {
            results.append(result)
            report(result)
        }
        var ceiling: [HTTPCeilingBenchmark.Level] = []
        if selected.contains(where: { ["http-ceiling", "poll-pipeline", "delivery"].contains($0) }) {
            ceiling = try await HTTPCeilingBenchmark.run { concurrency in
                quick ? (concurrency == 1 ? 500 : 2_000) : (concurrency == 1 ? 2_000 : 8_000)
            }
            emit(HTTPCeilingBenchmark.result(ceiling))
        }
        func rate(_ method: String, _ concurrency: Int) -> Double? {
            ceiling.first { $0.method == method && $0.concurrency == concurrency }?.requestsPerSecond
        }
        for name in selected {
            switch name {
            case "poll-pipeline":
                let passes = try await PollPipelineBenchmark.run(
                    watches: quick ? 2_000 : 10_000, concurrencies: quick ? [8] : [8, 64])
                emit(PollPipelineBenchmark.result(passes) { rate("GET", $0) })
            case "delivery":
                let concurrency = 8
                let (delivery, commits) = try await DeliveryThroughputBenchmark.run(
                    count: quick ? 1_000 : 4_000, concurrency: concurrency, commitEvents: quick ? 5_000 : 20_000)
                emit(DeliveryThroughputBenchmark.result(delivery, commits, postCeiling: rate("POST", concurrency)))
            case "schedule-efficiency":
                emit(ScheduleEfficiencyBenchmark.run(watches: quick ? 2_000 : 10_000))
            case "scale":
                let sizes = scale.sizes ?? (quick ? [100_000] : [100_000, 1_000_000])
                let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
                let sqlite = try await ScaleBenchmark.run(sizes: sizes, serveExecutable: executable)
                var postgres: [ScaleBenchmark.Size] = []
                if let location = scale.postgres { postgres = try await ScaleBenchmark.runPostgres(sizes: sizes, location: location) }
                // The poll-commit workload on the smallest size, at most 100,000 watches.
                let rates = try await ScaleBenchmark.pollCommitRates(
                    watches: min(sizes.min() ?? 100_000, 100_000), workers: 8, seconds: quick ? 3 : 10, postgres: scale.postgres)
                emit(
                    ScaleBenchmark.result(
                        sqlite, skipped: scale.sizes == nil && quick ? [1_000_000] : [], postgres: postgres, rates: rates))
            case "micro":
                emit(try MicroBenchmark.run(seconds: quick ? 0.5 : 1.5))
            default:
                break
            }
        }
        return results
    }
}

/// Failures of ``BenchSuite``.
package enum BenchSuiteError: Error, Sendable, CustomStringConvertible {
    /// Not `all` nor a benchmark name.
    case unknown(String)

    package var description: String {
        switch self {
        case .unknown(let name): "unknown benchmark '\(name)'; one of: all, \(BenchSuite.names.joined(separator: ", "))"
        }
    }
}
