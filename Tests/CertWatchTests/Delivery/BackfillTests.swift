@testable import CertWatch
import CertWatchCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Rules as they are after adding the `audit` sink: verifications to `erp` and `audit` (with a body
/// template), cancellations to `erp` only, discoveries grouped for `audit`.
func rulesWithAudit() throws -> RuleSet {
    try RuleSet.parse(
        sources: [("r.yaml", """
            rules:
              - name: verified
                on: [certificate.verified]
                deliver: [erp, audit]
                body: "audit {{subject}}"
              - name: cancelled
                on: [certificate.verify_cancelled]
                deliver: [erp]
              - name: discovered
                on: [certificate.discovered]
                deliver: [audit]
                group: { by: [data.watch.id], wait: 60s }
            """)], knownSinks: nil)
}

@Suite("Backfill")
struct BackfillTests {
    /// A store with events that only reached `erp` (audit did not exist yet), at times 1,000…1,300.
    func storeBeforeAudit() async throws -> (Store, [CertWatchEvent]) {
        let store = try temporaryStore()
        let events = [
            testEvent("a", .discovered, time: 1_000), testEvent("a", .verified, time: 1_100), testEvent("b", .verified, time: 1_200),
            testEvent("a", .verifyCancelled, time: 1_300), testEvent("c", .verified, time: 100),
        ]
        let appended = try await Outbox(rules: try everythingTo(["erp"]), logger: quietLogger()).append(events, to: store)
        return (store, appended)
    }

    @Test("backfill creates the deliveries the sink lacks under the rules as they are now; a second run creates none")
    func backfillsOnce() async throws {
        let (store, events) = try await storeBeforeAudit()
        let outbox = Outbox(rules: try rulesWithAudit(), logger: quietLogger())
        // b's verification already reached audit (by hand, say): it is skipped.
        try await store.enqueue(
            Routing(now: 50, deliveries: [PlannedDelivery(event: events[2], decision: RouteDecision(sink: "audit", rule: "manual"))]))

        let dry = try await outbox.backfill(BackfillRequest(sink: "audit", since: 1_000, dryRun: true), store: store, now: 2_000)
        #expect(dry.created == 1 && dry.dryRun)
        #expect(try await store.deliveries(state: nil, sink: "audit", before: nil, limit: 10).count == 1)

        let report = try await outbox.backfill(BackfillRequest(sink: "audit", since: 1_000), store: store, now: 2_000)
        #expect(report == BackfillReport(
            sink: "audit", since: 1_000, dryRun: false, events: 4, alreadyDelivered: 1, notRouted: 1, grouped: 1, created: 1))
        let audit = try await store.deliveries(state: nil, sink: "audit", before: nil, limit: 10)
        let created = try #require(audit.first { $0.rule == "verified" })
        #expect(created.eventID == events[1].id && created.state == .pending && created.nextAttemptAt == 2_000)
        #expect(created.body == "audit a")
        // erp had every event already.
        let erp = try await outbox.backfill(BackfillRequest(sink: "erp", since: 0), store: store, now: 2_000)
        #expect(erp.created == 0 && erp.alreadyDelivered == 5)

        let again = try await outbox.backfill(BackfillRequest(sink: "audit", since: 1_000), store: store, now: 2_100)
        #expect(again.created == 0 && again.alreadyDelivered == 2)
        // The window reaches back further: c's old verification.
        let wider = try await outbox.backfill(BackfillRequest(sink: "audit", since: 0, type: .verified), store: store, now: 2_100)
        #expect(wider.events == 3 && wider.created == 1)
        let byOrder = try await outbox.backfill(BackfillRequest(sink: "audit", since: 0, orderID: "o-b"), store: store, now: 2_100)
        #expect(byOrder.events == 1 && byOrder.alreadyDelivered == 1)
    }

    @Test("backfill pages through more events than one page")
    func pages() async throws {
        let store = try temporaryStore()
        let events = (0..<1_203).map { testEvent("s\($0)", .verified, time: 1_000) }
        try await store.append(events)
        let report = try await Outbox(rules: try everythingTo(["audit"]), logger: quietLogger())
            .backfill(BackfillRequest(sink: "audit", since: 0), store: store, now: 5)
        #expect(report.events == 1_203 && report.created == 1_203)
        #expect(try await store.deliveryCounts()["audit"]?[.pending] == 1_203)
    }

    @Test("window starts: RFC 3339, Unix seconds, a duration ago; junk and huge numbers are nil, never a crash")
    func times() {
        #expect(BackfillRequest.time("2024-12-14T09:38:02Z", now: 0) == 1_734_169_082)
        #expect(BackfillRequest.time("1734169082", now: 0) == 1_734_169_082)
        let weekAgo = BackfillRequest.time("7d", now: 1_000_000)
        #expect(weekAgo == 395_200)
        let earlier = BackfillRequest.time("1h30m", now: 10_000)
        #expect(earlier == 4_600)
        for junk in ["", "yesterday", "1e400", "-5", "99999999999999999999d", "7x", "nan", String(repeating: "9", count: 30)] {
            #expect(BackfillRequest.time(junk, now: 0) == nil, "\(junk)")
        }
    }

    @Test("POST /v1/sinks/{name}/backfill: 200 with the report; 404 unknown sink; 422 naming since, type or order_id")
    func httpRoute() async throws {
        let (store, _) = try await storeBeforeAudit()
        let clock = ManualWallClock(2_000)
        let outbox = Outbox(rules: try rulesWithAudit(), clock: clock, logger: quietLogger())
        let sink: @Sendable (String) -> StdoutSink = { StdoutSink(configuration: SinkConfiguration(name: $0, kind: .stdout), write: { _ in }) }
        let api = CertWatchAPI(
            store: store, clock: clock, apiKeys: ["k1"],
            dispatcher: Dispatcher(store: store, sinks: ["erp": sink("erp"), "audit": sink("audit")], clock: clock), outbox: outbox)
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/sinks/audit/backfill", method: .post, headers: auth, body: ByteBuffer(string: #"{"since":1000,"dry_run":true}"#)
            ) { response throws in
                #expect(response.status == .ok)
                let body = try json(response.body)
                #expect(body["created"] == .int(2))  // a's and b's verifications
                #expect(body["dry_run"] == .bool(true))
            }
            #expect(try await store.deliveries(state: nil, sink: "audit", before: nil, limit: 10).isEmpty)
            try await client.execute(
                uri: "/v1/sinks/audit/backfill", method: .post, headers: auth,
                body: ByteBuffer(string: #"{"since":1000,"type":"certificate.verified"}"#)
            ) { response throws in
                #expect(response.status == .ok)
                #expect(try json(response.body)["already_delivered"] != nil)
            }
            #expect(try await store.deliveries(state: nil, sink: "audit", before: nil, limit: 10).count == 2)
            try await client.execute(
                uri: "/v1/sinks/nope/backfill", method: .post, headers: auth, body: ByteBuffer(string: #"{"since":0}"#)
            ) { response throws in
                #expect(response.status == .notFound)
            }
            for (body, field) in [
                (#"{"since":-1}"#, "since"), (#"{"since":"7d"}"#, "since"), (#"{"since":0,"type":"x"}"#, "type"),
                (#"{"since":0,"order_id":"abc"}"#, "order_id"),
            ] {
                try await client.execute(uri: "/v1/sinks/audit/backfill", method: .post, headers: auth, body: ByteBuffer(string: body)) {
                    response throws in
                    #expect(response.status == .unprocessableContent, "\(body)")
                    #expect(try json(response.body)["error"]?["field"] == .string(field), "\(body)")
                }
            }
            try await client.execute(uri: "/v1/sinks/audit/backfill", method: .post, body: ByteBuffer(string: #"{"since":0}"#)) {
                response throws in
                #expect(response.status == .unauthorized)
            }
            // The event log's order filter checks the form too: a typo is an error, not an empty page.
            try await client.execute(uri: "/v1/events?order_id=abc", method: .get, headers: auth) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response.body)["error"]?["field"] == .string("order_id"))
            }
        }
    }
}
