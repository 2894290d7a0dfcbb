import ArgumentParser
import CertWatch
import CertWatchBench
import DouyinOpenAPI
import Foundation

/// `certwatch bench <name>`: throughput against the machine's own limits, and the poll policy
/// against uniform polling. Build with `-c release` for meaningful figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run benchmarks: all, http-ceiling, poll-pipeline, delivery, schedule-efficiency, scale, micro.",
        discussion: """
            Figures are stated as ratios against limits measured in the same run. See BENCHMARKS.md.

            schedule-efficiency runs (simulated store group, 10,000 watches; 10 % of orders never registered by \
            the backend): adaptive at 10 and 50 QPS without push and with 50 % / 90 % of pushes; at 10 QPS also \
            main's fixed split, adaptive + change feed at 100 % and 50 % fidelity, adaptive + sweep, adaptive + \
            feed 100 % + sweep, and the oracle (the same allocation fed the true hazards); uniform polling at the \
            budget and at equal calls.
            """)

    @Argument(help: "all | http-ceiling | poll-pipeline | delivery | schedule-efficiency | scale | micro")
    var name: String = "all"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Smaller sizes (skips 1,000,000 watches); for a quick check, not for the record.")
    var quick = false

    @Option(
        help: ArgumentHelp(
            "scale: also measure this PostgreSQL database (postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]) beside SQLite, in a fresh schema per size, dropped afterwards.",
            valueName: "postgres-url"))
    var database: String?

    @Option(
        help: ArgumentHelp(
            "scale: watch counts to measure, comma-separated (default 100000,1000000; --quick 100000).", valueName: "n,n,…"))
    var sizes: String?

    func validate() throws {
        guard name == "all" || BenchSuite.names.contains(name) else {
            throw ValidationError("unknown benchmark '\(name)'; one of: all, \(BenchSuite.names.joined(separator: ", "))")
        }
        _ = try scaleOptions()
    }

    /// `--database` and `--sizes` as the scale benchmark's options. Throws `ValidationError` for a
    /// database that is not a `postgres://` URL or a size that is not a positive whole number.
    func scaleOptions() throws -> BenchSuite.ScaleOptions {
        var options = BenchSuite.ScaleOptions()
        if let sizes {
            let parsed = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ValidationError("--sizes: positive watch counts separated by commas, e.g. 10000,100000; got '\(sizes)'")
            }
            options.sizes = parsed.map { $0! }
        }
        if let database {
            guard PostgresLocation.isURL(database) else {
                throw ValidationError("--database: a postgres:// URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DB); SQLite is always measured")
            }
            do {
                options.postgres = try PostgresLocation(url: database, location: "--database")
            } catch {
                throw ValidationError("\(error)")
            }
        }
        return options
    }

    func run() async throws {
        let machine = MachineInfo.current()
        let json = self.json
        if !json { print("certwatch bench \(name)\(quick ? " --quick" : "") · \(machine.description)\n") }
        let started = ContinuousClock.now
        let results = try await BenchSuite.run(name, quick: quick, scale: try scaleOptions()) { result in
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
