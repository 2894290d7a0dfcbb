import Foundation

extension DouyinSandbox {
    /// Starts recording the push (券消息通知) of every verify, verify_cancel and refund from now on,
    /// for a ``SandboxPusher`` to send. Draws come from the fault profile's seed, else the sandbox's.
    package func enablePushes() {
        guard !pushes.enabled else { return }
        pushes = SandboxPushQueue(seed: configuration.faults.seed ?? configuration.seed)
        pushes.enabled = true
    }

    /// Removes and returns the pushes due now (after their injected delay), earliest first; lost
    /// pushes are never returned, duplicated ones twice.
    package func takeDuePushes() -> [SandboxPush] {
        catchUp()
        return pushes.takeDue(now: clock.now)
    }

    /// Sandbox seconds until the next queued push is due (0 when one is due), or `nil` when none
    /// is queued.
    package func secondsUntilNextPush() -> Double? {
        pushes.nextDue.map { max(0, $0 - clock.now) }
    }

    /// Sandbox seconds per real second (0 for a manual clock).
    package var clockSpeed: Double { clock.speed }

    /// Every change pushed or lost so far, oldest first: the action, the certificate and its
    /// order, and when it changed (sandbox Unix seconds).
    package func pushLog() -> [SandboxPush] { pushes.log }

    func recordPush(from before: SandboxCertificate, to after: SandboxCertificate, at time: Int64) {
        guard pushes.enabled, let action = SandboxPushQueue.action(from: before, to: after) else { return }
        // A profile without `push` keys (e.g. a scenario switching to a built-in one) keeps the configured push faults.
        // A refund is pushed when it completes (status 4), at the end of its refunding phase.
        let changedAt = action == "refund_success" ? after.refundedAt ?? time : time
        pushes.record(
            action: action, certificate: after, at: changedAt, clientKey: configuration.clientKey,
            faults: faults.profile.push ?? configuration.faults.push)
    }
}
