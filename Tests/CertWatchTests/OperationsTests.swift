@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB
import Testing

@Suite("Operations: retention and rule reload")
struct OperationsTests {
    func event(_ n: Int, time: Int64) -> CertWatchEvent {
        CertWatchEvent(
            id: "evt_\(n)", source: "/douyin/compre_retail/orders/1", type: .verified, subject: "c\(n)", time: time,
            data: EventData(watch: WatchInfo(id: "w_1", orderID: "1")))
    }

    @Test("old events and attempts are pruned in batches; an event with an open delivery is kept")
    func retention() async throws {
        let store = try temporaryStore()
        let day: Int64 = 86_400
        let now: Int64 = 1_734_169_082
        _ = try await store.append((1...1_200).map { event($0, time: now - 100 * day) } + [event(2_000, time: now - day)])
        try await store.testingWriter.write { db in
            try db.execute(
                sql: """
                    INSERT INTO deliveries (event_id, event_sequence, event_type, subject, sink, state, attempts, created_at, updated_at)
                    VALUES ('evt_7', 7, 'certificate.verified', 'c7', 'erp', 'retrying', 1, 0, 0),
                           ('evt_8', 8, 'certificate.verified', 'c8', 'erp', 'dead', 8, 0, 0)
                    """)
            try db.execute(
                sql: """
                    INSERT INTO delivery_attempts (delivery_id, number, started_at, duration, outcome)
                    VALUES (2, 1, ?, 0.1, 'dead'), (1, 1, ?, 0.1, 'retrying')
                    """, arguments: [Double(now - 100 * day), Double(now)])
        }
        let service = RetentionService(
            store: store, policy: RetentionPolicy(batchSize: 100), clock: ManualWallClock(Double(now)))
        let pruned = try await service.prune()
        #expect(pruned.events == 1_199)
        #expect(pruned.attempts == 1)
        let left = try await store.events(limit: 10).map(\.id)
        #expect(left == ["evt_7", "evt_2000"])
        #expect(try await store.testingWriter.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveries") } == 1)
    }

    @Test("a broken rule file keeps the previous rules; a good one takes effect")
    func reload() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("main.yaml").path
        try "rules:\n  - name: a\n    on: [\"*\"]\n    deliver: [stdout]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let sinks = [SinkConfiguration.builtInStdout]
        let outbox = Outbox(rules: try Outbox.loadRules(paths: [directory.path], sinks: sinks, logger: .init(label: "t")))
        let reloader = RuleReloader(outbox: outbox, paths: [directory.path], sinks: sinks)
        try "rules:\n  - name: b\n    on: [\"*\"]\n    deliver: [nowhere]\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(!reloader.reload())
        #expect(outbox.currentRules.rules.map(\.name) == ["a"])
        try "rules:\n  - name: c\n    on: [\"*\"]\n    drop: true\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(reloader.reload())
        #expect(outbox.currentRules.rules.map(\.name) == ["c"])
    }
}
