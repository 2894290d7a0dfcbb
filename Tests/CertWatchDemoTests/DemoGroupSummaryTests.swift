import CertWatchDemo
import Foundation
import Synchronization
import Testing

/// `certwatch demo --rules rules/examples/dingtalk-store-summary.yaml` runs the group flusher as
/// `serve` does: the example's `group:` rule sends its store summary (to `dingtalk-ops`, which the
/// demo prints on stdout), rendered by the example's template.
@Suite struct DemoGroupSummaryTests {
    @Test(.timeLimit(.minutes(2)))
    func groupRuleSendsItsSummary() async throws {
        let lines = Mutex<[String]>([])
        let demo = Demo(
            // 20 s: the day's work spread thin, so the run weighs little on the tests beside it.
            duration: 20, seed: 42, faults: "none",
            scenarioPath: repositoryRoot + "/deploy/sandbox/scenarios/pickup-store-day.yaml",
            rulePaths: [repositoryRoot + "/rules/examples/dingtalk-store-summary.yaml"])
        let summary = try await demo.run { line in lines.withLock { $0.append(line) } }
        let summaries = lines.withLock { $0 }.filter { $0.hasPrefix("### pickup-01: ") }
        #expect(!summaries.isEmpty, "no store summary among \(lines.withLock { $0.count }) lines")
        #expect(summaries.allSatisfy { $0.contains("verification(s)") })
        #expect(summary.eventsByType["certificate.verified", default: 0] > 0)
    }
}
