import CertWatchCore
import DouyinOpenAPI
import Foundation
import Hummingbird
import Prometheus

/// The unauthenticated operations routes: `/healthz`, `/readyz`, `/metrics` (Prometheus) and
/// `/openapi.yaml`.
struct OperationsAPI: Sendable {
    let store: any WatchRegistry & StorageMaintenance & DeliveryHistory
    /// The watcher, when running in this process (token check, QPS gauges).
    let watcher: Watcher?
    /// The dispatcher, when running in this process (delivery gauges).
    let dispatcher: Dispatcher?
    /// The registry rendered at `/metrics`.
    let registry: PrometheusCollectorRegistry
    /// The document served at `/openapi.yaml`.
    let openAPIDocument: String?
    /// The list APIs' quota buckets (the account monitor's), shown beside the certificate query's.
    var listBudgets: [DouyinAPIKind: QPSBudget] = [:]

    /// The routes, relative to `/`.
    var routes: RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .get("healthz") { _, _ -> [String: String] in ["status": "ok"] }
            .get("readyz", use: readiness)
            .get("metrics", use: metrics)
            .get("openapi.yaml", use: openAPI)
    }

    struct Readiness: ResponseEncodable {
        var status: String
        var checks: [String: String]
    }

    /// `GET /readyz`: 200 when the database is writable and (with a watcher) a Douyin token can be
    /// had, else 503; each check named in `checks`.
    @Sendable func readiness(_ request: Request, context: APIRequestContext) async -> EditedResponse<Readiness> {
        var checks: [String: String] = [:]
        do {
            try await store.checkWritable()
            checks["database"] = "ok"
        } catch {
            checks["database"] = "not writable"
        }
        if let watcher {
            do {
                _ = try await watcher.client.tokens.token()
                checks["douyin_token"] = "ok"
            } catch let error as DouyinAPIError {
                checks["douyin_token"] = "unavailable: \(error)"
            } catch {
                checks["douyin_token"] = "unavailable"
            }
        }
        let ready = checks.values.allSatisfy { $0 == "ok" }
        return EditedResponse(
            status: ready ? .ok : .serviceUnavailable, response: Readiness(status: ready ? "ready" : "not ready", checks: checks))
    }

    /// `GET /metrics`: the registry in Prometheus text format, with watch, delivery and QPS gauges
    /// refreshed first.
    @Sendable func metrics(_ request: Request, context: APIRequestContext) async -> Response {
        if let counts = try? await store.watchCounts() {
            for state in Watch.State.allCases {
                registry.makeGauge(name: "certwatch_watches", labels: [("state", state.rawValue)]).set(Int64(counts[state] ?? 0))
            }
        }
        if let dispatcher, let counts = try? await store.deliveryCounts() {
            // Every configured sink, also one without deliveries yet (at 0).
            for sink in Set(counts.keys).union(dispatcher.sinks.keys) {
                let states = counts[sink] ?? [:]
                for state in DeliveryState.allCases {
                    registry.makeGauge(name: "certwatch_deliveries", labels: [("sink", sink), ("state", state.rawValue)])
                        .set(Int64(states[state] ?? 0))
                }
            }
        }
        var budgets = listBudgets
        if let watcher { budgets[.certificateQuery] = watcher.budget }
        // Per Douyin API (each its own scope and quota): the configured rate and what this replica may spend now.
        for (api, budget) in budgets {
            let rates = await budget.rates
            registry.makeGauge(name: "certwatch_qps_budget", labels: [("api", api.rawValue)]).set(rates.configured)
            registry.makeGauge(name: "certwatch_qps_current", labels: [("api", api.rawValue)]).set(rates.current)
        }
        if let watcher { registry.makeGauge(name: "certwatch_replicas").set(Int64(await watcher.budget.replicas)) }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: registry.emitToString())))
    }

    /// `GET /openapi.yaml`: the OpenAPI document ("" when there is none).
    @Sendable func openAPI(_ request: Request, context: APIRequestContext) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/yaml"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: openAPIDocument ?? "")))
    }
}
