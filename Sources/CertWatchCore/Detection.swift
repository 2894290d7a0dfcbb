/// How an event was first seen: its `data.detected_by`, and the `detected_by` column of `events`.
/// Every detector but the poll is a hint — the certificate query decides what happened — except
/// the sweep's events of a verification cancelled before any poll saw it, which come from Douyin's
/// verify record itself.
public enum Detection: String, Sendable, Hashable, Codable, CaseIterable {
    /// By a poll a Douyin push (券消息通知) made due.
    case push
    /// By a poll the change feed made due: the account's order query by `update_order_time` named the order.
    case feed
    /// By the sweep: a poll it made due (an order created, a verification recorded that no event
    /// had), or Douyin's verify record itself (a verification cancelled before any poll).
    case sweep
    /// By a routine or targeted poll.
    case poll
}
