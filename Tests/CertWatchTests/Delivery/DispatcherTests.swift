@testable import CertWatch
import CertWatchCore
import CertWatchTesting
import Foundation
import GRDB
import Synchronization
import Testing

@Suite struct DispatcherTests {
    @Test func deliveredOnceSignedWithStableID() async throws {
        let rig0 = ManualWallClock(1_734_169_082)
        let receiver = WebhookReceiver(secrets: [testSecret], now: { rig0.now() })
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url + "/hooks/erp")], clock: rig0)
            let event = try await rig.append([testEvent("c1")])[0]
            #expect(try await rig.dispatcher.dispatchDue() == 1)
            #expect(try await rig.dispatcher.dispatchDue() == 0)
            let got = receiver.received
            #expect(got.count == 1)
            #expect(got[0].verified == true)
            #expect(got[0].id == event.id)
            #expect(got[0].path == "/hooks/erp")
            #expect(got[0].headers["user-agent"] == "certwatch/0.1.0")
            #expect(got[0].json?["sequence"] as? Int == Int(event.sequence!))
            #expect(got[0].body == event.jsonData())  // the stored body with its sequence, as the encoder writes it
            let delivery = try await rig.delivery(of: event, sink: "hook")
            #expect(delivery.state == .delivered)
            #expect(delivery.attempts == 1)
            let attempts = try await rig.deliveries.deliveryAttempts(deliveryID: delivery.id)
            #expect(attempts.count == 1 && attempts[0].status == 200 && attempts[0].response == #"{"ok":true}"#)
            await rig.shutdown()
        }
    }

    @Test func retriesFollowTheScheduleThenDeadThenReplay() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(status: 500))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url)])
            let event = try await rig.append([testEvent("c1")])[0]
            let start = rig.clock.now()
            try await rig.dispatcher.dispatchDue()
            var delivery = try await rig.delivery(of: event, sink: "hook")
            #expect(delivery.state == .retrying && delivery.attempts == 1)
            #expect(delivery.nextAttemptAt == start + 5)
            // Not due yet: nothing happens.
            rig.clock.advance(4)
            #expect(try await rig.dispatcher.dispatchDue() == 0)
            rig.clock.advance(1)
            #expect(try await rig.dispatcher.dispatchDue() == 1)
            delivery = try await rig.delivery(of: event, sink: "hook")
            #expect(delivery.nextAttemptAt == start + 5 + 300)
            rig.clock.advance(300)
            try await rig.dispatcher.dispatchDue()
            rig.clock.advance(1800)
            try await rig.dispatcher.dispatchDue()
            delivery = try await rig.delivery(of: event, sink: "hook")
            #expect(delivery.state == .dead && delivery.attempts == 4 && delivery.lastStatus == 500)
            #expect(receiver.requestCount == 4)
            #expect(try await rig.deliveries.deliveries(state: .dead).map(\.id) == [delivery.id])
            // Replay: re-sent with the same webhook-id.
            receiver.setBehaviour(ReceiverBehaviour(status: 204))
            #expect(try await rig.deliveries.replayDelivery(id: delivery.id, now: rig.clock.now()) == .dead)
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.delivery(of: event, sink: "hook").state == .delivered)
            #expect(receiver.received.map(\.id) == Array(repeating: event.id, count: 5))
            #expect(try await rig.deliveries.deliveryAttempts(deliveryID: delivery.id).count == 5)
            await rig.shutdown()
        }
    }

    @Test func retryAfterIsHonouredAndCapped() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(status: 429, retryAfter: "8"))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url)])
            let event = try await rig.append([testEvent("c1")])[0]
            let start = rig.clock.now()
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.delivery(of: event, sink: "hook").nextAttemptAt == start + 8)
            receiver.setBehaviour(ReceiverBehaviour(status: 503, retryAfter: "86400"))
            rig.clock.advance(8)
            try await rig.dispatcher.dispatchDue()
            // capped at 2 × the next step (300 s)
            #expect(try await rig.delivery(of: event, sink: "hook").nextAttemptAt == start + 8 + 600)
            await rig.shutdown()
        }
    }

    @Test func goneDisablesTheSinkUntilEnabled() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(status: 410))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url)])
            let events = try await rig.append([testEvent("c1"), testEvent("c2")])
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.deliveries.disabledSinks()["hook"] != nil)
            let countAfterGone = receiver.requestCount
            rig.clock.advance(3600)
            #expect(try await rig.dispatcher.dispatchDue() == 0)
            #expect(receiver.requestCount == countAfterGone)
            receiver.setBehaviour(ReceiverBehaviour(status: 200))
            #expect(try await rig.deliveries.enableSink("hook", now: rig.clock.now()))
            try await rig.dispatcher.dispatchDue()
            for event in events { #expect(try await rig.delivery(of: event, sink: "hook").state == .delivered) }
            await rig.shutdown()
        }
    }

    @Test func earlierFailureHoldsBackLaterEventOfSameCertificateOnly() async throws {
        let failing = Mutex(true)
        let first = testEvent("x", .verified, n: 1)
        let receiver = WebhookReceiver(
            behaviour: ReceiverBehaviour(decide: { request in request.id == first.id && failing.withLock { $0 } ? 500 : nil }))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url)])
            let later = testEvent("x", .verifyCancelled, n: 2)
            let other = testEvent("y", .verified, n: 1)
            try await rig.append([first, later, other])
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.delivery(of: first, sink: "hook").state == .retrying)
            #expect(try await rig.delivery(of: later, sink: "hook").state == .pending)
            #expect(try await rig.delivery(of: later, sink: "hook").attempts == 0)
            #expect(try await rig.delivery(of: other, sink: "hook").state == .delivered)
            failing.withLock { $0 = false }
            rig.clock.advance(5)
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.delivery(of: later, sink: "hook").state == .delivered)
            let order = receiver.received.filter { $0.subject == "x" && $0.status == 200 }.map(\.id)
            #expect(order == [first.id, later.id])
            await rig.shutdown()
        }
    }

    @Test func deadEarlierEventReleasesTheLaterOne() async throws {
        let first = testEvent("x", .verified, n: 1)
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(decide: { $0.id == first.id ? 500 : nil }))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, retry: RetrySchedule(delays: [0, 5], jitter: 0))])
            let later = testEvent("x", .verifyCancelled, n: 2)
            try await rig.append([first, later])
            try await rig.dispatcher.dispatchDue()
            rig.clock.advance(5)
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.delivery(of: first, sink: "hook").state == .dead)
            #expect(try await rig.delivery(of: later, sink: "hook").state == .delivered)
            await rig.shutdown()
        }
    }

    @Test func aSinkNeverHasMoreThanItsConcurrencyInFlight() async throws {
        // The gate holds every send until 3 are waiting (or all 7 have started): with the sink's
        // concurrency at 3 the pipeline keeps exactly 3 in flight; without the limit it would send all 7.
        let gate = GateSink(configuration: webhook(url: "http://127.0.0.1:9/unused", concurrency: 3), opensAt: 3, total: 7)
        let rig = try DeliveryRig(sinks: [gate.configuration])
        let dispatcher = Dispatcher(
            store: rig.store, sinks: ["hook": gate], clock: rig.clock, configuration: DispatcherConfiguration(seed: 42),
            logger: quietLogger())
        try await rig.append((1...7).map { testEvent("c\($0)") })
        #expect(try await dispatcher.dispatchDue() == 7)
        #expect(gate.maxInFlight == 3)
        #expect(try await rig.deliveries.deliveries().allSatisfy { $0.state == .delivered })
    }

    @Test func crashAfterSendBeforeRecordResendsWithSameID() async throws {
        let receiver = WebhookReceiver()
        try await receiver.withRunning { url in
            let store = try temporaryStore()
            let clock = ManualWallClock(1_734_169_082)
            let before = try DeliveryRig(sinks: [webhook(url: url)], store: store, clock: clock)
            let event = try await before.append([testEvent("c1")])[0]
            // "Crash" between the send and its record: this connection can no longer log attempts
            // (a TEMP trigger lives only as long as the connection, like the process that crashed).
            try await store.testingWriter.write { db in
                try db.execute(
                    sql: """
                        CREATE TEMP TRIGGER crash BEFORE INSERT ON main.delivery_attempts
                        BEGIN SELECT RAISE(ABORT, 'crashed before recording'); END
                        """)
            }
            await #expect(throws: (any Error).self) { try await before.dispatcher.dispatchDue() }
            await before.shutdown()
            #expect(receiver.requestCount == 1)
            // Restart on the same database.
            let reopened = try Store(path: store.path)
            _ = try await reopened.releaseAllLeases()  // as serve does at start, holding the database alone
            let after = try DeliveryRig(sinks: [webhook(url: url)], store: reopened, clock: clock)
            #expect(try await after.delivery(of: event, sink: "hook").state == .pending)
            try await after.dispatcher.dispatchDue()
            #expect(receiver.received.map(\.id) == [event.id, event.id])
            #expect(try await after.delivery(of: event, sink: "hook").state == .delivered)
            await after.shutdown()
        }
    }

    @Test func receiverDownThenUpDeliversEverythingInOrder() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(status: 503))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, retry: .standard)])
            var events: [CertWatchEvent] = []
            for n in 1...4 {
                for certificate in ["a", "b", "c"] { events.append(testEvent(certificate, n % 2 == 0 ? .verifyCancelled : .verified, n: n)) }
            }
            try await rig.append(events)
            try await rig.dispatcher.dispatchDue()
            rig.clock.advance(10)
            try await rig.dispatcher.dispatchDue()
            receiver.setBehaviour(ReceiverBehaviour(status: 200))
            // Drive the clock until everything is delivered.
            for _ in 0..<20 {
                rig.clock.advance(3600)
                try await rig.dispatcher.dispatchDue()
            }
            for event in events { #expect(try await rig.delivery(of: event, sink: "hook").state == .delivered) }
            for certificate in ["a", "b", "c"] {
                let delivered = receiver.received.filter { $0.subject == certificate && $0.status == 200 }.map(\.id)
                #expect(delivered == events.filter { $0.subject == certificate }.map(\.id))
            }
            await rig.shutdown()
        }
    }

    @Test func replaySinceRecoversDeadLetters() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(status: 500))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, retry: RetrySchedule(delays: [0]))])
            let events = try await rig.append([testEvent("a"), testEvent("b")])
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.deliveries.deliveries(state: .dead).count == 2)
            receiver.setBehaviour(ReceiverBehaviour())
            #expect(try await rig.deliveries.replayDeliveries(sink: "hook", since: rig.clock.now() - 60, now: rig.clock.now()) == 2)
            try await rig.dispatcher.dispatchDue()
            for event in events { #expect(try await rig.delivery(of: event, sink: "hook").state == .delivered) }
            await rig.shutdown()
        }
    }

    @Test func secretsNeverReachAttemptRecords() async throws {
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(status: 500))
        try await receiver.withRunning { url in
            let secret = "SECdingtalk-very-secret"
            let sink = SinkConfiguration(name: "ding", kind: .dingtalk, url: url + "/robot/send?access_token=tok123456", secrets: [secret], allowPrivate: true)
            let rig = try DeliveryRig(sinks: [sink])
            let event = try await rig.append([testEvent("a")])[0]
            try await rig.dispatcher.dispatchDue()
            let delivery = try await rig.delivery(of: event, sink: "ding")
            let attempts = try await rig.deliveries.deliveryAttempts(deliveryID: delivery.id)
            let text = "\(delivery) \(attempts) \(sink)"
            #expect(!text.contains(secret))
            #expect(!"\(sink)".contains("tok123456"))
            await rig.shutdown()
        }
    }

    @Test func pipelineSendsEachDeliveryOnceInCertificateOrder() async throws {
        let receiver = WebhookReceiver()
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, concurrency: 4)])
            // 12 certificates × 10 events: far more than one claim, many events of a certificate due at once.
            var events: [CertWatchEvent] = []
            for n in 1...10 {
                for certificate in 0..<12 { events.append(testEvent("c\(certificate)", n % 2 == 0 ? .verifyCancelled : .verified, n: n)) }
            }
            try await rig.append(events)
            #expect(try await rig.dispatcher.dispatchDue() == events.count)
            #expect(try await rig.dispatcher.dispatchDue() == 0)
            #expect(receiver.requestCount == events.count)
            #expect(Set(receiver.received.compactMap(\.id)).count == events.count)
            for certificate in 0..<12 {
                let subject = "c\(certificate)"
                #expect(receiver.received.filter { $0.subject == subject }.map(\.id) == events.filter { $0.subject == subject }.map(\.id))
            }
            #expect(try await rig.deliveries.deliveryCounts()["hook"] == [.delivered: events.count])
            await rig.shutdown()
        }
    }

    @Test func pipelineRetriesImmediatelyDueFailuresWithoutOvertaking() async throws {
        // Every third event fails its first attempt; the retry is due at once (delay 0), so the
        // pipeline retries it while other certificates go on — and the certificate's next event waits.
        let failedOnce = Mutex(Set<String>())
        let receiver = WebhookReceiver(
            behaviour: ReceiverBehaviour(decide: { request in
                guard let id = request.id, id.utf8.last.map({ $0 % 3 == 0 }) == true else { return nil }
                return failedOnce.withLock { $0.insert(id).inserted } ? 503 : nil
            }))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, retry: RetrySchedule(delays: [0, 0, 0], jitter: 0), concurrency: 3)])
            var events: [CertWatchEvent] = []
            for n in 1...6 {
                for certificate in ["a", "b", "c", "d", "e"] { events.append(testEvent(certificate, n % 2 == 0 ? .verifyCancelled : .verified, n: n)) }
            }
            try await rig.append(events)
            let attempts = try await rig.dispatcher.dispatchDue()
            let retried = failedOnce.withLock { $0.count }
            #expect(retried > 0)
            #expect(attempts == events.count + retried)
            for event in events { #expect(try await rig.delivery(of: event, sink: "hook").state == .delivered) }
            for certificate in ["a", "b", "c", "d", "e"] {
                // Every request of the certificate, failed or not, in event order: nothing overtook a failure.
                let sent = receiver.received.filter { $0.subject == certificate }
                var expected: [String] = []
                for event in events where event.subject == certificate {
                    if failedOnce.withLock({ $0.contains(event.id) }) { expected.append(event.id) }
                    expected.append(event.id)
                }
                #expect(sent.map(\.id) == expected)
            }
            await rig.shutdown()
        }
    }

    @Test func goneInTheMiddleOfAPipelineStopsTheSink() async throws {
        let events = (1...40).map { testEvent("g\($0)") }
        let goneID = events[5].id
        let receiver = WebhookReceiver(behaviour: ReceiverBehaviour(decide: { $0.id == goneID ? 410 : nil }))
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, concurrency: 2)])
            try await rig.append(events)
            try await rig.dispatcher.dispatchDue()
            #expect(try await rig.deliveries.disabledSinks()["hook"] != nil)
            // Nothing new was sent once the 410 came back: far from every delivery went out.
            #expect(receiver.requestCount < events.count)
            let sent = Set(receiver.received.compactMap(\.id))
            for event in events {
                let delivery = try await rig.delivery(of: event, sink: "hook")
                if event.id == goneID {
                    #expect(delivery.state == .pending && delivery.attempts == 1 && delivery.lastStatus == 410)
                } else if sent.contains(event.id) {
                    #expect(delivery.state == .delivered)
                } else {
                    #expect(delivery.state == .pending && delivery.attempts == 0)
                }
            }
            receiver.setBehaviour(ReceiverBehaviour())
            #expect(try await rig.deliveries.enableSink("hook", now: rig.clock.now()))
            try await rig.dispatcher.dispatchDue()
            for event in events { #expect(try await rig.delivery(of: event, sink: "hook").state == .delivered) }
            await rig.shutdown()
        }
    }

    @Test func unreadableStoredEventIsAFailedAttemptNotAStuckSink() async throws {
        let receiver = WebhookReceiver()
        try await receiver.withRunning { url in
            let rig = try DeliveryRig(sinks: [webhook(url: url, retry: RetrySchedule(delays: [0]))])
            let events = try await rig.append([testEvent("bad"), testEvent("good")])
            try await rig.store.testingWriter.write { db in
                try db.execute(sql: "UPDATE events SET body = 'not json' WHERE id = ?", arguments: [events[0].id])
            }
            #expect(try await rig.dispatcher.dispatchDue() == 2)
            let bad = try await rig.delivery(of: events[0], sink: "hook")
            #expect(bad.state == .dead)
            #expect(bad.lastError?.hasPrefix("cannot read the stored event") == true)
            #expect(try await rig.delivery(of: events[1], sink: "hook").state == .delivered)
            #expect(receiver.received.map(\.id) == [events[1].id])
            await rig.shutdown()
        }
    }
}

/// A sink that holds each send until `opensAt` sends are waiting (or `total` have started), then
/// lets them all answer 200: the most sends the dispatcher ever had in flight is ``maxInFlight``.
final class GateSink: Sink {
    let configuration: SinkConfiguration
    private let opensAt: Int
    private let total: Int
    private struct State {
        var waiting: [CheckedContinuation<Void, Never>] = []
        var started = 0
        var inFlight = 0
        var maxInFlight = 0
    }
    private let state = Mutex(State())

    init(configuration: SinkConfiguration, opensAt: Int, total: Int) {
        self.configuration = configuration
        self.opensAt = opensAt
        self.total = total
    }

    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    func deliver(_ delivery: OutboundDelivery) async -> SinkResponse {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.started += 1
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                state.waiting.append(continuation)
                guard state.waiting.count >= opensAt || state.started >= total else { return [] }
                defer { state.waiting = [] }
                return state.waiting
            }
            for waiting in released { waiting.resume() }
        }
        state.withLock { $0.inFlight -= 1 }
        return SinkResponse(outcome: .delivered, status: 200)
    }
}
