import CertWatchCore
import Hummingbird

/// `/v1/sinks`: re-enable a sink the dispatcher disabled after 410 Gone.
struct SinksAPI: Sendable {
    let deliveries: DeliveryStore
    /// The configured sink names (an unknown name is a 404).
    let names: Set<String>
    let clock: any WallClock
    /// Wakes the dispatcher after an enable.
    let wake: @Sendable () -> Void

    /// The routes, relative to `/v1/sinks`.
    var routes: RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .post("{name}/enable", use: enable)
    }

    /// `POST /v1/sinks/{name}/enable`: `{"sink", "status": "enabled" | "was not disabled"}`; 404 for
    /// a name that is not configured.
    @Sendable func enable(_ request: Request, context: APIRequestContext) async throws -> [String: String] {
        let name = context.parameters.get("name") ?? ""
        guard names.contains(name) else {
            throw APIError.notFound("no sink \(name); configured: \(names.sorted().joined(separator: ", "))")
        }
        let enabled = try await deliveries.enableSink(name, now: clock.now())
        wake()
        return ["sink": name, "status": enabled ? "enabled" : "was not disabled"]
    }
}
