import CertWatchCore
import DouyinModels
import Foundation
import Testing

/// The repository's `rules/` directory.
let rulesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("rules").path
}()

@Suite("Rule files, check corpus and shipped rule tests")
struct RuleFileTests {
    static let sinks: Set<String> = ["stdout", "erp", "dingtalk-ops", "wecom-stores"]

    static var brokenFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rulesDirectory + "/tests/broken")) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test("every broken file fails with its documented file:line:col", arguments: brokenFiles)
    func broken(name: String) throws {
        let path = rulesDirectory + "/tests/broken/" + name
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let header = try #require(text.split(separator: "\n").first.map(String.init))
        let expectation = try #require(header.components(separatedBy: "# expect: ").last)
        do {
            _ = try RuleSet.load(paths: [path], knownSinks: Self.sinks)
            Issue.record("\(name) loaded without errors")
        } catch {
            let lines = error.diagnostics.map(\.description)
            #expect(lines.contains { $0.hasSuffix(expectation) || $0.contains("/" + expectation) || $0.contains(expectation) }, "\(name): expected \(expectation), got \(lines)")
            let positioned = lines.contains { line in
                let parts = expectation.split(separator: ":", maxSplits: 2)
                return line.contains(":\(parts[0]):\(parts[1]):") || line.contains("/\(parts[0]):\(parts[1]):")
            }
            #expect(positioned, "\(name): \(lines)")
        }
    }

    @Test("shipped rules load cleanly", arguments: ["default.yaml", "examples"])
    func shipped(path: String) throws {
        let set = try RuleSet.load(paths: [rulesDirectory + "/" + path], knownSinks: Self.sinks)
        #expect(!set.rules.isEmpty)
    }

    static var testFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: rulesDirectory + "/tests")) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test("shipped rule tests pass", arguments: testFiles)
    func ruleTests(name: String) throws {
        let outcomes = try RuleTestRunner.run(file: rulesDirectory + "/tests/" + name)
        #expect(!outcomes.isEmpty)
        for outcome in outcomes where !outcome.passed {
            let detail = outcome.failures.joined(separator: "\n")
            Issue.record("\(outcome.position) \(outcome.name)\n\(detail)")
        }
    }
}
