import CertWatch
import CertWatchCore
@testable import CertWatchDemo
import Foundation
import Synchronization
import Testing

/// The demo's day shows every detector: the backend never registers K-unregistered and
/// L-unregistered (``Demo/isUnregistered(label:)``), L's verification is cancelled in the same
/// second, and only the merchant account's change feed and sweep can find them. Each test fails
/// with the feed and the sweep off (nothing registers those orders, no verify record is read).
@Suite struct DemoDetectorsTests {
    static let scenario = repositoryRoot + "/deploy/sandbox/scenarios/pickup-store-day.yaml"

    /// On the virtual clock (exactly reproducible): the two orders are registered by the feed or
    /// the sweep, K's verification and L's cancelled pair are detected once each, the pair by the
    /// sweep with the ids a poll would have given it.
    @Test func virtualDayFindsWhatNobodyRegistered() async throws {
        let day = try await Demo(seed: 42, faults: "none", scenarioPath: Self.scenario, rulePaths: [repositoryRoot + "/rules"])
            .detectDay()
        // Watches the detectors registered carry `source`; the backend's carry `scenario_order`.
        let found = day.events.filter { ["feed", "sweep"].contains($0.data.watch.labels["source"] ?? "") }
        #expect(day.events.allSatisfy { $0.data.watch.labels["scenario_order"].map { !Demo.isUnregistered(label: $0) } ?? true })
        #expect(Set(found.map(\.data.watch.orderID)).count == 2, "\(Set(found.map(\.data.watch.orderID)))")
        let verified = found.filter { $0.type == .verified }
        #expect(verified.count == 2, "\(verified.map { "\($0.subject) \($0.data.detectedBy?.rawValue ?? "-")" })")
        #expect(Set(verified.map(\.subject)).count == 2)
        let cancelled = day.events.filter { $0.type == .verifyCancelled && $0.data.detectedBy == .sweep }
        #expect(cancelled.count == 1)
        if let cancel = cancelled.first {
            let pair = day.events.filter { $0.subject == cancel.subject && $0.type == .verified }
            #expect(pair.count == 1)
            #expect(pair.first?.data.detectedBy == .sweep)
            #expect(pair.first?.id == CertWatchEvent.eventID(subject: cancel.subject, type: .verified, discriminator: cancel.data.verification?.verifyID ?? ""))
        }
        #expect(Set(day.events.map(\.id)).count == day.events.count, "an event id twice")
        // Every certificate event says which detector saw it, and the feed saw some.
        let certificateEvents = day.events.filter { $0.type.rawValue.hasPrefix("certificate.") }
        #expect(certificateEvents.allSatisfy { $0.data.detectedBy != nil })
        #expect(certificateEvents.contains { $0.data.detectedBy == .feed })
    }

    /// The live demo (real time, the demo fault profile, pushes): the summary's detector table adds
    /// up to the events, both unregistered orders are found, their verifications and the cancelled
    /// pair are each delivered to the webhook exactly once.
    @Test(.timeLimit(.minutes(2)))
    func liveDemoDeliversWhatNobodyRegistered() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-demo-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("demo.sqlite").path
        let demo = Demo(
            duration: 20, seed: 42, databasePath: database, scenarioPath: Self.scenario, rulePaths: [repositoryRoot + "/rules"])
        let summary = try await demo.run { _ in }

        // The table by detector adds up to the events, type by type.
        #expect(summary.detection.mapValues(\.total) == summary.eventsByType, "\(summary.text)")
        let byDetector = Dictionary(
            uniqueKeysWithValues: DemoSummary.detectors.map { detector in
                (detector, summary.detection.values.map { $0[detector].count }.reduce(0, +))
            })
        #expect(byDetector.values.reduce(0, +) == summary.eventsByType.values.reduce(0, +))
        #expect(byDetector[.sweep, default: 0] >= 2, "\(summary.text)")  // at least the cancelled pair
        #expect(summary.accountDetectors["feed"]?.runs ?? 0 > 10, "\(summary.accountDetectors)")
        #expect(summary.accountDetectors["sweep"]?.runs ?? 0 > 3, "\(summary.accountDetectors)")

        #expect(summary.unregistered.orders == 2)
        #expect(summary.unregistered.byFeed + summary.unregistered.bySweep == 2, "\(summary.unregistered)")
        #expect(summary.unregistered.verifications == 2, "\(summary.unregistered)")
        // At least L's pair; on a loaded machine the scenario's other mistaken verification may also be
        // cancelled before a poll saw it (real time): every pair the sweep found is delivered.
        #expect(summary.cancelledBeforePoll.pairs >= 1, "\(summary.text)")
        #expect(summary.cancelledBeforePoll.delivered == summary.cancelledBeforePoll.pairs, "\(summary.text)")

        // Every verified / verify_cancelled event of the day once (by certificate and verify_id),
        // whoever found it, each delivered to the webhook. (Which detector wins a race for a registered
        // order depends on real time; the virtual-day test pins who finds what.)
        let store = try Store(path: database)
        let events = try await store.events(limit: 100_000)
        let uses = events.filter { [.verified, .verifyCancelled].contains($0.type) }
        #expect(uses.count >= 3)
        let keys = uses.map { "\($0.type.rawValue) \($0.subject) \($0.data.verification?.verifyID ?? "-")" }
        #expect(Set(keys).count == keys.count, "\(keys)")
        let deliveries = try await store.deliveries(eventIDs: uses.map(\.id)).filter { $0.sink == "webhook" }
        #expect(deliveries.count == uses.count)
        #expect(deliveries.allSatisfy { $0.state == .delivered }, "\(deliveries.map { "\($0.eventType) \($0.state)" })")
    }
}
