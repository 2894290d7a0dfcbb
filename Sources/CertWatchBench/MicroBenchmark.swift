import CertWatchCore
import DouyinOpenAPI
import Foundation

/// Pure hot paths: the differ (snapshots/s), rule evaluation with 100 rules (events/s) and
/// decoding of the documented example response (responses/s).
package enum MicroBenchmark {
    /// Where the documented example lives, relative to the repository root (the current directory).
    package static let fixturePath = "Tests/DouyinOpenAPITests/Fixtures/compre_retail_query_ok.json"

    /// Runs each for about `seconds` seconds. Throws ``MicroBenchmarkError`` when the fixture is missing.
    package static func run(seconds: Double = 1.5) throws -> BenchResult {
        guard let body = FileManager.default.contents(atPath: fixturePath) else {
            throw MicroBenchmarkError.fixtureMissing(FileManager.default.currentDirectoryPath + "/" + fixturePath)
        }
        var result = BenchResult(name: "micro")

        // Decoding (parse + typed decode + raw attach + merge) of the documented example.
        let decodeRate = rate(seconds: seconds) { _ = try? CertificateQueryResult.read(body: body) }
        let responseRate = rate(seconds: seconds) { _ = try? CertificateQueryResponse.decode(body) }
        result.add("decode_read_responses_per_s", decodeRate)
        result.add("decode_responses_per_s", responseRate)
        result.add("example_bytes", Double(body.count))

        // The differ: first sight (everything is new) and an unchanged re-poll.
        let certificates = (try? CertificateQueryResult.read(body: body).certificates) ?? []
        // The example's random integers are absurd for a times card (times_used ≈ 4.5e18 would make the
        // differ emit one event per use): keep its shape, with realistic times-card and expiry values.
        func realistic(_ certificate: Certificate, observedAt: Int64, used: Int64) -> CertificateSnapshot {
            var snapshot = CertificateSnapshot(certificate, observedAt: observedAt)
            if snapshot.timesCard != nil { snapshot.timesCard = TimesCard(timesCount: 10, timesUsed: used) }
            snapshot.expireTime = observedAt + 30 * 86_400
            return snapshot
        }
        let before = certificates.map { realistic($0, observedAt: 1_734_169_000, used: 2) }
        let after = certificates.map { realistic($0, observedAt: 1_734_169_060, used: 2) }
        let differ = Differ()
        var transitions = 0
        let firstSight = rate(seconds: seconds, per: after.count) {
            for snapshot in after { transitions += differ.transitions(from: nil, to: snapshot, now: snapshot.observedAt).count }
        }
        let unchanged = rate(seconds: seconds, per: after.count) {
            for (old, new) in zip(before, after) { transitions += differ.transitions(from: old, to: new, now: new.observedAt).count }
        }
        result.add("differ_first_sight_snapshots_per_s", firstSight)
        result.add("differ_unchanged_snapshots_per_s", unchanged)

        let rules = RuleBenchmark.run(ruleCount: 100, events: 20_000)
        result.add("rules_100_events_per_s", rules.eventsPerSecond)
        result.add("rules_100_events_per_cpu_s", rules.eventsPerCPUSecond)

        result.say(
            String(
                format: "  decode documented example (%d bytes, %d certificates): %.0f responses/s (CertificateQueryResult.read) · %.0f/s (CertificateQueryResponse.decode)",
                body.count, certificates.count, decodeRate, responseRate))
        result.say(
            String(
                format: "  differ: %.0f snapshots/s first sight · %.0f snapshots/s unchanged (documented example, times card 2/10 used)",
                firstSight, unchanged))
        if let error = rules.loadError { result.say("  rules did not load: \(error)") }
        result.say(
            String(
                format: "  rules: %d rules, %.0f events/s (%.0f per CPU second), %d deliveries routed", rules.ruleCount,
                rules.eventsPerSecond, rules.eventsPerCPUSecond, rules.deliveries))
        return result
    }

    /// Calls `body` repeatedly for about `seconds`; returns calls × `per` per second.
    static func rate(seconds: Double, per: Int = 1, _ body: () -> Void) -> Double {
        let start = ContinuousClock.now
        var calls = 0
        var elapsed = 0.0
        repeat {
            for _ in 0..<16 { body() }
            calls += 16
            elapsed = BenchSupport.seconds(ContinuousClock.now - start)
        } while elapsed < seconds
        return Double(calls * per) / elapsed
    }
}

/// Failures of ``MicroBenchmark``.
package enum MicroBenchmarkError: Error, Sendable, CustomStringConvertible {
    /// The documented example is not at the expected path.
    case fixtureMissing(String)

    package var description: String {
        switch self {
        case .fixtureMissing(let path): "the documented example is missing at \(path); run from the repository root"
        }
    }
}
