import Foundation

/// The result of one delivery attempt, to record (``DeliveryQueue/recordDeliveryAttempts(_:now:)``).
public struct RecordedAttempt: Sendable {
    /// The delivery attempted.
    public var delivery: Delivery
    /// The attempt.
    public var attempt: DeliveryAttempt
    /// What follows.
    public var plan: DeliveryPlan

    public init(delivery: Delivery, attempt: DeliveryAttempt, plan: DeliveryPlan) {
        self.delivery = delivery
        self.attempt = attempt
        self.plan = plan
    }
}

