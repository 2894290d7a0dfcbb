import DouyinOpenAPI
import Foundation

/// One benchmark's output: named figures (for `--json`) and the human-readable lines.
package struct BenchResult: Sendable {
    /// The benchmark name (`http-ceiling`, `poll-pipeline`, …).
    package var name: String
    /// Figures by key, in insertion order; units are in the key (`_per_s`, `_ms`, `_bytes`, `_s`, ratios bare).
    package var figures: [(key: String, value: Double)] = []
    /// Lines printed for people.
    package var lines: [String] = []

    /// An empty result named `name`.
    package init(name: String) { self.name = name }

    /// Adds a figure.
    package mutating func add(_ key: String, _ value: Double) { figures.append((key, value)) }

    /// Adds a line of text.
    package mutating func say(_ line: String) { lines.append(line) }

    /// The figures as a JSON object text (keys in insertion order; non-finite numbers as `null`).
    package func jsonObject() -> String {
        let body = figures.map { "\(BenchJSON.quote($0.key)): \(BenchJSON.number($0.value))" }.joined(separator: ", ")
        return "{\(body)}"
    }
}

/// Minimal JSON writing that keeps key order (Foundation's encoder sorts or scrambles it).
package enum BenchJSON {
    /// A JSON string literal (``JSONValue``'s writer).
    package static func quote(_ text: String) -> String {
        String(decoding: JSONValue.string(text).encoded(), as: UTF8.self)
    }

    /// A JSON number (`null` when not finite; integers without a fraction).
    package static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.6g", value)
    }

    /// One JSON object holding each result under its name, plus `machine`.
    package static func document(_ results: [BenchResult], machine: MachineInfo) -> String {
        var parts = ["\"machine\": \(machine.jsonObject())"]
        parts += results.map { "\(quote($0.name)): \($0.jsonObject())" }
        return "{\n  " + parts.joined(separator: ",\n  ") + "\n}"
    }
}

/// Timing, statistics and process helpers shared by the benchmarks.
package enum BenchSupport {
    /// Seconds in a `Duration` (``Swift/Duration/inSeconds``).
    package static func seconds(_ duration: Duration) -> Double { duration.inSeconds }

    /// Seconds taken by `body`.
    package static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        return seconds(ContinuousClock.now - start)
    }

    /// Seconds taken by `body`.
    package static func time(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        return seconds(ContinuousClock.now - start)
    }

    /// CPU time (user + system) this process has used so far, seconds (`getrusage`); 0 when unavailable.
    package static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// CPU time of the calling thread so far, seconds (`CLOCK_THREAD_CPUTIME_ID`); 0 where unavailable.
    package static func threadCPUSeconds() -> Double {
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return 0 }
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// The `p`-quantile (0…1, nearest rank) of `values`; NaN when empty.
    package static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// The resident set size of this process (`VmRSS` of /proc/self/status), bytes; 0 when unreadable.
    package static func residentBytes(pid: Int32? = nil) -> Double {
        let path = "/proc/\(pid.map(String.init) ?? "self")/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
            return digits * 1024
        }
        return 0
    }

    /// A fresh temporary directory for a benchmark's database files.
    package static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-bench-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Size of a file in bytes (0 when missing).
    package static func fileSize(_ path: String) -> Double {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.doubleValue ?? 0
    }

    /// `1234567` → `1.23M`, for compact text.
    package static func compact(_ value: Double) -> String {
        if !value.isFinite { return "n/a" }
        if abs(value) >= 1e6 { return String(format: "%.2fM", value / 1e6) }
        if abs(value) >= 1e4 { return String(format: "%.1fk", value / 1e3) }
        return String(format: "%.0f", value)
    }
}

/// The machine a run happened on.
package struct MachineInfo: Sendable {
    /// Online processors (`nproc`).
    package var processors: Int
    /// `model name` of /proc/cpuinfo.
    package var cpuModel: String
    /// The compiler that built this binary.
    package var swiftVersion: String

    /// Reads the current machine.
    package static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        #if compiler(>=6.3)
        let swift = "6.3+"
        #elseif compiler(>=6.2)
        let swift = "6.2"
        #else
        let swift = "6.1"
        #endif
        return MachineInfo(
            processors: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model, swiftVersion: swift)
    }

    /// One line for people.
    package var description: String { "\(processors) cores · \(cpuModel) · Swift \(swiftVersion) · release build expected" }

    /// As a JSON object.
    package func jsonObject() -> String {
        "{\"processors\": \(processors), \"cpu_model\": \(BenchJSON.quote(cpuModel)), \"swift\": \(BenchJSON.quote(swiftVersion))}"
    }
}
