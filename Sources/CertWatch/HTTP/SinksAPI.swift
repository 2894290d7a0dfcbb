import CertWatchCore
import Hummingbird

/// `/v1/sinks`: re-enable a sink the dispatcher disabled after 410 Gone; backfill a sink.
struct SinksAPI: Sendable {
    let deliveries: any DeliveryQueue
    /// The configured sink names (an unknown name is a 404).
    let names: Set<String>
    let clock: any WallClock
    /// Wakes the dispatcher after an enable or a backfill.
    let wake: @Sendable () -> Void
    /// The rules in effect, for backfills (absent: no backfill route).
    let outbox: Outbox?
    /// Largest request body, bytes.
    let bodyLimit: Int

    /// The routes, relative to `/v1/sinks`.
    var routes: RouteCollection<APIRequestContext> {
        let routes = RouteCollection(context: APIRequestContext.self)
            .post("{name}/enable", use: enable)
        if outbox != nil { routes.post("{name}/backfill", use: backfill) }
        return routes
    }

    /// The sink named in the path. Throws ``APIError`` 404 for a name that is not configured.
    func sink(_ context: APIRequestContext) throws(APIError) -> String {
        let name = context.parameters.get("name") ?? ""
        guard names.contains(name) else {
            throw APIError.notFound("no sink \(name); configured: \(names.sorted().joined(separator: ", "))")
        }
        return name
    }

    /// `POST /v1/sinks/{name}/enable`: `{"sink", "status": "enabled" | "was not disabled"}`; 404 for
    /// a name that is not configured.
    @Sendable func enable(_ request: Request, context: APIRequestContext) async throws -> [String: String] {
        let name = try sink(context)
        let enabled = try await deliveries.enableSink(name, now: clock.now())
        wake()
        return ["sink": name, "status": enabled ? "enabled" : "was not disabled"]
    }

    /// The body of `POST /v1/sinks/{name}/backfill`.
    struct BackfillBody: Decodable {
        /// Unix seconds.
        var since: Int64
        var type: String?
        var orderID: String?
        var dryRun: Bool?
        enum CodingKeys: String, CodingKey { case since, type, orderID = "order_id", dryRun = "dry_run" }
    }

    /// `POST /v1/sinks/{name}/backfill` with `{"since", "type"?, "order_id"?, "dry_run"?}` (`since` in
    /// Unix seconds): runs the stored events since then through the rules in effect and creates the
    /// deliveries to the sink it lacks (``Outbox/backfill(_:store:now:)``); 200 with the
    /// ``BackfillReport``. 404 for an unknown sink, 422 naming `since`, `type` or `order_id` when unreadable.
    @Sendable func backfill(_ request: Request, context: APIRequestContext) async throws -> BackfillReport {
        let name = try sink(context)
        let body = try await decodeBody(BackfillBody.self, request, limit: bodyLimit)
        guard let outbox else { throw APIError.notFound("backfill is not available here") }
        let backfill = try Self.backfillRequest(
            sink: name, since: body.since, type: body.type, orderID: body.orderID, dryRun: body.dryRun ?? false)
        let report = try await outbox.backfill(backfill, store: deliveries, now: clock.now())
        if report.created > 0, !report.dryRun { wake() }
        return report
    }

    /// Latest accepted window start: 9999-12-31T23:59:59Z, Unix seconds.
    static let latestSince: Int64 = 253_402_300_799

    /// A checked ``BackfillRequest`` (the API and the console). Throws ``APIError`` 422 naming
    /// `since` (outside 0…``latestSince``), `type` (not an event type) or `order_id` (not 1–32 digits).
    static func backfillRequest(sink: String, since: Int64, type: String?, orderID: String?, dryRun: Bool)
        throws(APIError) -> BackfillRequest
    {
        guard (0...latestSince).contains(since) else {
            throw APIError.invalid("since must be Unix seconds between 0 and \(latestSince)", field: "since")
        }
        var eventType: EventType?
        if let type {
            guard let parsed = EventType(rawValue: type) else { throw APIError.invalid("unknown event type \(type)", field: "type") }
            eventType = parsed
        }
        let order = orderID.flatMap { $0.isEmpty ? nil : $0 }
        if let order, !WatchRegistration.isDouyinID(order) {
            throw APIError.invalid(WatchRegistration.orderIDMessage(order), field: "order_id")
        }
        return BackfillRequest(sink: sink, since: since, type: eventType, orderID: order, dryRun: dryRun)
    }
}

extension BackfillReport: ResponseEncodable {}
