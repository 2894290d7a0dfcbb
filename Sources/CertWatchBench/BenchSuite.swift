import Foundation

/// Runs the named benchmarks in order; poll-pipeline and delivery get the http-ceiling of the same run.
public enum BenchSuite {
    /// Benchmark names, in the order `all` runs them.
    public static let names = ["http-ceiling", "poll-pipeline", "delivery", "schedule-efficiency", "scale", "micro"]

    /// Runs `name` (`all` or one of ``names``); `quick` shrinks sizes (and skips 1,000,000 watches).
    /// `report` receives each result as soon as it is ready. Throws ``BenchSuiteError`` for an
    /// unknown name and the benchmarks' own errors.
    public static func run(_ name: String, quick: Bool, report: (BenchResult) -> Void) async throws -> [BenchResult] {
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
                let sizes = quick ? [100_000] : [100_000, 1_000_000]
                let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
                emit(
                    ScaleBenchmark.result(
                        try await ScaleBenchmark.run(sizes: sizes, serveExecutable: executable), skipped: quick ? [1_000_000] : []))
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
public enum BenchSuiteError: Error, Sendable, CustomStringConvertible {
    /// Not `all` nor a benchmark name.
    case unknown(String)

    public var description: String {
        switch self {
        case .unknown(let name): "unknown benchmark '\(name)'; one of: all, \(BenchSuite.names.joined(separator: ", "))"
        }
    }
}
