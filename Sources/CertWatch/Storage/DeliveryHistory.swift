import CertWatchCore
import Foundation

/// What operators read of deliveries: lists, one delivery, its attempts, counts by sink and
/// state. Used by the API's delivery routes, the CLI, the console and `/metrics`-like summaries.
public protocol DeliveryHistory: Sendable {
    /// Deliveries newest first, filtered by state and sink, before the id `before`, at most `limit`.
    func deliveries(state: DeliveryState?, sink: String?, before: Int64?, limit: Int) async throws -> [Delivery]

    /// The delivery with `id`, or `nil`.
    func delivery(id: Int64) async throws -> Delivery?

    /// The attempts of a delivery, oldest first.
    func deliveryAttempts(deliveryID: Int64) async throws -> [DeliveryAttempt]

    /// Delivery counts: sink → state → count.
    func deliveryCounts() async throws -> [String: [DeliveryState: Int]]

    /// The deliveries of these events (every sink), by delivery id.
    func deliveries(eventIDs: [String]) async throws -> [Delivery]
}
