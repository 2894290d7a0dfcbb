@testable import CertWatch
import CertWatchCore
import Foundation
import GRDB
import Testing

/// A storage backend under test: how to open a fresh, empty one, and how to plant a row the
/// contract never writes (a watch whose `state` is unknown), which each backend does its own way.
struct StorageBackend: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable () async throws -> any CertWatchStorage
    /// Opens a second instance (another replica, another `instanceID`) on the same database as `storage`.
    let another: @Sendable (_ storage: any CertWatchStorage) async throws -> any CertWatchStorage
    let writeUnknownWatchState: @Sendable (any CertWatchStorage, _ watchID: String, _ state: String) async throws -> Void
    let writeUnknownDeliveryState: @Sendable (any CertWatchStorage, _ deliveryID: Int64, _ state: String) async throws -> Void

    var testDescription: String { name }

    static let sqlite = StorageBackend(
        name: "SQLite",
        make: { try temporaryStore() },
        another: { storage in try Store(path: (storage as! Store).path) },
        writeUnknownWatchState: { storage, id, state in
            try await (storage as! Store).testingWriter.write { db in
                try db.execute(sql: "UPDATE watches SET state = ? WHERE id = ?", arguments: [state, id])
            }
        },
        writeUnknownDeliveryState: { storage, id, state in
            try await (storage as! Store).testingWriter.write { db in
                try db.execute(sql: "UPDATE deliveries SET state = ? WHERE id = ?", arguments: [state, id])
            }
        })

    /// The PostgreSQL server named by `CERTWATCH_TEST_POSTGRES_URL`
    /// (`postgres://USER[:PASSWORD]@HOST:PORT/DB`), or `nil` when it is unset: the PostgreSQL cases
    /// are then skipped (see ``PostgresAvailability``).
    static let postgresURL: String? = {
        let value = ProcessInfo.processInfo.environment["CERTWATCH_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }()

    /// Each store in a schema of its own (`cw_test_<random>`, created empty and migrated), so the
    /// tests run in parallel on one database; the schemas are left for the throwaway cluster.
    static let postgres = StorageBackend(
        name: "PostgreSQL",
        make: {
            let url = try #require(postgresURL, "CERTWATCH_TEST_POSTGRES_URL is not set")
            return try await PostgresStore.connect(
                location: try PostgresLocation(url: url), schema: "cw_test_" + randomHex(6), logger: quietLogger())
        },
        another: { storage in
            let first = storage as! PostgresStore
            return try await PostgresStore.connect(location: first.location, schema: first.schema, logger: quietLogger())
        },
        writeUnknownWatchState: { storage, id, state in
            try await (storage as! PostgresStore).testingExecute("UPDATE watches SET state = $1 WHERE id = $2", [state, id])
        },
        writeUnknownDeliveryState: { storage, id, state in
            try await (storage as! PostgresStore).testingExecute("UPDATE deliveries SET state = $1 WHERE id = $2::bigint", [state, "\(id)"])
        })

    /// Every backend the suite runs against: SQLite always, PostgreSQL when
    /// `CERTWATCH_TEST_POSTGRES_URL` names a server (`.ci/run` starts one).
    static let all: [StorageBackend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
}

/// Says why the PostgreSQL cases did not run: without `CERTWATCH_TEST_POSTGRES_URL` the suite runs
/// against SQLite only, and this test is reported as skipped with that reason.
@Suite("Storage conformance on PostgreSQL")
struct PostgresAvailability {
    @Test(
        "the conformance suite runs against PostgreSQL",
        .enabled(if: StorageBackend.postgresURL != nil,
                 "CERTWATCH_TEST_POSTGRES_URL is not set: the storage conformance suite ran against SQLite only (.ci/run starts a PostgreSQL)"))
    func postgresIsReachable() async throws {
        let storage = try await StorageBackend.postgres.make()
        try await storage.checkWritable()
        try await storage.close()
    }

    @Test(
        "replicas starting together migrate once, under the advisory lock",
        .enabled(if: StorageBackend.postgresURL != nil, "CERTWATCH_TEST_POSTGRES_URL is not set"))
    func concurrentMigrations() async throws {
        let location = try PostgresLocation(url: try #require(StorageBackend.postgresURL))
        let schema = "cw_test_" + randomHex(6)
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 {
                group.addTask { try await PostgresStore.connect(location: location, schema: schema, logger: quietLogger()) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Every one of them works on the one schema.
        _ = try await stores[0].register(WatchRegistration(orderID: "1"), now: 0, firstPollAt: 0)
        for store in stores {
            #expect(try await store.activeWatchCount() == 1)
            try await store.close()
        }
    }

    @Test("a server that refuses the connection is named with the reason, without the password")
    func unreachable() async throws {
        let location = PostgresLocation(host: "127.0.0.1", port: 1, username: "cw", password: "hunter2", database: "certwatch", tls: .disable)
        do {
            _ = try await PostgresStore.connect(location: location, logger: quietLogger(), timeout: 60)
            Issue.record("connected to 127.0.0.1:1")
        } catch let error as PostgresStoreError {
            // The connection's own error, not the pool's silence until the timeout.
            #expect(error.description.hasPrefix("cannot connect to postgres://cw@127.0.0.1:1/certwatch?sslmode=disable: "))
            #expect(error.description.contains("refused"))
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test("PostgreSQL runs SQLite's named migrations, in the same order")
    func migrationNames() {
        #expect(PostgresStore.migrations.map(\.name) == Store.migrator.migrations)
    }

    @Test("a postgres:// database selects PostgreSQL, with sslmode; anything else is a SQLite path")
    func locations() throws {
        let location = try PostgresLocation(url: "postgres://cw:s3cr%40t@db.internal:6543/certwatch?sslmode=require")
        #expect(location == PostgresLocation(host: "db.internal", port: 6543, username: "cw", password: "s3cr@t", database: "certwatch", tls: .require))
        #expect(location.description == "postgres://cw@db.internal:6543/certwatch?sslmode=require")
        #expect(try StorageLocation(database: "postgresql://cw@localhost/x") == .postgres(PostgresLocation(host: "localhost", username: "cw", database: "x")))
        #expect(try StorageLocation(database: "data/certwatch.sqlite") == .sqlite(path: "data/certwatch.sqlite"))
        #expect(throws: ConfigurationError.self) { try PostgresLocation(url: "postgres://cw:pw@localhost:5432/db?sslmode=maybe") }
        do {
            _ = try PostgresLocation(url: "postgres://cw:hunter2@localhost:5432/", location: "certwatch.yaml:1:11")
            Issue.record("a URL without a database name was accepted")
        } catch {
            #expect(error.location == "certwatch.yaml:1:11" && error.key == "database")
            #expect(!error.description.contains("hunter2"))
        }
    }
}

/// The ``CertWatchStorage`` contract, written against the protocol only, run for every backend.
@Suite("Storage conformance")
struct StorageConformanceTests {
    private func register(_ storage: any CertWatchStorage, _ orderID: String, dueAt: Int64, now: Int64 = 0) async throws -> Watch {
        try await storage.register(WatchRegistration(orderID: orderID), now: now, firstPollAt: dueAt).watch
    }

    private func event(_ subject: String, n: Int = 1, watch: Watch? = nil, time: Int64 = 1_000) -> CertWatchEvent {
        let info = watch?.info ?? WatchInfo(id: "w_\(subject)", orderID: "o-\(subject)")
        return CertWatchEvent(
            id: CertWatchEvent.eventID(subject: subject, type: .verified, discriminator: "\(n)"),
            source: CertWatchEvent.source(of: info), type: .verified, subject: subject, time: time,
            data: EventData(watch: info))
    }

    /// Appends `events` with one delivery each to every sink in `sinks`, due at `now`.
    @discardableResult
    private func appendWithDeliveries(
        _ storage: any CertWatchStorage, _ events: [CertWatchEvent], sinks: [String], now: Double
    ) async throws -> [CertWatchEvent] {
        try await storage.append(events) { appended in
            Routing(
                now: now,
                deliveries: appended.flatMap { event in
                    sinks.map { PlannedDelivery(event: event, decision: RouteDecision(sink: $0, rule: "test")) }
                })
        }
    }

    private func recordDelivered(_ storage: any CertWatchStorage, _ due: [DueDelivery], now: Double) async throws {
        try await storage.recordDeliveryAttempts(
            due.map { item in
                RecordedAttempt(
                    delivery: item.delivery,
                    attempt: DeliveryAttempt(
                        deliveryID: item.delivery.id, number: item.delivery.attempts + 1, startedAt: now, duration: 0.01,
                        status: 200, response: nil, error: nil, outcome: .delivered),
                    plan: DeliveryPlan(state: .delivered))
            }, now: now)
    }

    @Test("registration is idempotent by target and merges labels", arguments: StorageBackend.all)
    func registration(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let (first, created) = try await storage.register(
            WatchRegistration(orderID: "1001", labels: ["a": "1"]), now: 10, firstPollAt: 11)
        let (again, createdAgain) = try await storage.register(
            WatchRegistration(orderID: "1001", labels: ["b": "2"]), now: 20, firstPollAt: 21)
        #expect(created && !createdAgain)
        #expect(again.id == first.id && again.labels == ["a": "1", "b": "2"])
        #expect(try await storage.watch(id: first.id)?.labels == ["a": "1", "b": "2"])
        #expect(try await storage.watch(id: first.id)?.nextPollAt == 11)
        #expect(try await storage.watch(id: "w_missing") == nil)
        #expect(try await storage.activeWatchCount() == 1)
        // A failed watch registered again is polled again, from a clean failure count.
        _ = try await storage.commitPoll(
            PollCommit(watchID: first.id, polledAt: 30, nextPollAt: nil, finalState: .failed, consecutiveFailures: 1,
                lastError: "2119001"), route: nil)
        #expect(try await storage.watch(id: first.id)?.state == .failed)
        let (revived, _) = try await storage.register(WatchRegistration(orderID: "1001"), now: 40, firstPollAt: 41)
        #expect(revived.state == .active && revived.nextPollAt == 41 && revived.consecutiveFailures == 0)
        #expect(try await storage.watch(id: first.id)?.state == .active)
    }

    @Test("a leased watch is not claimed twice; an expired lease is claimed again", arguments: StorageBackend.all)
    func leases(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let late = try await register(storage, "1003", dueAt: 30)
        let early = try await register(storage, "1001", dueAt: 10)
        _ = try await register(storage, "1009", dueAt: 1_000)
        #expect(try await storage.claimDue(now: 100, limit: 10, lease: 60).map(\.id) == [early.id, late.id])
        #expect(try await storage.claimDue(now: 159, limit: 10, lease: 60).isEmpty)
        #expect(try await storage.nextDue(now: 159) == 1_000)
        #expect(try await storage.claimDue(now: 160, limit: 10, lease: 60).map(\.id) == [early.id, late.id])
        try await storage.releaseLeases(watchIDs: [late.id])
        #expect(try await storage.claimDue(now: 161, limit: 10, lease: 60).map(\.id) == [late.id])
    }

    @Test("targeted polls (cancel window, deadlines) are claimed after hinted ones and before routine ones due less than targetedLead earlier", arguments: StorageBackend.all)
    func targetedFirst(backend: StorageBackend) async throws {
        let store = try await backend.make()
        var ids: [String: String] = [:]
        for (order, due) in [("11", 10), ("12", 20), ("13", 1), ("14", 500)] {
            ids[order] = try await store.register(WatchRegistration(orderID: order), now: 0, firstPollAt: Int64(due)).watch.id
        }
        // A poll at 1 planned a targeted poll at 50, after both routine ones.
        let first = try await store.claimDue(now: 1, limit: 1, lease: 60)
        #expect(first.map(\.orderID) == ["13"])
        _ = try await store.commitPoll(PollCommit(watchID: ids["13"]!, polledAt: 1, nextPollAt: 50, nextPollTargeted: true), route: nil)
        _ = try await store.hint(HintTargets(orderIDs: ["14"]), now: 100)
        let claimed = try await store.claimDue(now: 100, limit: 3, lease: 60, targetedLead: 45)
        #expect(claimed.map(\.orderID) == ["14", "13", "11"])
        #expect(claimed.map(\.targeted) == [false, true, false])
        try await store.releaseLeases(watchIDs: claimed.map(\.id))
        // With a shorter lead, routine polls more than that older than the targeted one go first.
        #expect(try await store.claimDue(now: 100, limit: 4, lease: 60, targetedLead: 35).map(\.orderID) == ["11", "13", "12", "14"])
        // A routine plan clears the flag.
        _ = try await store.commitPoll(PollCommit(watchID: ids["13"]!, polledAt: 100, nextPollAt: 400), route: nil)
        #expect(
            try await store.claimDue(now: 400, limit: 4, lease: 60).map(\.orderID) == ["11", "12", "14", "13"])
    }

    @Test("hinted watches are claimed before routine ones, once", arguments: StorageBackend.all)
    func hintedFirst(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let routine = try await register(storage, "2001", dueAt: 10)
        let hinted = try await register(storage, "2002", dueAt: 5_000)
        #expect(try await storage.hint(HintTargets(orderIDs: ["2002"]), now: 100) == [hinted.id])
        #expect(try await storage.nextHint(now: 100) == 100)
        let first = try await storage.claimDue(now: 100, limit: 1, lease: 60)
        #expect(first.map(\.id) == [hinted.id])
        #expect(first.first?.hintedAt == 100)
        let second = try await storage.claimDue(now: 100, limit: 10, lease: 60)
        #expect(second.map(\.id) == [routine.id])
        #expect(second.first?.hintedAt == nil)
        #expect(try await storage.nextHint(now: 100) == nil)
    }

    @Test("a poll commits snapshots, events, deliveries and schedule together", arguments: StorageBackend.all)
    func commitPoll(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let watch = try await register(storage, "3001", dueAt: 10)
        _ = try await storage.claimDue(now: 100, limit: 1, lease: 60)
        let events = [event("c1", watch: watch), event("c2", watch: watch)]
        let appended = try await storage.commitPoll(
            PollCommit(watchID: watch.id, polledAt: 100, events: events, nextPollAt: 700, detectedBy: .poll),
            route: { appended in
                Routing(now: 100, deliveries: appended.map { PlannedDelivery(event: $0, decision: RouteDecision(sink: "hook", rule: "r")) })
            })
        #expect(appended.map(\.id) == events.map(\.id))
        #expect(try await storage.events(after: 0, type: nil, orderID: nil, limit: 10).map(\.id) == events.map(\.id))
        #expect(try await storage.deliveries(state: .pending, sink: "hook", before: nil, limit: 10).count == 2)
        let stored = try #require(try await storage.watch(id: watch.id))
        #expect(stored.nextPollAt == 700 && stored.lastPolledAt == 100 && stored.pollCount == 1)
        #expect(try await storage.detections(after: 0, limit: 10).map(\.detectedBy) == [.poll, .poll])
        // Polled: the lease is over, and the watch is due at its next poll time only.
        #expect(try await storage.claimDue(now: 699, limit: 10, lease: 60).isEmpty)
        #expect(try await storage.claimDue(now: 700, limit: 10, lease: 60).map(\.id) == [watch.id])
    }

    @Test("a failure inside the poll's transaction leaves nothing", arguments: StorageBackend.all)
    func commitPollRollsBack(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let watch = try await register(storage, "3001", dueAt: 10)
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await storage.commitPoll(
                PollCommit(watchID: watch.id, polledAt: 100, events: [event("c1", watch: watch)], nextPollAt: 700),
                route: { _ in throw Boom() })
        }
        #expect(try await storage.events(after: 0, type: nil, orderID: nil, limit: 10).isEmpty)
        #expect(try await storage.deliveries(state: nil, sink: nil, before: nil, limit: 10).isEmpty)
        #expect(try await storage.lastSequence() == 0)
        let stored = try #require(try await storage.watch(id: watch.id))
        #expect(stored.pollCount == 0 && stored.nextPollAt == 10)
        await #expect(throws: Boom.self) {
            try await storage.append([event("c2")]) { _ in throw Boom() }
        }
        #expect(try await storage.events(after: 0, type: nil, orderID: nil, limit: 10).isEmpty)
        // A grouping change that throws rolls its deliveries back too.
        await #expect(throws: Boom.self) {
            try await storage.append([event("c3")]) { appended in
                Routing(now: 100, deliveries: appended.map { PlannedDelivery(event: $0, decision: RouteDecision(sink: "hook", rule: "r")) }) { _ in
                    throw Boom()
                }
            }
        }
        #expect(try await storage.lastSequence() == 0)
        #expect(try await storage.deliveries(state: nil, sink: nil, before: nil, limit: 10).isEmpty)
    }

    @Test("grouping changes are stored with their transaction and never lost to a concurrent one", arguments: StorageBackend.all)
    func groupingState(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let key = GroupKey(rule: "summary", values: ["sh"])
        let events = try await storage.append((1...8).map { event("g\($0)") })
        // Eight transactions add one event each to the same group, at once (a grouping change
        // with no event appended: nothing but the grouping state orders them).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in events {
                group.addTask {
                    try await storage.enqueue(
                        Routing(now: 100) { state in
                            state.add(item, key: key, policy: GroupPolicy(wait: 30), sinks: ["ding"], now: 100)
                            return []
                        })
                }
            }
            try await group.waitForAll()
        }
        // A poll's grouping change commits with its events.
        try await storage.append([event("g9")]) { appended in
            Routing(now: 100) { state in
                for event in appended { state.add(event, key: key, policy: GroupPolicy(wait: 30), sinks: ["ding"], now: 100) }
                return []
            }
        }
        // A flush reads every one of them and writes the summary's delivery, carried by an event.
        let written = try await storage.enqueue(
            Routing(now: 200) { state in
                #expect(state.pendingCount == 9)
                let summaries = state.flush(now: 200)
                return summaries.map { summary in
                    PlannedDelivery(event: summary.events[0], decision: RouteDecision(sink: "ding", rule: "summary", body: "\(summary.events.count)"))
                }
            })
        #expect(written == 1)
        let afterFlush = try await storage.enqueue(
            Routing(now: 300) { state in
                #expect(state.pendingCount == 0)
                return []
            })
        #expect(afterFlush == 0)
        #expect(try await storage.deliveries(state: .pending, sink: "ding", before: nil, limit: 10).count == 1)
    }

    @Test("events appended at once get distinct sequences, each visible in sequence order", arguments: StorageBackend.all)
    func concurrentSequences(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1...16 {
                group.addTask { _ = try await storage.append([self.event("p\(n)"), self.event("q\(n)")]) }
            }
            try await group.waitForAll()
        }
        let all = try await storage.events(after: 0, type: nil, orderID: nil, limit: 100)
        #expect(all.count == 32)
        let sequences = all.compactMap(\.sequence)
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 })
        #expect(try await storage.lastSequence() == sequences.last)
    }

    @Test("event sequences strictly increase and an event id is stored once", arguments: StorageBackend.all)
    func sequences(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        var sequences: [Int64] = []
        for batch in 0..<3 {
            let appended = try await storage.append((1...3).map { event("c\(batch)", n: $0) })
            sequences += appended.compactMap(\.sequence)
        }
        #expect(sequences.count == 9)
        #expect(zip(sequences, sequences.dropFirst()).allSatisfy { $0 < $1 })
        #expect(try await storage.lastSequence() == sequences.last)
        #expect(try await storage.append([event("c0", n: 1), event("c9")]).map(\.id) == [event("c9").id])
        let all = try await storage.events(after: 0, type: nil, orderID: nil, limit: 100)
        #expect(all.count == 10)
        #expect(try await storage.events(after: sequences[4], type: nil, orderID: nil, limit: 2).map(\.sequence)
            == [sequences[5], sequences[6]])
        #expect(try await storage.eventCountsByType() == ["certificate.verified": 10])
    }

    @Test("the outbox hands out each certificate's deliveries to a sink in order", arguments: StorageBackend.all)
    func outboxOrder(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let events = try await appendWithDeliveries(
            storage, [event("a", n: 1), event("b", n: 1), event("a", n: 2)], sinks: ["hook", "other"], now: 100)
        func claimed(_ sink: String, now: Double = 100, limit: Int = 10, excluding: Set<Int64> = []) async throws -> [DueDelivery] {
            try await storage.claimDeliveries(sink: sink, now: now, limit: limit, excluding: excluding)
        }
        // a#2 waits for a#1 on each sink; b#1 is independent.
        #expect(try await claimed("hook").map(\.delivery.eventID) == [events[0].id, events[1].id])
        #expect(try await claimed("other").map(\.delivery.eventID) == [events[0].id, events[1].id])
        // Not yet due; in-flight ids are skipped.
        #expect(try await claimed("hook", now: 99).isEmpty)
        let first = try await claimed("hook", limit: 1)
        #expect(try await claimed("hook", excluding: [first[0].delivery.id]).map(\.delivery.eventID) == [events[1].id])
        // Another instance finds them leased: nothing (and not a#2, which waits for a#1).
        let other = try await backend.another(storage)
        #expect(try await other.claimDeliveries(sink: "hook", now: 100, limit: 10, excluding: []).isEmpty)
        // Recording a#1 on "hook" ends its lease and releases a#2 there, not on "other".
        try await recordDelivered(storage, first, now: 101)
        #expect(try await claimed("hook").map(\.delivery.eventID) == [events[1].id, events[2].id])
        #expect(try await claimed("other").map(\.delivery.eventID) == [events[0].id, events[1].id])
        #expect(try await storage.deliveryAttempts(deliveryID: first[0].delivery.id).map(\.outcome) == [.delivered])
        #expect(try await storage.nextDeliveryDue(sinks: ["hook"]) == 100)
        #expect(try await storage.deliveryCounts()["hook"] == [.delivered: 1, .pending: 2])
        // A lease runs out after DueDelivery.lease (its holder died without leaving): claimed again.
        #expect(try await other.claimDeliveries(sink: "other", now: 100, limit: 10, excluding: []).isEmpty)
        #expect(
            try await other.claimDeliveries(sink: "other", now: 100 + DueDelivery.lease, limit: 10, excluding: [])
                .map(\.delivery.eventID) == [events[0].id, events[1].id])
        try await other.close()
    }

    @Test("two instances never claim the same delivery; one certificate's deliveries stay in order across them", arguments: StorageBackend.all)
    func deliveryClaimsAcrossInstances(backend: StorageBackend) async throws {
        let one = try await backend.make()
        let two = try await backend.another(one)
        let events = try await appendWithDeliveries(
            one, [event("a", n: 1), event("b", n: 1), event("a", n: 2), event("c", n: 1)], sinks: ["hook"], now: 100)
        // Claimed at once from both: every due delivery goes to exactly one of them, a#2 to neither.
        async let first = one.claimDeliveries(sink: "hook", now: 100, limit: 2, excluding: [])
        async let second = two.claimDeliveries(sink: "hook", now: 100, limit: 2, excluding: [])
        let (byOne, byTwo) = try await (first, second)
        let ids = (byOne + byTwo).map(\.delivery.eventID)
        #expect(Set(ids) == [events[0].id, events[1].id, events[3].id] && ids.count == 3)
        let inFlight = Set((byOne + byTwo).map(\.delivery.id))
        #expect(try await two.claimDeliveries(sink: "hook", now: 100, limit: 10, excluding: inFlight).isEmpty)
        // a#1 recorded by whichever took it: a#2 is next, for either instance.
        let a1 = try #require((byOne + byTwo).first { $0.delivery.eventID == events[0].id })
        try await recordDelivered(byOne.contains { $0.delivery.id == a1.delivery.id } ? one : two, [a1], now: 101)
        #expect(
            try await two.claimDeliveries(sink: "hook", now: 101, limit: 10, excluding: inFlight).map(\.delivery.eventID) == [events[2].id])
        try await two.close()
    }

    @Test("a silent instance is reaped by another's heartbeat, which ends its watch and delivery leases; leaving ends them at once", arguments: StorageBackend.all)
    func reapingAndLeaving(backend: StorageBackend) async throws {
        let one = try await backend.make()
        let two = try await backend.another(one)
        #expect(one.instanceID != two.instanceID)
        #expect(try await one.heartbeat(now: 100, staleAfter: 15, slowedAt: nil) == ReplicaMembership(live: 1))
        #expect(try await two.heartbeat(now: 101, staleAfter: 15, slowedAt: nil) == ReplicaMembership(live: 2))
        let watch = try await register(one, "2001", dueAt: 50)
        let events = try await appendWithDeliveries(one, [event("a")], sinks: ["hook"], now: 100)
        #expect(try await one.claimDue(now: 102, limit: 10, lease: 40).map(\.id) == [watch.id])
        #expect(try await one.claimDeliveries(sink: "hook", now: 102, limit: 10, excluding: []).count == 1)
        // One reports a 2119003; two sees it.
        #expect(try await one.heartbeat(now: 105, staleAfter: 15, slowedAt: 104).live == 2)
        #expect(try await two.heartbeat(now: 106, staleAfter: 15, slowedAt: nil).othersSlowedAt == 104)
        #expect(try await two.claimDue(now: 110, limit: 10, lease: 40).isEmpty)
        // One falls silent: 15 s after its last heartbeat two reaps it and takes its work, long
        // before the watch lease (40 s) or the delivery lease would run out.
        #expect(try await two.heartbeat(now: 120, staleAfter: 15, slowedAt: nil).reaped.isEmpty)
        #expect(try await two.heartbeat(now: 121, staleAfter: 15, slowedAt: nil) == ReplicaMembership(live: 1, reaped: [one.instanceID]))
        #expect(try await two.claimDue(now: 121, limit: 10, lease: 40).map(\.id) == [watch.id])
        #expect(try await two.claimDeliveries(sink: "hook", now: 121, limit: 10, excluding: []).map(\.delivery.eventID) == [events[0].id])
        // Two leaves: its leases end, and one (back) finds itself alone.
        try await two.leave()
        #expect(try await one.heartbeat(now: 122, staleAfter: 15, slowedAt: nil) == ReplicaMembership(live: 1))
        #expect(try await one.claimDue(now: 122, limit: 10, lease: 40).map(\.id) == [watch.id])
        #expect(try await one.claimDeliveries(sink: "hook", now: 122, limit: 10, excluding: []).count == 1)
        try await two.close()
    }

    @Test("a push message id handled by one instance is known to every other, until pruned", arguments: StorageBackend.all)
    func pushMessages(backend: StorageBackend) async throws {
        let one = try await backend.make()
        let two = try await backend.another(one)
        #expect(try await !one.pushMessageSeen("msg-1"))
        try await one.rememberPushMessage("msg-1", at: 100)
        try await two.rememberPushMessage("msg-1", at: 101)  // again: harmless
        try await two.rememberPushMessage("msg-2", at: 200)
        #expect(try await two.pushMessageSeen("msg-1"))
        #expect(try await one.pushMessageSeen("msg-2"))
        #expect(try await one.prunePushMessages(before: 150) == 1)
        #expect(try await !two.pushMessageSeen("msg-1"))
        #expect(try await two.pushMessageSeen("msg-2"))
        try await two.close()
    }

    @Test("a disabled sink gets nothing until it is enabled", arguments: StorageBackend.all)
    func disabledSink(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        try await appendWithDeliveries(storage, [event("a")], sinks: ["hook"], now: 100)
        try await storage.disableSink("hook", reason: "by hand", now: 100)
        #expect(try await storage.disabledSinks()["hook"]?.reason == "by hand")
        #expect(try await storage.claimDeliveries(sink: "hook", now: 200, limit: 10, excluding: []).isEmpty)
        #expect(try await storage.enableSink("hook", now: 200))
        #expect(try await storage.claimDeliveries(sink: "hook", now: 200, limit: 10, excluding: []).count == 1)
    }

    /// Records a first attempt of `delivery` that failed with HTTP 500, planned as `plan`, at 100.
    func recordFailedAttempt(_ storage: any CertWatchStorage, _ delivery: Delivery, plan: DeliveryPlan) async throws {
        try await storage.recordDeliveryAttempts(
            [RecordedAttempt(
                delivery: delivery,
                attempt: DeliveryAttempt(
                    deliveryID: delivery.id, number: 1, startedAt: 100, duration: 0.1, status: 500, response: nil,
                    error: "HTTP 500", outcome: plan.state),
                plan: plan)], now: 100)
    }

    @Test("a dead delivery is replayed once, with a fresh attempt budget", arguments: StorageBackend.all)
    func replay(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        try await appendWithDeliveries(storage, [event("a")], sinks: ["hook"], now: 100)
        let due = try await storage.claimDeliveries(sink: "hook", now: 100, limit: 1, excluding: [])
        try await recordFailedAttempt(storage, due[0].delivery, plan: DeliveryPlan(state: .dead))
        #expect(try await storage.delivery(id: due[0].delivery.id)?.state == .dead)
        #expect(try await storage.replayDelivery(id: due[0].delivery.id, now: 200) == .dead)
        let replayed = try #require(try await storage.delivery(id: due[0].delivery.id))
        #expect(replayed.state == .pending && replayed.attempts == 0 && replayed.nextAttemptAt == 200)
        #expect(try await storage.replayDelivery(id: 999_999, now: 200) == nil)
    }

    @Test("replaying a retrying delivery retries it now, keeping its attempt count", arguments: StorageBackend.all)
    func replayRetrying(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        try await appendWithDeliveries(storage, [event("a")], sinks: ["hook"], now: 100)
        let due = try await storage.claimDeliveries(sink: "hook", now: 100, limit: 1, excluding: [])
        try await recordFailedAttempt(storage, due[0].delivery, plan: DeliveryPlan(state: .retrying, nextAttemptAt: 5_000))
        #expect(try await storage.claimDeliveries(sink: "hook", now: 200, limit: 1, excluding: []).isEmpty)
        #expect(try await storage.replayDelivery(id: due[0].delivery.id, now: 200) == .retrying)
        let retried = try #require(try await storage.delivery(id: due[0].delivery.id))
        #expect(retried.state == .retrying && retried.attempts == 1 && retried.nextAttemptAt == 200)
        #expect(try await storage.claimDeliveries(sink: "hook", now: 200, limit: 1, excluding: []).count == 1)
    }

    @Test("retention prunes old attempts and events, keeping events with an open delivery", arguments: StorageBackend.all)
    func retention(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let old = (1...5).map { event("old\($0)", time: 100) }
        let events = try await appendWithDeliveries(storage, old + [event("new", time: 10_000)], sinks: ["hook"], now: 100)
        let due = try await storage.claimDeliveries(sink: "hook", now: 100, limit: 10, excluding: [])
        // Everything but old5 delivered: its delivery stays open, so its event is kept.
        try await recordDelivered(storage, due.filter { $0.delivery.eventID != events[4].id }, now: 100)
        #expect(try await storage.pruneDeliveryAttempts(startedBefore: 101, limit: 2) == 2)
        #expect(try await storage.pruneDeliveryAttempts(startedBefore: 101, limit: 10) == 3)
        #expect(try await storage.pruneEvents(before: 5_000, limit: 3) == 3)
        #expect(try await storage.pruneEvents(before: 5_000, limit: 3) == 1)
        #expect(try await storage.pruneEvents(before: 5_000, limit: 3) == 0)
        let left = try await storage.events(after: 0, type: nil, orderID: nil, limit: 10).map(\.id)
        #expect(left == [events[4].id, events[5].id])
        #expect(try await storage.deliveries(state: nil, sink: nil, before: nil, limit: 10).count == 2)
    }

    @Test("a stored state certwatch does not know is an error naming table, column and value", arguments: StorageBackend.all)
    func unknownStateThrows(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let watch = try await register(storage, "3001", dueAt: 10)
        try await backend.writeUnknownWatchState(storage, watch.id, "hibernating")
        await #expect(throws: StorageError.unknownValue(table: "watches", column: "state", value: "hibernating")) {
            _ = try await storage.watch(id: watch.id)
        }
        await #expect(throws: StorageError.unknownValue(table: "watches", column: "state", value: "hibernating")) {
            _ = try await storage.watchCounts()
        }
        try await appendWithDeliveries(storage, [event("a")], sinks: ["hook"], now: 100)
        let delivery = try #require(try await storage.deliveries(state: nil, sink: nil, before: nil, limit: 1).first)
        try await backend.writeUnknownDeliveryState(storage, delivery.id, "sent")
        await #expect(throws: StorageError.unknownValue(table: "deliveries", column: "state", value: "sent")) {
            _ = try await storage.deliveries(state: nil, sink: nil, before: nil, limit: 10)
        }
        await #expect(throws: StorageError.unknownValue(table: "deliveries", column: "state", value: "sent")) {
            _ = try await storage.deliveryCounts()
        }
    }
}

// MARK: Console and backfill (issue 15)

extension StorageConformanceTests {
    /// An event of certificate `subject` of order `order` (watch `w_<order>`) at `time`, of `type`.
    private func consoleEvent(_ subject: String, order: String, type: EventType = .verified, n: Int = 1, time: Int64) -> CertWatchEvent {
        let info = WatchInfo(id: "w_\(order)", orderID: order)
        return CertWatchEvent(
            id: CertWatchEvent.eventID(subject: subject, type: type, discriminator: "\(n)"),
            source: CertWatchEvent.source(of: info), type: type, subject: subject, time: time, data: EventData(watch: info))
    }

    @Test("backfill candidates: the window by event time, type and order, paged by sequence, each saying whether the sink has it", arguments: StorageBackend.all)
    func backfillCandidates(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let old = consoleEvent("c1", order: "1", n: 0, time: 1_000)
        let fresh = [
            consoleEvent("c1", order: "1", type: .discovered, time: 5_000), consoleEvent("c1", order: "1", time: 5_100),
            consoleEvent("c2", order: "2", time: 5_200), consoleEvent("c3", order: "3", time: 5_300),
        ]
        try await appendWithDeliveries(storage, [old] + fresh, sinks: ["erp"], now: 100)
        // "audit" was added later: it has only the delivery of c2's verification.
        let appended = try await storage.events(after: 0, type: nil, orderID: nil, limit: 10)
        try await storage.enqueue(
            Routing(now: 200, deliveries: [PlannedDelivery(event: appended[3], decision: RouteDecision(sink: "audit", rule: "r"))]))

        let all = try await storage.backfillCandidates(sink: "audit", since: 5_000, type: nil, orderID: nil, after: 0, limit: 10)
        #expect(all.map(\.event.id) == fresh.map(\.id))
        #expect(all.map(\.hasDelivery) == [false, false, true, false])
        #expect(all.allSatisfy { $0.event.sequence != nil })
        let erp = try await storage.backfillCandidates(sink: "erp", since: 0, type: nil, orderID: nil, after: 0, limit: 10)
        #expect(erp.count == 5 && erp.allSatisfy(\.hasDelivery))
        let verified = try await storage.backfillCandidates(sink: "audit", since: 5_000, type: .verified, orderID: nil, after: 0, limit: 10)
        #expect(verified.map(\.event.subject) == ["c1", "c2", "c3"])
        let order1 = try await storage.backfillCandidates(sink: "audit", since: 0, type: nil, orderID: "1", after: 0, limit: 10)
        #expect(order1.map(\.event.id) == [old.id, fresh[0].id, fresh[1].id])
        // Paging: after the last sequence of a page comes the rest.
        let first = try await storage.backfillCandidates(sink: "audit", since: 5_000, type: nil, orderID: nil, after: 0, limit: 2)
        let rest = try await storage.backfillCandidates(
            sink: "audit", since: 5_000, type: nil, orderID: nil, after: try #require(first.last?.event.sequence), limit: 10)
        #expect((first + rest).map(\.event.id) == fresh.map(\.id))
    }

    @Test("events newest first, filtered by type, order and watch; counts per hour; deliveries by event", arguments: StorageBackend.all)
    func consoleReads(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let events = [
            consoleEvent("c1", order: "1", type: .discovered, time: 7_200), consoleEvent("c1", order: "1", time: 7_300),
            consoleEvent("c2", order: "2", time: 10_800), consoleEvent("c1", order: "1", type: .verifyCancelled, time: 10_900),
        ]
        let appended = try await appendWithDeliveries(storage, events, sinks: ["erp", "audit"], now: 100)
        let newest = try await storage.eventsNewestFirst(before: nil, type: nil, orderID: nil, watchID: nil, limit: 10)
        #expect(newest.map(\.id) == events.reversed().map(\.id))
        let page = try await storage.eventsNewestFirst(before: appended[2].sequence, type: nil, orderID: nil, watchID: nil, limit: 1)
        #expect(page.map(\.id) == [events[1].id])
        #expect(try await storage.eventsNewestFirst(before: nil, type: .verified, orderID: nil, watchID: nil, limit: 10).map(\.subject) == ["c2", "c1"])
        #expect(try await storage.eventsNewestFirst(before: nil, type: nil, orderID: "1", watchID: "w_1", limit: 10).count == 3)
        #expect(try await storage.eventsNewestFirst(before: nil, type: nil, orderID: nil, watchID: "w_2", limit: 10).map(\.id) == [events[2].id])
        #expect(try await storage.eventsNewestFirst(before: nil, type: nil, orderID: "1", watchID: "w_2", limit: 10).isEmpty)

        #expect(try await storage.eventCountsByHour(since: 0) == [7_200: 2, 10_800: 2])
        #expect(try await storage.eventCountsByHour(since: 7_250) == [7_200: 1, 10_800: 2])

        let deliveries = try await storage.deliveries(eventIDs: [events[0].id, events[3].id, "unknown"])
        #expect(deliveries.count == 4)
        #expect(Set(deliveries.map(\.eventID)) == [events[0].id, events[3].id])
        #expect(Set(deliveries.map(\.sink)) == ["erp", "audit"])
        #expect(try await storage.deliveries(eventIDs: []).isEmpty)
    }
}
