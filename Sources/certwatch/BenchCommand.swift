import ArgumentParser
import CertWatchBench
import DouyinOpenAPI
import Foundation

/// `certwatch bench <name>`: throughput against the machine's own limits, and the poll policy
/// against uniform polling. Build with `-c release` for meaningful figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks: all, http-ceiling, poll-pipeline, delivery, schedule-efficiency, scale, micro.",
        discussion: "Figures are stated as ratios against limits measured in the same run. See BENCHMARKS.md.")

    @Argument(help: "all | http-ceiling | poll-pipeline | delivery | schedule-efficiency | scale | micro")
    var name: String = "all"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Smaller sizes (skips 1,000,000 watches); for a quick check, not for the record.")
    var quick = false

    func validate() throws {
        guard name == "all" || BenchSuite.names.contains(name) else {
            throw ValidationError("unknown benchmark '\(name)'; one of: all, \(BenchSuite.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let machine = MachineInfo.current()
        let json = self.json
        if !json { print("certwatch bench \(name)\(quick ? " --quick" : "") · \(machine.description)\n") }
        let started = ContinuousClock.now
        let results = try await BenchSuite.run(name, quick: quick) { result in
            guard !json else { return }
            print("== \(result.name)")
            for line in result.lines { print(line) }
            print("")
            fflush(nil)
        }
        if json {
            print(BenchJSON.document(results, machine: machine))
        } else {
            print(String(format: "total %.1f s", (ContinuousClock.now - started).inSeconds))
        }
    }
}
