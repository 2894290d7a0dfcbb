@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Synchronization
import Testing

/// The contract of the batched writes (PostgreSQL registers many watches and commits a poll in a
/// few statements): each item, snapshot and event gets what writing them one by one would give,
/// on every backend.
@Suite("Storage conformance: batched writes")
struct BatchWriteConformanceTests {
    private func event(_ subject: String, watch: Watch, n: Int = 1) -> CertWatchEvent {
        CertWatchEvent(
            id: CertWatchEvent.eventID(subject: subject, type: .verified, discriminator: "\(n)"),
            source: CertWatchEvent.source(of: watch.info), type: .verified, subject: subject, time: 1_000,
            data: EventData(watch: watch.info))
    }

    private func certificate(_ id: String, observedAt: Int64, status: Int64? = 1) -> StoredCertificate {
        let certificate = Certificate(certificateID: DouyinID(id), status: status)
        return StoredCertificate(snapshot: CertificateSnapshot(certificate, observedAt: observedAt), raw: .object(["seen": .int(observedAt)]))
    }

    @Test("registerMany gives each item what registering it alone would, in order", arguments: StorageBackend.all)
    func registerMany(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let removed = try await storage.register(WatchRegistration(orderID: "5001", labels: ["a": "1"]), now: 0, firstPollAt: 5).watch
        #expect(try await storage.remove(id: removed.id, now: 1))
        let failed = try await storage.register(WatchRegistration(orderID: "5002"), now: 0, firstPollAt: 5).watch
        try await storage.commitPoll(
            PollCommit(watchID: failed.id, polledAt: 6, nextPollAt: nil, finalState: .failed, consecutiveFailures: 3, lastError: "x"),
            route: nil)
        let active = try await storage.register(WatchRegistration(orderID: "5004"), now: 0, firstPollAt: 10).watch

        let results = try await storage.registerMany(
            [
                WatchRegistration(orderID: "5001", labels: ["b": "2"]),
                WatchRegistration(orderID: "5003", accountID: "77", labels: ["x": "1"]),
                WatchRegistration(orderID: "abc"),
                WatchRegistration(orderID: "5003", labels: ["y": "2"]),
                WatchRegistration(encryptedCode: "CgwIARCuhikb"),
                WatchRegistration(orderID: "5002"),
                WatchRegistration(orderID: "5003", api: .fulfilment),
                WatchRegistration(orderID: "5005", encryptedCode: "CgwIARCuhikb"),
                WatchRegistration(orderID: "5004", labels: ["z": "3"]),
                WatchRegistration(encryptedCode: "CgwIARCuhikb", labels: ["c": "4"]),
            ], now: 50, firstPollAt: 60)
        #expect(results.count == 10)
        func watch(_ index: Int) throws -> (watch: Watch, created: Bool) {
            guard case .success(let result) = results[index] else { throw ValidationError(message: "item \(index) failed") }
            return result
        }
        // A removed watch comes back, due at firstPollAt, its labels merged.
        #expect(try watch(0).watch.id == removed.id && !watch(0).created)
        #expect(try watch(0).watch.state == .active && watch(0).watch.nextPollAt == 60 && watch(0).watch.labels == ["a": "1", "b": "2"])
        // A new target is created by its first item, and merged into by the later ones.
        #expect(try watch(1).created && watch(1).watch.labels == ["x": "1"] && watch(1).watch.accountID == "77")
        #expect(try !watch(3).created && watch(3).watch.id == watch(1).watch.id)
        #expect(try watch(3).watch.labels == ["x": "1", "y": "2"] && watch(3).watch.accountID == "77")
        // Invalid items fail alone.
        guard case .failure(let invalid) = results[2], case .failure(let both) = results[7] else {
            Issue.record("invalid items were registered")
            return
        }
        #expect(invalid.field == "order_id" && both.field == "order_id")
        // By encrypted code, by endpoint family.
        #expect(try watch(4).created && watch(4).watch.encryptedCode == "CgwIARCuhikb")
        #expect(try !watch(9).created && watch(9).watch.id == watch(4).watch.id && watch(9).watch.labels == ["c": "4"])
        #expect(try watch(6).created && watch(6).watch.id != watch(1).watch.id && watch(6).watch.api == .fulfilment)
        // A failed watch is polled again from a clean failure count; an active one keeps its schedule.
        #expect(try watch(5).watch.id == failed.id && watch(5).watch.state == .active && watch(5).watch.consecutiveFailures == 0)
        #expect(try watch(5).watch.nextPollAt == 60)
        #expect(try watch(8).watch.id == active.id && watch(8).watch.nextPollAt == 10 && watch(8).watch.labels == ["z": "3"])

        // What is stored is what the last item of each target returned.
        for index in [0, 3, 5, 6, 8, 9] {
            let stored = try #require(try await storage.watch(id: try watch(index).watch.id))
            let returned = try watch(index).watch
            #expect(stored.labels == returned.labels && stored.accountID == returned.accountID)
            #expect(stored.state == returned.state && stored.nextPollAt == returned.nextPollAt)
            #expect(stored.consecutiveFailures == returned.consecutiveFailures && stored.createdAt == returned.createdAt)
        }
        #expect(try await storage.watch(id: try watch(1).watch.id)?.createdAt == 50)
        #expect(try await storage.activeWatchCount() == 6)
        #expect(try await storage.watchCounts() == [.active: 6])
    }

    @Test("registering thousands at once, then again, creates each watch once", arguments: StorageBackend.all)
    func registerManyLarge(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let registrations = (0..<2_500).map { WatchRegistration(orderID: "\(900_000 + $0)", labels: ["n": "\($0 % 7)"]) }
        let first = try await storage.registerMany(registrations, now: 1, firstPollAt: 2)
        let created = first.compactMap { try? $0.get() }
        #expect(created.count == 2_500 && created.allSatisfy(\.created))
        #expect(Set(created.map(\.watch.id)).count == 2_500)
        let again = try await storage.registerMany(registrations, now: 3, firstPollAt: 4).compactMap { try? $0.get() }
        #expect(again.count == 2_500 && again.allSatisfy { !$0.created })
        #expect(again.map(\.watch.id) == created.map(\.watch.id))
        #expect(again.allSatisfy { $0.watch.nextPollAt == 2 })
        #expect(try await storage.activeWatchCount() == 2_500)
        #expect(try await storage.watches(state: nil, labels: ["n": "3"], after: nil, limit: 1_000).count == 357)
        #expect(try await storage.registerMany([], now: 5, firstPollAt: 6).isEmpty)
    }

    @Test("a poll's snapshots: a certificate listed twice keeps the newer, an older observation never overwrites", arguments: StorageBackend.all)
    func snapshots(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let watch = try await storage.register(WatchRegistration(orderID: "6001"), now: 0, firstPollAt: 0).watch
        try await storage.commitPoll(
            PollCommit(
                watchID: watch.id, polledAt: 25,
                certificates: [certificate("71", observedAt: 20, status: 1), certificate("72", observedAt: 20), certificate("71", observedAt: 25, status: 2),
                    certificate("71", observedAt: 24, status: 3)],
                nextPollAt: 100),
            route: nil)
        var stored = try await storage.snapshots(watchID: watch.id)
        #expect(stored.keys.sorted() == ["71", "72"])
        #expect(stored["71"]?.observedAt == 25 && stored["71"]?.status == 2)
        try await storage.commitPoll(
            PollCommit(
                watchID: watch.id, polledAt: 30,
                certificates: [certificate("71", observedAt: 22, status: 4), certificate("73", observedAt: 30, status: nil), certificate("72", observedAt: 30, status: 5)],
                nextPollAt: 200),
            route: nil)
        stored = try await storage.snapshots(watchID: watch.id)
        #expect(stored["71"]?.observedAt == 25 && stored["71"]?.status == 2)
        #expect(stored["72"]?.observedAt == 30 && stored["72"]?.status == 5)
        #expect(stored["73"]?.observedAt == 30 && stored["73"]?.status == nil)
        let polled = try #require(try await storage.watch(id: watch.id))
        #expect(polled.pollCount == 2 && polled.nextPollAt == 200 && polled.lastPolledAt == 30)
        // A poll without certificates or events still moves the schedule.
        try await storage.commitPoll(PollCommit(watchID: watch.id, polledAt: 40, nextPollAt: 300, consecutiveFailures: 1, lastError: "timeout", failingSince: 40), route: nil)
        let failing = try #require(try await storage.watch(id: watch.id))
        #expect(failing.pollCount == 3 && failing.nextPollAt == 300 && failing.consecutiveFailures == 1 && failing.lastError == "timeout")
        #expect(failing.failingSince == 40)
    }

    @Test("a poll's events: sequences in the order given, an id given twice or already stored appended once", arguments: StorageBackend.all)
    func events(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let watch = try await storage.register(WatchRegistration(orderID: "6002"), now: 0, firstPollAt: 0).watch
        let (a, b, c, d) = (event("a", watch: watch), event("b", watch: watch), event("c", watch: watch), event("d", watch: watch))
        let routed = RoutedIDs()
        let first = try await storage.commitPoll(
            PollCommit(watchID: watch.id, polledAt: 10, events: [b, a, b, c], nextPollAt: 100, detectedBy: .push),
            route: { appended in
                routed.ids.withLock { $0 = appended.map(\.id) }
                return Routing(now: 10, deliveries: appended.map { PlannedDelivery(event: $0, decision: RouteDecision(sink: "hook", rule: "r")) })
            })
        #expect(first.map(\.id) == [b.id, a.id, c.id])
        #expect(routed.ids.withLock { $0 } == [b.id, a.id, c.id])
        let sequences = first.compactMap(\.sequence)
        #expect(sequences.count == 3 && zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 })
        #expect(try await storage.events(after: 0, type: nil, orderID: nil, limit: 10).map(\.id) == [b.id, a.id, c.id])
        #expect(try await storage.events(after: 0, type: nil, orderID: "6002", limit: 10).count == 3)
        #expect(try await storage.detections(after: 0, limit: 10).map(\.detectedBy) == [.push, .push, .push])
        #expect(try await storage.deliveries(state: .pending, sink: "hook", before: nil, limit: 10).count == 3)

        routed.ids.withLock { $0 = [] }
        let second = try await storage.commitPoll(
            PollCommit(watchID: watch.id, polledAt: 20, events: [c, d, a], nextPollAt: 200),
            route: { appended in
                routed.ids.withLock { $0 = appended.map(\.id) }
                return Routing(now: 20)
            })
        #expect(second.map(\.id) == [d.id] && routed.ids.withLock { $0 } == [d.id])
        #expect(try #require(second.first?.sequence) > sequences.last!)
        #expect(try await storage.detections(after: sequences.last!, limit: 10).map(\.detectedBy) == [nil])
        // Nothing new: the route is not called.
        routed.ids.withLock { $0 = ["not called"] }
        #expect(try await storage.commitPoll(PollCommit(watchID: watch.id, polledAt: 30, events: [a], nextPollAt: 300), route: { _ in
            routed.ids.withLock { $0 = [] }
            return Routing(now: 30)
        }).isEmpty)
        #expect(routed.ids.withLock { $0 } == ["not called"])
        #expect(try await storage.watch(id: watch.id)?.pollCount == 3)
        // Outside a poll, too.
        #expect(try await storage.append([d, event("e", watch: watch), event("e", watch: watch)]).map(\.subject) == ["e"])
        #expect(try await storage.lastSequence() == (try await storage.events(after: 0, type: nil, orderID: nil, limit: 10).last?.sequence))
    }
}

/// The ids a route was called with (the route is `@Sendable`).
private final class RoutedIDs: Sendable {
    let ids = Mutex<[String]>([])
}

/// Registrations racing on PostgreSQL: two replicas (two stores, each its own pool) registering
/// overlapping batches at once end with one watch per target, and every result names it.
@Suite("Storage conformance: registrations racing on PostgreSQL")
struct RacingRegistrationTests {
    @Test(
        "two replicas registering overlapping batches at once create each target once",
        .enabled(if: StorageBackend.postgresURL != nil, "CERTWATCH_TEST_POSTGRES_URL is not set"))
    func racingReplicas() async throws {
        let location = try PostgresLocation(url: try #require(StorageBackend.postgresURL))
        let schema = "cw_test_" + randomHex(6)
        let first = try await PostgresStore.connect(location: location, schema: schema, logger: quietLogger())
        let second = try await PostgresStore.connect(location: location, schema: schema, logger: quietLogger())
        // Four batches over 0..<600, overlapping by half, in different orders.
        let batches: [(PostgresStore, [WatchRegistration])] = [
            (first, (0..<300).map { WatchRegistration(orderID: "\(700_000 + $0)", labels: ["a": "1"]) }),
            (second, (150..<450).reversed().map { WatchRegistration(orderID: "\(700_000 + $0)", labels: ["b": "2"]) }),
            (first, (300..<600).map { WatchRegistration(orderID: "\(700_000 + $0)", labels: ["c": "3"]) }),
            (second, (0..<600).filter { $0 % 3 == 0 }.map { WatchRegistration(orderID: "\(700_000 + $0)", labels: ["d": "4"]) }),
        ]
        let results = try await withThrowingTaskGroup(of: [(order: String, id: String, created: Bool)].self) { group in
            for (store, batch) in batches {
                group.addTask {
                    try await store.registerMany(batch, now: 1, firstPollAt: 2).map { result in
                        let (watch, created) = try result.get()
                        return (watch.orderID ?? "", watch.id, created)
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let ids = Dictionary(grouping: results, by: \.order).mapValues { Set($0.map(\.id)) }
        #expect(ids.count == 600 && ids.values.allSatisfy { $0.count == 1 })
        let created = Dictionary(grouping: results.filter(\.created), by: \.order)
        #expect(created.count == 600 && created.values.allSatisfy { $0.count == 1 })
        #expect(try await first.activeWatchCount() == 600)
        // Every batch's labels reached its watches.
        let stored = try await first.watches(state: nil, labels: [:], after: nil, limit: 1_000)
        #expect(stored.filter { $0.labels["b"] == "2" }.count == 300 && stored.filter { $0.labels["d"] == "4" }.count == 200)
        try await first.dropSchema()
        try await second.close()
    }
}
