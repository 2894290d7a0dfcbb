import CertWatchCore
import CertWatchDemo
import Foundation
import Testing

/// The repository root (the demo reads the shipped scenario from it).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// `certwatch demo --faults wild` and `--faults none` with the same seed detect the same events:
/// Douyin's drifted shapes change no state. Both days run on a virtual clock
/// (``Demo/detectDay(origin:step:)``), so the polls happen at the same sandbox times in both runs
/// and even poll-timing-dependent events (expiring_soon, cancel_window_closed) must agree.
@Suite struct DemoDayTests {
    static func day(_ faults: String) async throws -> Demo.Day {
        try await Demo(
            seed: 42, faults: faults, scenarioPath: repositoryRoot + "/deploy/sandbox/scenarios/pickup-store-day.yaml",
            rulePaths: [repositoryRoot + "/rules"]
        ).detectDay()
    }

    @Test func wildAndNoneDetectTheSameEventIDs() async throws {
        let none = try await Self.day("none")
        let wild = try await Self.day("wild")
        // The wild day really was wild, and the clean one clean.
        #expect(wild.driftedAnswers > wild.requests / 2)
        #expect(none.driftedAnswers == 0)
        // Certificate events only: watch.stalled / watch.recovered follow the failures the wild
        // profile injects and how long they last in real time (the sandbox's rate limit runs on
        // the wall clock), so on a loaded machine the wild day may add a stall pair.
        let noneIDs = Set(none.events.filter { $0.type.rawValue.hasPrefix("certificate.") }.map(\.id))
        let wildIDs = Set(wild.events.filter { $0.type.rawValue.hasPrefix("certificate.") }.map(\.id))
        func describe(_ day: Demo.Day, except ids: Set<String>) -> [String] {
            day.events.filter { !ids.contains($0.id) && $0.type.rawValue.hasPrefix("certificate.") }.map {
                "\($0.type.rawValue) \($0.data.watch.labels["scenario_order"] ?? "-") \($0.subject) at \($0.time)"
            }
        }
        #expect(
            wildIDs == noneIDs,
            "only with none: \(describe(none, except: wildIDs)), only with wild: \(describe(wild, except: noneIDs))")
        // The day holds the refund flow of the scenario: J requested and rejected, E requested,
        // refunding, refunded.
        let types = Set(none.events.map(\.type.rawValue))
        for type in [
            "certificate.refund_requested", "certificate.refund_failed", "certificate.refunded", "certificate.verified",
            "certificate.verify_cancelled", "certificate.expired",
        ] {
            #expect(types.contains(type), "no \(type) in the demo's day")
        }
        #expect(none.events.filter { $0.type.rawValue == "certificate.refund_requested" }.count == 2)
    }
}
