import CertWatch
import CertWatchCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import Testing

/// `/metrics` right after start: the families an operator alerts on are there before anything happened.
@Suite("Metrics")
struct MetricsTests {
    /// swift-metrics is bootstrapped once per process: this registry receives every metric the tests record.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    @Test("the first scrape shows rule reloads, unrouted events and every event type, watch.* included, at their initial values")
    func firstScrape() async throws {
        let registry = Self.registry
        let sinks = [SinkConfiguration(name: "erp", kind: .webhook, url: "http://127.0.0.1:9/hook", allowPrivate: true)]
        let services = try CertWatchServices(
            configuration: try testConfiguration(baseURL: "http://127.0.0.1:9", watcher: WatcherConfiguration(), sinks: sinks),
            clock: ManualWallClock(1_734_169_082),
            options: .init(makeLogger: { _ in quietLogger() }, registry: registry, store: try temporaryStore()))
        let app = Application(router: services.api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                for line in [
                    #"certwatch_rule_reloads_total{result="ok"}"#, #"certwatch_rule_reloads_total{result="error"}"#,
                    "certwatch_rules_last_reload_ok 1", #"certwatch_events_unrouted_total{type="certificate.verified"}"#,
                    #"certwatch_events_total{type="watch.failed"}"#, #"certwatch_events_total{type="watch.stalled"}"#,
                    #"certwatch_polls_total{outcome="ok",code="0"}"#,
                    #"certwatch_delivery_attempts_total{sink="erp",outcome="dead"}"#,
                    #"certwatch_watches{state="active"} 0"#,
                ] {
                    #expect(text.contains(line), "missing \(line)")
                }
            }
        }
        try await services.shutdown()
    }
}
