import Foundation

/// The result of one delivery attempt, to record (``DeliveryQueue/recordDeliveryAttempts(_:now:)``).
public struct RecordedAttempt: Sendable {
    /// The delivery attempted.
    public var delivery: Delivery
    /// The attempt.
    public var attempt: DeliveryAttempt
    /// What follows.
    package var plan: DeliveryPlan

    package init(delivery: Delivery, attempt: DeliveryAttempt, plan: DeliveryPlan) {
        self.delivery = delivery
        self.attempt = attempt
        self.plan = plan
    }
}

