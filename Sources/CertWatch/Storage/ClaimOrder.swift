import CertWatchCore

/// The order in which ``PollSchedule/claimDue(now:limit:lease:targetedLead:)`` hands out polls
/// that were not hinted, shared by every backend: the due targeted and routine watches, each list
/// earliest first, merged by due time with a targeted poll counted `targetedLead` seconds earlier
/// than it is due (``PollPolicy/servesTargetedFirst(targetedDue:routineDue:)``).
enum ClaimOrder {
    /// At most `limit` of `targeted` and `routine` (both earliest `nextPollAt` first), merged.
    static func merge(targeted: [Watch], routine: [Watch], limit: Int, targetedLead: Int64, now: Int64) -> [Watch] {
        let order = PollPolicy(targetedLead: targetedLead)
        var merged: [Watch] = []
        var (t, r) = (0, 0)
        while merged.count < limit, t < targeted.count || r < routine.count {
            let takeTargeted = r == routine.count
                || (t < targeted.count
                    && order.servesTargetedFirst(
                        targetedDue: Double(targeted[t].nextPollAt ?? now), routineDue: Double(routine[r].nextPollAt ?? now)))
            if takeTargeted { merged.append(targeted[t]); t += 1 } else { merged.append(routine[r]); r += 1 }
        }
        return merged
    }
}
