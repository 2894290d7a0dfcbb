import DouyinOpenAPI

/// What the sandbox's list APIs answer from, kept beside the certificates: each order's merchant
/// account, `create_order_time` and `update_order_time`, each certificate's last change
/// (`item_update_time`), and every verification ever made — cancelled ones stay, with their
/// `cancel_time` — in the order they were made (the order of the verify-record query's `cursor`).
///
/// Fed by the one place certificates change (``DouyinSandbox``'s `act`, which admin actions and
/// scenario steps share), from the certificate before and after: a verification that appeared was
/// made, one that disappeared was cancelled. So the list APIs show exactly the state the
/// certificate query shows.
struct SandboxLedger: Sendable {
    /// One order as the order query sees it.
    struct Order: Sendable, Hashable {
        /// The merchant account (`sku.account_id` of its certificates).
        var accountID: String
        /// `create_order_time` (and `pay_time`), Unix seconds.
        var createTime: Int64
        /// `update_order_time`, Unix seconds: the creation, then the last change that moved it.
        var updateTime: Int64
        /// Creation order (the order query's sort key).
        var sequence: Int
    }

    /// One verification ever made.
    struct Verification: Sendable, Hashable {
        /// Position in the history, from 1: the record's `cursor`.
        var sequence: Int
        var verifyID: String
        var certificateID: UInt64
        var orderID: String
        var poiID: UInt64
        /// `verify_time`, Unix seconds.
        var verifyTime: Int64
        var channel: VerifyChannel
        /// Which use of a times card (1-based).
        var serialNumber: Int64
        /// `cancel_time`, Unix seconds, once cancelled.
        var cancelTime: Int64?
    }

    private(set) var orders: [String: Order] = [:]
    private(set) var verifications: [Verification] = []
    private(set) var itemUpdatedAt: [UInt64: Int64] = [:]
    private var byVerifyID: [String: Int] = [:]
    private var feedRNG: SeededGenerator
    /// The share of changes that move `update_order_time` (``SandboxConfiguration/feedFidelity``).
    let feedFidelity: Double

    init(seed: UInt64, feedFidelity: Double) {
        self.feedRNG = SeededGenerator(seed: seed ^ 0xFEED_F1DE)
        self.feedFidelity = feedFidelity
    }

    /// A new order of `accountID`, created (and paid) at `time`.
    mutating func recordOrder(_ orderID: String, accountID: String, at time: Int64) {
        orders[orderID] = Order(accountID: accountID, createTime: time, updateTime: time, sequence: orders.count + 1)
    }

    /// A state change of one certificate at `time`: its `item_update_time` moves; verifications that
    /// appeared are recorded, ones that disappeared get `cancel_time`; and with probability
    /// ``feedFidelity`` (one draw per change, always) the order's `update_order_time` moves.
    mutating func recordChange(from before: SandboxCertificate, to after: SandboxCertificate, at time: Int64) {
        itemUpdatedAt[after.certificateID] = time
        let standing = Set(after.verifications.map(\.verifyID))
        for record in before.verifications where !standing.contains(record.verifyID) {
            if let index = byVerifyID[record.verifyID] { verifications[index].cancelTime = time }
        }
        let previous = Set(before.verifications.map(\.verifyID))
        for record in after.verifications where !previous.contains(record.verifyID) && byVerifyID[record.verifyID] == nil {
            byVerifyID[record.verifyID] = verifications.count
            verifications.append(
                Verification(
                    sequence: verifications.count + 1, verifyID: record.verifyID, certificateID: after.certificateID,
                    orderID: after.orderID, poiID: record.poiID, verifyTime: record.verifyTime, channel: record.channel,
                    serialNumber: record.serialNumber))
        }
        let moves = feedRNG.unit() < feedFidelity
        if moves, var order = orders[after.orderID] {
            order.updateTime = max(order.updateTime, time)
            orders[after.orderID] = order
        }
    }
}
