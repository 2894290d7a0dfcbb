import CertWatchCore
import Metrics

/// certwatch's metric families, recorded through swift-metrics (rendered by `serve` at `/metrics`
/// in Prometheus text). Every family is named here, once; the README's "Metrics" lists them.
///
/// ``declare(sinks:pushEnabled:)`` creates every series whose labels are known in advance at
/// zero, so the first scrape after start already shows the families (Prometheus' advice: "avoid
/// missing metrics"): `rate()` and alerts on `certwatch_events_unrouted_total` or
/// `certwatch_rule_reloads_total{result="error"}` work before the first such event. Series with
/// open label values — `certwatch_decode_warnings_total{field}` (a JSON path Douyin drifted in)
/// and the error codes of `certwatch_polls_total{outcome,code}` — appear with their first
/// occurrence.
package enum CertWatchMetrics {
    /// Creates the known series at their initial values (the watcher sets
    /// `certwatch_poll_base_interval_seconds` as it starts): `certwatch_events_total{type}` and
    /// `certwatch_events_unrouted_total{type}` for every ``EventType`` (`watch.*` included),
    /// `certwatch_rule_reloads_total{result="ok"|"error"}` at 0, `certwatch_rules_last_reload_ok`
    /// at 1 (the rules loaded at start checked), `certwatch_polls_total{outcome="ok",code="0"}`,
    /// the Douyin request-duration timer, per sink `certwatch_delivery_attempts_total{sink,outcome}`
    /// and `certwatch_delivery_latency_seconds{sink}`, and with push enabled
    /// `certwatch_push_messages_total{event,result}` for the hint events.
    package static func declare(sinks: [String], pushEnabled: Bool) {
        for type in EventType.allCases {
            _ = eventsCounter(type)
            _ = unroutedCounter(type)
        }
        for result in ["ok", "error"] { _ = Counter(label: "certwatch_rule_reloads_total", dimensions: [("result", result)]) }
        Gauge(label: "certwatch_rules_last_reload_ok").record(1)
        _ = pollsCounter(outcome: "ok", code: "0")
        _ = requestDuration
        for sink in sinks {
            for outcome in [DeliveryState.delivered, .retrying, .dead, .pending, .cancelled] {
                _ = deliveryAttemptsCounter(sink: sink, outcome: outcome)
            }
            _ = deliveryLatencyTimer(sink: sink)
        }
        if pushEnabled {
            for event in DouyinPushMessage.hintEvents.sorted() {
                for result in ["hinted", "registered", "unknown_watch", "duplicate"] {
                    _ = pushCounter(event: event, result: result)
                }
            }
        }
    }

    /// `certwatch_events_total{type}`: one committed event.
    static func eventCommitted(_ type: EventType) { eventsCounter(type).increment() }

    /// `certwatch_events_unrouted_total{type}`: an event no rule matched.
    static func eventUnrouted(_ type: EventType) { unroutedCounter(type).increment() }

    /// `certwatch_rule_reloads_total{result}` and `certwatch_rules_last_reload_ok` (1 or 0).
    static func ruleReload(ok: Bool) {
        Counter(label: "certwatch_rule_reloads_total", dimensions: [("result", ok ? "ok" : "error")]).increment()
        Gauge(label: "certwatch_rules_last_reload_ok").record(ok ? 1 : 0)
    }

    /// `certwatch_polls_total{outcome,code}`: `outcome` is `ok` or Douyin's error class
    /// (`retry`, `slow_down`, `permanent`, …); `code` is Douyin's error code, else the HTTP status,
    /// else `none`.
    static func poll(outcome: String, code: String) { pollsCounter(outcome: outcome, code: code).increment() }

    /// `certwatch_douyin_request_duration_seconds`: one certificate query, answered or not.
    static func douyinRequest(nanoseconds: Int64) { requestDuration.recordNanoseconds(nanoseconds) }

    /// `certwatch_decode_warnings_total{field}`: drift read anyway (`field`: the JSON path without indices).
    static func decodeWarning(field: String) {
        Counter(label: "certwatch_decode_warnings_total", dimensions: [("field", field)]).increment()
    }

    /// `certwatch_account_detector_runs_total{detector,status}`: one feed or sweep run of an account
    /// (`status`: ``DetectorState/Status``).
    static func accountDetectorRun(detector: String, status: String) {
        Counter(label: "certwatch_account_detector_runs_total", dimensions: [("detector", detector), ("status", status)]).increment()
    }

    /// `certwatch_poll_base_interval_seconds`: the routine poll interval of a typical watch now.
    static func baseInterval(seconds: Double) { Gauge(label: "certwatch_poll_base_interval_seconds").record(seconds) }

    /// `certwatch_delivery_attempts_total{sink,outcome}` (`outcome`: the delivery's state after the attempt).
    static func deliveryAttempt(sink: String, outcome: DeliveryState) {
        deliveryAttemptsCounter(sink: sink, outcome: outcome).increment()
    }

    /// `certwatch_delivery_latency_seconds{sink}`: from the outbox row to the receiver's 2xx.
    static func deliveryLatency(sink: String, seconds: Double) {
        deliveryLatencyTimer(sink: sink).recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// `certwatch_push_messages_total{event,result}`: one Douyin push at `/douyin/webhook`.
    static func pushMessage(event: String, result: String) { pushCounter(event: event, result: result).increment() }

    private static let requestDuration = Timer(label: "certwatch_douyin_request_duration_seconds", preferredDisplayUnit: .seconds)

    private static func eventsCounter(_ type: EventType) -> Counter {
        Counter(label: "certwatch_events_total", dimensions: [("type", type.rawValue)])
    }

    private static func unroutedCounter(_ type: EventType) -> Counter {
        Counter(label: "certwatch_events_unrouted_total", dimensions: [("type", type.rawValue)])
    }

    private static func pollsCounter(outcome: String, code: String) -> Counter {
        Counter(label: "certwatch_polls_total", dimensions: [("outcome", outcome), ("code", code)])
    }

    private static func deliveryAttemptsCounter(sink: String, outcome: DeliveryState) -> Counter {
        Counter(label: "certwatch_delivery_attempts_total", dimensions: [("sink", sink), ("outcome", outcome.rawValue)])
    }

    private static func deliveryLatencyTimer(sink: String) -> Timer {
        Timer(label: "certwatch_delivery_latency_seconds", dimensions: [("sink", sink)], preferredDisplayUnit: .seconds)
    }

    private static func pushCounter(event: String, result: String) -> Counter {
        Counter(label: "certwatch_push_messages_total", dimensions: [("event", event), ("result", result)])
    }
}
