import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Testing

@Suite struct DeliveryPlannerTests {
    let schedule = RetrySchedule.standard
    let now = 1_000_000.0

    func plan(_ attempt: Int, _ outcome: AttemptOutcome, schedule: RetrySchedule? = nil, seed: UInt64 = 1) -> DeliveryPlan {
        var random = SeededGenerator(seed: seed)
        return DeliveryPlanner.plan(afterAttempt: attempt, outcome: outcome, schedule: schedule ?? self.schedule, now: now, random: &random)
    }

    @Test func defaultScheduleIsImmediatelyThenAboutADay() {
        #expect(schedule.delays == [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000])
        #expect(schedule.maxAttempts == 8)
        #expect(schedule.jitter == 0.2)
    }

    @Test(arguments: [(1, 5.0), (2, 300), (3, 1800), (4, 7200), (5, 18_000), (6, 36_000), (7, 36_000)])
    func failuresRetryWithinJitter(attempt: Int, nominal: Double) {
        for seed in UInt64(1)...50 {
            let next = plan(attempt, .failed(retryAfter: nil), seed: seed)
            #expect(next.state == .retrying)
            let delay = next.nextAttemptAt! - now
            #expect(delay >= nominal * 0.8 && delay <= nominal * 1.2)
        }
    }

    @Test func deadAfterTheLastAttempt() {
        #expect(plan(8, .failed(retryAfter: nil)) == DeliveryPlan(state: .dead))
        #expect(plan(8, .failed(retryAfter: 1)) == DeliveryPlan(state: .dead))
        #expect(plan(1, .failed(retryAfter: nil), schedule: RetrySchedule(delays: [0])) == DeliveryPlan(state: .dead))
    }

    @Test func table() {
        let noJitter = RetrySchedule(delays: [0, 5, 300], jitter: 0)
        let cases: [(Int, AttemptOutcome, DeliveryPlan)] = [
            (1, .delivered, DeliveryPlan(state: .delivered)),
            (3, .delivered, DeliveryPlan(state: .delivered)),
            (1, .skipped, DeliveryPlan(state: .cancelled)),
            (1, .gone, DeliveryPlan(state: .pending, nextAttemptAt: now, disableSink: true)),
            (1, .refused, DeliveryPlan(state: .pending, nextAttemptAt: now, disableSink: true)),
            (1, .failed(retryAfter: nil), DeliveryPlan(state: .retrying, nextAttemptAt: now + 5)),
            (2, .failed(retryAfter: nil), DeliveryPlan(state: .retrying, nextAttemptAt: now + 300)),
            (3, .failed(retryAfter: nil), DeliveryPlan(state: .dead)),
            // Retry-After is honoured, capped at 2 × the next step
            (1, .failed(retryAfter: 7), DeliveryPlan(state: .retrying, nextAttemptAt: now + 7)),
            (1, .failed(retryAfter: 3600), DeliveryPlan(state: .retrying, nextAttemptAt: now + 10)),
            (2, .failed(retryAfter: 1), DeliveryPlan(state: .retrying, nextAttemptAt: now + 1)),
            (2, .failed(retryAfter: 10_000), DeliveryPlan(state: .retrying, nextAttemptAt: now + 600)),
        ]
        for (attempt, outcome, expected) in cases {
            #expect(plan(attempt, outcome, schedule: noJitter) == expected, "attempt \(attempt) \(outcome)")
        }
    }
}
