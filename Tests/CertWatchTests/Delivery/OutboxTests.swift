import CertWatch
import CertWatchCore
import DouyinSandbox
import Foundation
import Testing

@Suite struct OutboxTests {
    @Test func deliveriesCommitWithThePollsEvents() async throws {
        try await Harness.with { harness in
            let outbox = Outbox(rules: try everythingTo(["erp", "stdout"]), clock: harness.clock, logger: quietLogger())
            let watcher = Watcher(
                store: harness.store, client: harness.client, clock: harness.clock,
                configuration: WatcherConfiguration(policy: PollPolicy(jitter: 0), qps: 10_000, concurrency: 2),
                logger: quietLogger(), route: outbox.router)
            let order = try await harness.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)]))
            try await harness.register(order.orderID)
            try await harness.advance(60)
            var events: [CertWatchEvent] = []
            for outcome in try await watcher.pollDue() {
                if case .polled(let appended) = outcome { events += appended }
            }
            #expect(!events.isEmpty)
            let deliveries = try await harness.store.deliveries(limit: 1000)
            #expect(deliveries.count == events.count * 2)
            #expect(Set(deliveries.map(\.eventID)) == Set(events.map(\.id)))
            #expect(deliveries.allSatisfy { $0.state == .pending })
        }
    }

    @Test func aFailingOutboxRollsBackThePoll() async throws {
        let store = try temporaryStore()
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await store.commitPoll(
                PollCommit(watchID: "w_none", polledAt: 1, events: [testEvent("a")], nextPollAt: nil),
                route: { _ in throw Boom() })
        }
        #expect(try await store.events().isEmpty)
    }

    @Test func groupDecisionsAndDropsWriteNoDirectDelivery() async throws {
        let rules = try RuleSet.parse(
            sources: [("r.yaml", """
                rules:
                  - name: drop-discovered
                    on: [certificate.discovered]
                    drop: true
                  - name: chat
                    on: [certificate.verified]
                    deliver: [hook]
                    body: "verified {{subject}}"
                """)], knownSinks: nil)
        let store = try temporaryStore()
        let outbox = Outbox(rules: rules, logger: quietLogger())
        try await outbox.append([testEvent("a", .discovered), testEvent("a", .verified)], to: store)
        let deliveries = try await store.deliveries()
        #expect(deliveries.count == 1)
        #expect(deliveries[0].body == "verified a")
        #expect(deliveries[0].rule == "chat")
    }

    @Test func sinksParseFromConfiguration() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("certwatch.yaml").path
        try """
            sinks:
              erp:
                type: webhook
                url: https://erp.example.com/hooks
                secret: ${ERP_SECRET}
                headers:
                  x-tenant: shop-1
                retry_schedule: [0s, 10s, 1m]
                concurrency: 4
              ops:
                type: dingtalk
                url: https://oapi.dingtalk.com/robot/send?access_token=abc
                secret: SEC123
              archive:
                type: file
                path: /var/lib/certwatch/events.jsonl
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try CertWatchConfiguration.load(path: path, environment: ["ERP_SECRET": testSecret])
        let sinks = Dictionary(uniqueKeysWithValues: configuration.sinks.map { ($0.name, $0) })
        #expect(Set(sinks.keys) == ["erp", "ops", "archive", "stdout"])
        #expect(sinks["erp"]?.secrets == [testSecret])
        #expect(sinks["erp"]?.headers == ["x-tenant": "shop-1"])
        #expect(sinks["erp"]?.retry.delays == [0, 10, 60])
        #expect(sinks["erp"]?.concurrency == 4)
        #expect(sinks["ops"]?.kind == .dingtalk)
        #expect(!"\(sinks["ops"]!)".contains("abc"))
        #expect(throws: ConfigurationError.self) {
            try "sinks:\n  bad:\n    type: webhook\n    url: https://x.example\n    secret: not-base64!\n".write(toFile: path, atomically: true, encoding: .utf8)
            _ = try CertWatchConfiguration.load(path: path, environment: [:])
        }
        // An 8-byte key (whsec_ + base64 of "12345678") is refused, naming the key and its line.
        try "sinks:\n  erp:\n    type: webhook\n    url: https://x.example\n    secret: whsec_MTIzNDU2Nzg=\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try CertWatchConfiguration.load(path: path, environment: [:])
            Issue.record("an 8-byte key was accepted")
        } catch {
            #expect(error.key == "sinks.erp.secret")
            #expect("\(error)".contains(":5:"))
            #expect("\(error)".contains("8 bytes"))
            #expect(!"\(error)".contains("MTIzNDU2Nzg"))
        }
    }
}
