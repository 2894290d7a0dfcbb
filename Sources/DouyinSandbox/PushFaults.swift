/// Faults of the sandbox's push (券消息通知), the `push` key of a ``FaultProfile``. Douyin documents
/// that pushes may be lost, repeated or arrive out of order; these keys rehearse each:
///
/// ```yaml
/// push:
///   loss: 0.1            # probability a push is never sent
///   duplicate: 0.1       # probability it is sent twice (same Msg-Id, as Douyin's retries are)
///   delay_max_s: 30      # each push waits a uniform 0…30 sandbox seconds before it is sent
///   reorder: 0.2         # probability it is held back reorder_delay_s more, so later pushes overtake it
///   reorder_delay_s: 60  # default 60
/// ```
///
/// Times are sandbox seconds (they scale with the clock's speed). A profile without `push` keys
/// installed later (a scenario's `faults` step, `PUT /sandbox/faults`) keeps the push faults the
/// sandbox started with. Draws come from their own seeded
/// generator (the profile's `seed`, else the sandbox's), one set per push, so the same seed and
/// the same changes give the same pushes.
package struct PushFaults: Sendable, Hashable, Codable {
    /// Probability (0…1) a push is lost.
    package var loss: Double?
    /// Probability (0…1) a push is sent twice with the same `Msg-Id`.
    package var duplicate: Double?
    /// Largest delay before a push is sent, sandbox seconds (0…86400, default 0).
    package var delayMaxSeconds: Double?
    /// Probability (0…1) a push is held back ``reorderDelaySeconds`` more.
    package var reorder: Double?
    /// How long a reordered push is held back, sandbox seconds (0…86400, default 60).
    package var reorderDelaySeconds: Double?

    package init(
        loss: Double? = nil, duplicate: Double? = nil, delayMaxSeconds: Double? = nil, reorder: Double? = nil,
        reorderDelaySeconds: Double? = nil
    ) {
        self.loss = loss
        self.duplicate = duplicate
        self.delayMaxSeconds = delayMaxSeconds
        self.reorder = reorder
        self.reorderDelaySeconds = reorderDelaySeconds
    }

    enum CodingKeys: String, CodingKey {
        case loss, duplicate, delayMaxSeconds = "delay_max_s", reorder, reorderDelaySeconds = "reorder_delay_s"
    }

    /// Checks ranges; throws ``SandboxAdminError`` naming the field (`push.loss`, …).
    package func validate() throws(SandboxAdminError) {
        for (name, probability) in [("loss", loss), ("duplicate", duplicate), ("reorder", reorder)] {
            if let probability, !(0...1).contains(probability) {
                throw .invalid("push.\(name)", "push.\(name) must be 0…1, got \(probability)")
            }
        }
        for (name, seconds) in [("delay_max_s", delayMaxSeconds), ("reorder_delay_s", reorderDelaySeconds)] {
            if let seconds, !(0...86_400).contains(seconds) {
                throw .invalid("push.\(name)", "push.\(name) must be 0…86400 seconds, got \(seconds)")
            }
        }
    }
}
