import GRDB
@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Testing

@Suite("Store")
struct StoreTests {
    @Test("registration is idempotent by target and merges labels; a removed watch comes back")
    func idempotentRegistration() async throws {
        let store = try temporaryStore()
        let (first, created) = try await store.register(
            WatchRegistration(orderID: "1001", labels: ["store": "sh-01"]), now: 100, firstPollAt: 101)
        #expect(created)
        let (second, createdAgain) = try await store.register(
            WatchRegistration(orderID: "1001", labels: ["env": "prod"]), now: 200, firstPollAt: 201)
        #expect(!createdAgain)
        #expect(second.id == first.id)
        #expect(second.labels == ["store": "sh-01", "env": "prod"])
        // The same order on the other endpoint family is another watch.
        let (other, _) = try await store.register(WatchRegistration(orderID: "1001", api: .fulfilment), now: 1, firstPollAt: 1)
        #expect(other.id != first.id)
        #expect(try await store.remove(id: first.id, now: 300))
        #expect(try await store.watch(id: first.id)?.state == .removed)
        let (back, _) = try await store.register(WatchRegistration(orderID: "1001"), now: 400, firstPollAt: 401)
        #expect(back.id == first.id && back.state == .active && back.nextPollAt == 401)
    }

    @Test("bad registrations name the field")
    func validation() async throws {
        let store = try temporaryStore()
        await #expect(throws: ValidationError(field: "order_id", message: "order_id or encrypted_code is required")) {
            _ = try await store.register(WatchRegistration(), now: 1, firstPollAt: 1)
        }
        let results = try await store.registerMany(
            [WatchRegistration(orderID: "1"), WatchRegistration(orderID: "2", encryptedCode: "x")], now: 1, firstPollAt: 1)
        #expect((try? results[0].get()) != nil)
        #expect((try? results[1].get()) == nil)
    }

    @Test("due watches are claimed earliest first and never twice while leased")
    func claimDue() async throws {
        let store = try temporaryStore()
        for (order, due) in [("a", 30), ("b", 10), ("c", 20), ("d", 999)] {
            _ = try await store.register(WatchRegistration(orderID: order), now: 0, firstPollAt: Int64(due))
        }
        let claimed = try await store.claimDue(now: 100, limit: 2, lease: 60)
        #expect(claimed.map(\.orderID) == ["b", "c"])
        #expect(try await store.claimDue(now: 100, limit: 10, lease: 60).map(\.orderID) == ["a"])
        #expect(try await store.claimDue(now: 100, limit: 10, lease: 60).isEmpty)
        // After the lease runs out (a crashed poll), the watch is due again.
        #expect(try await store.claimDue(now: 161, limit: 10, lease: 60).map(\.orderID) == ["b", "c", "a"])
        #expect(try await store.nextDue(now: 161) == 999)
        // Claimed but not polled (shutdown): releasing makes them due at once, not after the lease.
        let unpolled = try await store.claimDue(now: 300, limit: 2, lease: 60)
        #expect(try await store.claimDue(now: 300, limit: 10, lease: 60).map(\.orderID) == ["a"])
        try await store.releaseLeases(watchIDs: unpolled.map(\.id))
        #expect(try await store.claimDue(now: 300, limit: 10, lease: 60).map(\.orderID) == ["b", "c"])
    }

    @Test("snapshots of several watches are read in one query, by watch and certificate")
    func snapshotsOfSeveralWatches() async throws {
        let store = try temporaryStore()
        let first = try await store.register(WatchRegistration(orderID: "x"), now: 0, firstPollAt: 0).watch
        let second = try await store.register(WatchRegistration(orderID: "y"), now: 0, firstPollAt: 0).watch
        for (watch, ids) in [(first, ["1", "2"]), (second, ["3"])] {
            let certificates = ids.map { id in
                StoredCertificate(
                    snapshot: CertificateSnapshot(Certificate(certificateID: DouyinID(id), raw: .null), observedAt: 10),
                    raw: .object(["certificate_id": .string(id)]))
            }
            try await store.commitPoll(PollCommit(watchID: watch.id, polledAt: 10, certificates: certificates, nextPollAt: 300))
        }
        let all = try await store.snapshots(watchIDs: [first.id, second.id, "w_none"])
        #expect(all.keys.sorted() == [first.id, second.id].sorted())
        #expect(all[first.id]?.keys.sorted() == ["1", "2"])
        #expect(all[second.id]?["3"]?.observedAt == 10)
        #expect(try await store.snapshots(watchID: first.id) == all[first.id])
        #expect(try await store.snapshots(watchIDs: []).isEmpty)
    }

    @Test("label filters and cursor pagination")
    func listing() async throws {
        let store = try temporaryStore()
        for index in 0..<5 {
            _ = try await store.register(
                WatchRegistration(orderID: "o\(index)", labels: ["store": index % 2 == 0 ? "sh" : "bj"]), now: 0, firstPollAt: 0)
        }
        #expect(try await store.watches(labels: ["store": "sh"]).count == 3)
        let page1 = try await store.watches(limit: 2)
        let page2 = try await store.watches(after: page1.last?.id, limit: 2)
        let page3 = try await store.watches(after: page2.last?.id, limit: 2)
        #expect(Set((page1 + page2 + page3).map(\.id)).count == 5)
        #expect(page3.count == 1)
    }
}

@Suite("Watch import")
struct WatchImportTests {
    @Test("CSV with labels; bad rows reported by line and skipped")
    func csv() throws {
        let text = """
            order_id,encrypted_code,api,labels,label.region
            1001,,,store=sh-01;env=prod,east
            ,,,,
            1003,,group,,
            1004,,fulfilment,,
            """
        let rows = try WatchImport.parse(text)
        #expect(rows.map(\.line) == [2, 3, 4, 5])
        #expect(try rows[0].result.get().labels == ["store": "sh-01", "env": "prod", "region": "east"])
        #expect(throws: ValidationError.self) { try rows[1].result.get() }
        #expect(throws: ValidationError.self) { try rows[2].result.get() }
        #expect(try rows[3].result.get().api == .fulfilment)
        #expect(throws: ValidationError.self) { _ = try WatchImport.parse("order,foo\n1,2") }
    }

    @Test("JSON lines")
    func jsonLines() throws {
        let rows = try WatchImport.parse(#"{"order_id":"1"}"# + "\n\n" + #"{"order_id": 5}"# + "\n" + #"{"encrypted_code":"x","labels":{"a":"b"}}"#)
        #expect(rows.map(\.line) == [1, 3, 4])
        #expect(throws: (any Error).self) { try rows[1].result.get() }
        #expect(try rows[2].result.get().encryptedCode == "x")
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cw-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("values, ${VAR} references and CERTWATCH_* overrides")
    func load() throws {
        let path = try write(
            """
            database: /tmp/x.sqlite
            douyin:
              client_key: key
              client_secret: ${SECRET}
            poll:
              base_interval: 10m
              expiring_lead_times: [24h, 2h]
            """)
        let configuration = try CertWatchConfiguration.load(
            path: path, environment: ["SECRET": "s", "CERTWATCH_POLL_QPS": "3"])
        #expect(configuration.douyin.clientSecret == "s")
        #expect(configuration.watcher.policy.baseInterval == 600)
        #expect(configuration.watcher.policy.expiringLeadTimes == [86_400, 7_200])
        #expect(configuration.watcher.qps == 3)
        #expect(configuration.database == "/tmp/x.sqlite")
    }

    @Test("errors name the key and file:line:col")
    func errors() throws {
        let unknown = try write("poll:\n  base_intervall: 5m\n")
        #expect(throws: ConfigurationError(location: "\(unknown):2:3", key: "poll.base_intervall", message: "unknown key")) {
            _ = try CertWatchConfiguration.load(path: unknown, environment: [:])
        }
        let bad = try write("poll:\n  base_interval: soon\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: bad, environment: [:])
        } throws: { error in
            "\(error)" == "\(bad):2:18: poll.base_interval: expected a duration like 30s or 5m, found \"soon\""
        }
        let missing = try write("douyin:\n  client_secret: ${NOPE}\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: missing, environment: [:])
        } throws: { error in "\(error)".contains("environment variable NOPE is not set") }
    }
}

@Suite("SQLite migrations")
struct StoreMigrationTests {
    @Test("the shipped migrations keep their names and order, so existing databases open")
    func migrationNames() {
        #expect(Store.migrator.migrations == [
            "v1-watches-certificates-events", "v2-deliveries", "v3-rule-groups", "v4-push-hints", "v5-watch-stalls",
        ])
    }
}

@Suite("Store query plans")
struct StoreQueryPlanTests {
    @Test("the store's due-watch queries walk the next_poll_at index, no scan and sort", arguments: [
        (Store.claimDueSQL, [1, 1, 1] as [Int]), (Store.nextDueSQL, [1, 1]),
    ])
    func dueQueriesUseIndex(sql: String, arguments: [Int]) async throws {
        let store = try temporaryStore()
        let plan = try await store.testingWriter.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments))
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("watches_due"))
        #expect(!plan.contains("TEMP B-TREE"))
    }

    @Test("hinted watches are found on their own partial index, no scan and sort")
    func hintedQueryUsesIndex() async throws {
        let store = try temporaryStore()
        let plan = try await store.testingWriter.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Store.claimHintedSQL, arguments: [1, 1, 1])
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("watches_hinted"))
        #expect(!plan.contains("TEMP B-TREE"))
    }
}
