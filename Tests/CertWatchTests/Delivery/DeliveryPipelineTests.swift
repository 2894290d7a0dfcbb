@testable import CertWatch
import CertWatchCore
import Foundation
import GRDB
import Testing

/// A due delivery with row id `id` (its own certificate).
private func due(_ id: Int64) -> DueDelivery {
    let event = testEvent("c\(id)")
    return DueDelivery(
        delivery: Delivery(
            id: id, eventID: event.id, eventSequence: id, eventType: event.type.rawValue, subject: event.subject, sink: "hook",
            rule: nil, body: nil, state: .pending, attempts: 0, nextAttemptAt: 0, createdAt: 0, updatedAt: 0, lastStatus: nil,
            lastError: nil),
        eventBody: String(decoding: event.jsonData(), as: UTF8.self))
}

private func finished(_ item: DueDelivery, _ outcome: AttemptOutcome = .delivered) -> Dispatcher.Attempt {
    (item.delivery, SinkResponse(outcome: outcome), started: 0, duration: 0)
}

private extension DeliveryPipeline.Step {
    var sent: Int64? { if case .send(let item) = self { item.delivery.id } else { nil } }
    var claim: (limit: Int, excluding: Set<Int64>)? { if case .claim(let limit, let held) = self { (limit, held) } else { nil } }
    var recorded: [Int64]? { if case .record(let batch) = self { batch.map(\.delivery.id) } else { nil } }
}

@Suite("Delivery pipeline (the state machine)")
struct DeliveryPipelineTests {
    @Test("claims ahead, keeps `concurrency` sends in flight and refills each as it finishes")
    func keepsSendsInFlight() {
        var pipeline = DeliveryPipeline(concurrency: 2)
        var steps = pipeline.next()
        #expect(steps.count == 1 && steps[0].claim?.limit == 8 && steps[0].claim?.excluding == [])
        #expect(pipeline.next().isEmpty)  // one store operation at a time
        let batch = (1...8).map(due)
        pipeline.claimed(batch, limit: 8)
        steps = pipeline.next()
        // 6 still wait to be sent (not fewer than 2 × concurrency): no claim, nothing to record.
        #expect(steps.map(\.sent) == [1, 2])
        pipeline.sent(finished(batch[1]))
        // The finished send is replaced at once.
        #expect(pipeline.next().map(\.sent) == [3])
        pipeline.sent(finished(batch[0]))
        steps = pipeline.next()
        // `concurrency` attempts finished and 4 still wait: the store records the two.
        #expect(steps.compactMap(\.sent) == [4])
        #expect(steps.compactMap(\.recorded) == [[2, 1]])
        #expect(pipeline.sending == 2)
        pipeline.sent(finished(batch[2]))
        // Fewer than 2 × concurrency wait now, but the store is busy: no claim yet.
        #expect(pipeline.next().map(\.sent) == [5])
        pipeline.recorded([2, 1])
        // Then the store claims more, excluding every delivery claimed and not yet recorded.
        steps = pipeline.next()
        #expect(steps.count == 1)
        #expect(steps.compactMap(\.claim).first?.excluding == Set(3...8))
    }

    @Test("records wait for `concurrency` finished attempts, or for the last in flight")
    func recordsInBatches() {
        var pipeline = DeliveryPipeline(concurrency: 3)
        _ = pipeline.next()
        let batch = (1...3).map(due)
        pipeline.claimed(batch, limit: 12)  // fewer than asked: nothing more is due
        #expect(pipeline.next().map(\.sent) == [1, 2, 3])
        pipeline.sent(finished(batch[0]))
        #expect(pipeline.next().isEmpty)  // 1 finished, 2 in flight: wait
        pipeline.sent(finished(batch[1], .failed(retryAfter: nil)))
        #expect(pipeline.next().isEmpty)
        pipeline.sent(finished(batch[2]))
        #expect(pipeline.next().compactMap(\.recorded) == [[1, 2, 3]])
        #expect(pipeline.held == [1, 2, 3])
        #expect(!pipeline.isIdle)
        pipeline.recorded([1, 2, 3])
        #expect(pipeline.held.isEmpty)
        // A record can release a certificate's next delivery: claim once more before going idle.
        #expect(pipeline.next().compactMap(\.claim).count == 1)
        pipeline.claimed([], limit: 12)
        #expect(pipeline.next().isEmpty)
        #expect(pipeline.isIdle)
    }

    @Test("a delivery claimed again while held is not sent twice")
    func heldIsNotSentTwice() {
        var pipeline = DeliveryPipeline(concurrency: 4)
        _ = pipeline.next()
        pipeline.claimed([due(1)], limit: 16)
        #expect(pipeline.next().map(\.sent) == [1])
        pipeline.claimed([due(1), due(2)], limit: 16)
        #expect(pipeline.next().map(\.sent) == [2])
    }

    @Test("410 Gone stops claims and sends; what is in flight finishes and everything finished is recorded")
    func goneStops() {
        var pipeline = DeliveryPipeline(concurrency: 2)
        _ = pipeline.next()
        let batch = (1...8).map(due)
        pipeline.claimed(batch, limit: 8)
        #expect(pipeline.next().map(\.sent) == [1, 2])
        pipeline.sent(finished(batch[0], .gone))
        #expect(pipeline.stopped)
        #expect(pipeline.held == [1, 2])  // 3…8 were released unsent
        var steps = pipeline.next()
        #expect(steps.compactMap(\.sent).isEmpty)
        #expect(steps.compactMap(\.recorded) == [[1]])  // stopping: recorded at once
        pipeline.sent(finished(batch[1]))
        #expect(pipeline.next().isEmpty)  // the record still runs
        pipeline.recorded([1])
        steps = pipeline.next()
        #expect(steps.compactMap(\.recorded) == [[2]])
        #expect(steps.compactMap(\.claim).isEmpty)
        pipeline.recorded([2])
        #expect(pipeline.isIdle)
    }

    @Test("stop (graceful shutdown) lets the send in flight finish and be recorded")
    func stopDrains() {
        var pipeline = DeliveryPipeline(concurrency: 1)
        _ = pipeline.next()
        let batch = (1...3).map(due)
        pipeline.claimed(batch, limit: 4)
        #expect(pipeline.next().map(\.sent) == [1])
        pipeline.stop()
        #expect(!pipeline.isIdle)
        pipeline.sent(finished(batch[0]))
        #expect(pipeline.next().compactMap(\.recorded) == [[1]])
        pipeline.recorded([1])
        #expect(pipeline.next().isEmpty)
        #expect(pipeline.isIdle)
    }

    @Test("under steady load the claimed-ahead queue stays bounded")
    func queueStaysBounded() {
        var pipeline = DeliveryPipeline(concurrency: 2)
        var next: Int64 = 1
        var inFlight: [DueDelivery] = []
        for _ in 0..<1_000 {
            for step in pipeline.next() {
                switch step {
                case .send(let item): inFlight.append(item)
                case .claim(let limit, _):
                    pipeline.claimed((next..<next + Int64(limit)).map(due), limit: limit)
                    next += Int64(limit)
                case .record(let batch): pipeline.recorded(batch.map(\.delivery.id))
                }
            }
            #expect(pipeline.waitingStorage <= 2 * pipeline.claimLimit)
            #expect(pipeline.held.count <= 2 * pipeline.claimLimit)
            if !inFlight.isEmpty { pipeline.sent(finished(inFlight.removeFirst())) }
        }
        #expect(next > 900)  // it kept claiming and sending
    }

    @Test("nothing due: one claim, then idle")
    func idleWhenNothingIsDue() {
        var pipeline = DeliveryPipeline(concurrency: 8)
        #expect(pipeline.claimLimit == 32)
        #expect(pipeline.next().compactMap(\.claim).count == 1)
        #expect(!pipeline.isIdle)
        pipeline.claimed([], limit: 32)
        #expect(pipeline.next().isEmpty)
        #expect(pipeline.isIdle)
    }
}

@Suite("Event JSON from the stored body")
struct EventJSONTests {
    @Test("the stored body with the sequence spliced in is byte for byte jsonData() of the event with its sequence")
    func matchesTheEncoder() throws {
        var events = EventType.allCases.map { EventSchema.sampleEvent(type: $0) }
        // Text that looks like the anchor inside strings and nested keys must not move the splice.
        var tricky = testEvent(#"x","id":"evt_1","source":"y"#)
        tricky.id = "evt_1"
        tricky.data.watch.labels = ["id": "evt_1", "source": #""id":"evt_1","source":""#]
        events.append(tricky)
        for var event in events {
            event.sequence = nil
            let stored = String(decoding: event.jsonData(), as: UTF8.self)
            event.sequence = 1_234_567
            let spliced = try #require(EventJSON.withSequence(stored, eventID: event.id, sequence: 1_234_567))
            #expect(spliced == event.jsonData(), "\(event.type)")
        }
    }

    @Test("a body without the expected shape gives nil (the event is encoded instead)")
    func otherShapes() {
        var event = testEvent("c1")
        event.sequence = 5
        let withSequence = String(decoding: event.jsonData(), as: UTF8.self)
        #expect(EventJSON.withSequence(withSequence, eventID: event.id, sequence: 6) == nil)
        #expect(EventJSON.withSequence("{}", eventID: event.id, sequence: 6) == nil)
        #expect(EventJSON.withSequence("", eventID: "", sequence: 6) == nil)
    }

    @Test("a due delivery goes out as its stored JSON with the sequence; sinks that need the event decode it")
    func outboundFromTheStoredBody() throws {
        var event = EventSchema.sampleEvent(type: .timesCardUsed)
        event.sequence = nil
        let stored = String(decoding: event.jsonData(), as: UTF8.self)
        let delivery = Delivery(
            id: 7, eventID: event.id, eventSequence: 42, eventType: event.type.rawValue, subject: event.subject, sink: "hook",
            rule: nil, body: nil, state: .retrying, attempts: 2, nextAttemptAt: 0, createdAt: 0, updatedAt: 0, lastStatus: nil,
            lastError: nil)
        event.sequence = 42
        let outbound = try DueDelivery(delivery: delivery, eventBody: stored).outbound(now: 100)
        #expect(outbound.attempt == 3 && outbound.eventID == event.id && outbound.now == 100)
        #expect(outbound.eventJSON == event.jsonData())
        #expect(try outbound.event() == event)
        // A stored body of another shape (here: already with a sequence) is decoded instead.
        var other = event
        other.sequence = 1
        let fallback = try DueDelivery(delivery: delivery, eventBody: String(decoding: other.jsonData(), as: UTF8.self))
            .outbound(now: 100)
        #expect(try fallback.event() == event)
        #expect(fallback.eventJSON == event.jsonData())
        #expect(throws: (any Error).self) { try DueDelivery(delivery: delivery, eventBody: "{}").outbound(now: 100) }
    }
}

@Suite("Delivery claim query plan")
struct DeliveryClaimQueryPlanTests {
    @Test("the claim walks deliveries_due in order and stops at the limit: no scan and sort of every due delivery")
    func claimUsesTheDueIndex() async throws {
        let store = try temporaryStore()
        let plan = try await store.testingWriter.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Store.dueDeliveriesSQL, arguments: ["hook", 0.0, 0.0, "me", 8])
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("deliveries_due"))
        #expect(!plan.contains("TEMP B-TREE"))
    }
}
