import CertWatchCore

/// What one attempt came to, as the planner sees it.
package enum AttemptOutcome: Sendable, Hashable {
    /// The sink accepted the delivery.
    case delivered
    /// A failure worth retrying. `retryAfter` (seconds) is the receiver's `Retry-After` (429/503)
    /// or a chat API's rate-limit hint.
    case failed(retryAfter: Double?)
    /// HTTP 410 Gone: the receiver asks us to stop. The sink is disabled until re-enabled.
    case gone
    /// The target guard refused the sink's URL at send time (its name now resolves to a private
    /// address, say): retrying cannot help, so the sink is disabled until re-enabled.
    case refused
    /// The sink cannot represent this event; the delivery is cancelled (replayable).
    case skipped
}

/// The next state of a delivery after an attempt.
package struct DeliveryPlan: Sendable, Hashable {
    /// The new state.
    package var state: DeliveryState
    /// When to attempt next (Unix seconds), for `pending` and `retrying`.
    package var nextAttemptAt: Double?
    /// Whether the sink must be disabled (410 Gone, a refused target).
    package var disableSink: Bool

    package init(state: DeliveryState, nextAttemptAt: Double? = nil, disableSink: Bool = false) {
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.disableSink = disableSink
    }
}

/// The delivery state machine: a pure function from (attempt number, outcome, schedule, now) to
/// the next state. No I/O; table-tested.
package enum DeliveryPlanner {
    /// Plans what follows attempt number `attempt` (1-based, counting this one) with `outcome`.
    ///
    /// - `delivered` → `delivered`.
    /// - `skipped` → `cancelled`.
    /// - `gone` and `refused` → `pending`, due now, and the sink is disabled: the delivery waits
    ///   for `certwatch sinks enable` and is then attempted again (the attempt still counts).
    /// - `failed` → `retrying` at `now + delay` (jittered schedule step), or at
    ///   `now + min(retryAfter, 2 × nominal step)` when the receiver sent `Retry-After`;
    ///   `dead` after the schedule's last attempt.
    package static func plan(
        afterAttempt attempt: Int, outcome: AttemptOutcome, schedule: RetrySchedule, now: Double,
        random: inout some RandomNumberGenerator
    ) -> DeliveryPlan {
        switch outcome {
        case .delivered:
            return DeliveryPlan(state: .delivered)
        case .skipped:
            return DeliveryPlan(state: .cancelled)
        case .gone, .refused:
            return DeliveryPlan(state: .pending, nextAttemptAt: now, disableSink: true)
        case .failed(let retryAfter):
            guard let nominal = schedule.nominalDelay(afterAttempt: attempt),
                let jittered = schedule.delay(afterAttempt: attempt, random: &random)
            else { return DeliveryPlan(state: .dead) }
            var delay = jittered
            if let retryAfter, retryAfter.isFinite, retryAfter >= 0 {
                delay = min(retryAfter, nominal * 2)
            }
            return DeliveryPlan(state: .retrying, nextAttemptAt: now + delay)
        }
    }
}
