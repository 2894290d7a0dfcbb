import CertWatchCore
import Foundation

/// `bench schedule-efficiency`: the adaptive poll policy against uniform fixed-interval polling on
/// a simulated day (``ScheduleSimulation``).
public enum ScheduleEfficiencyBenchmark {
    /// Uniform intervals tried when looking for the one that matches the adaptive p50s, seconds.
    static let sweep: [Int64] = [2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 200, 240, 300, 450, 600, 1000]

    /// Runs the simulation for `watches` watches and returns the printable result.
    public static func run(watches: Int = 10_000, seed: UInt64 = 2024) -> BenchResult {
        let simulation = ScheduleSimulation(watchCount: watches, seed: seed)
        var result = BenchResult(name: "schedule-efficiency")
        let counts = simulation.eventCounts()
        result.say(
            "simulated day, \(watches) watches, seeded mix (virtual clock, no HTTP); ground-truth events: "
                + ScheduleSimulation.eventTypes.map { "\(short($0)) \(counts[$0] ?? 0)" }.joined(separator: ", "))
        result.add("watches", Double(watches))

        let unlimited = simulation.adaptive(qps: nil)
        let budgets: [Double] = [10, 50]
        let budgeted = budgets.map { simulation.adaptive(qps: $0) }
        let uniformAtBudget = budgets.map { simulation.uniform(interval: max(1, Int64((Double(watches) / $0).rounded()))) }
        let equalCallsInterval = max(1, Int64((Double(watches) * Double(simulation.dayLength) / Double(unlimited.calls)).rounded()))
        let uniformEqualCalls = simulation.uniform(interval: equalCallsInterval)

        // The longest uniform interval whose p50 is at least as good as the adaptive policy's for every event type.
        var matching: ScheduleSimulation.Outcome?
        for interval in sweep.sorted(by: >) {
            let outcome = simulation.uniform(interval: interval)
            if ScheduleSimulation.eventTypes.allSatisfy({ type in
                let adaptive = unlimited.p50(type)
                return !adaptive.isFinite || outcome.p50(type) <= adaptive
            }) {
                matching = outcome
                break
            }
        }

        // The longest uniform interval whose overall p50 (all events pooled) is at least as good.
        var matchingOverall: ScheduleSimulation.Outcome?
        for interval in sweep.sorted(by: >) {
            let outcome = simulation.uniform(interval: interval)
            if outcome.p50() <= unlimited.p50() {
                matchingOverall = outcome
                break
            }
        }

        result.say("")
        result.say(header())
        var shown: [ScheduleSimulation.Outcome] = [unlimited]
        for (adaptive, uniform) in zip(budgeted, uniformAtBudget) { shown += [adaptive, uniform] }
        shown.append(uniformEqualCalls)
        if let matchingOverall { shown.append(matchingOverall) }
        if let matching { shown.append(matching) }
        for outcome in shown { result.say(row(outcome)) }
        result.say("  (latency p50/p99 in seconds; × = missed: never detected, e.g. a verification cancelled before any poll saw it)")
        result.say("")

        add(&result, "adaptive_unlimited", unlimited)
        for (budget, (adaptive, uniform)) in zip(budgets, zip(budgeted, uniformAtBudget)) {
            add(&result, "adaptive_q\(Int(budget))", adaptive)
            add(&result, "uniform_q\(Int(budget))", uniform)
            let ratio = Double(uniform.calls) / Double(adaptive.calls)
            let p50 = uniform.p50() / adaptive.p50()
            result.add("q\(Int(budget))_calls_ratio", ratio)
            result.say(
                String(
                    format: "at a %.0f QPS budget: uniform (every %lld s) makes %.2f× the calls of adaptive; overall p50 %.0f s vs %.0f s (uniform/adaptive %.2f)",
                    budget, Int64((Double(watches) / budget).rounded()), ratio, uniform.p50(), adaptive.p50(), p50))
        }
        add(&result, "uniform_equal_calls", uniformEqualCalls)
        result.add("equal_calls_interval_s", Double(equalCallsInterval))
        result.say(
            "at equal calls (uniform every \(equalCallsInterval) s ≈ adaptive's \(BenchSupport.compact(Double(unlimited.calls))) calls), uniform/adaptive p50 per type: "
                + ScheduleSimulation.eventTypes.map { type in
                    String(format: "%@ %.1f×", short(type) as NSString, uniformEqualCalls.p50(type) / unlimited.p50(type))
                }.joined(separator: ", "))
        if let matching {
            add(&result, "uniform_matching_p50", matching)
            let ratio = Double(matching.calls) / Double(unlimited.calls)
            result.add("calls_ratio_at_equal_or_better_p50", ratio)
            result.say(
                String(
                    format: "to match adaptive's p50 on every event type uniform must poll every %@ → %.1f× the calls (goal ≥ 5×: %@)",
                    matching.name.replacingOccurrences(of: "uniform every ", with: "") as NSString, ratio,
                    (ratio >= 5 ? "met" : "NOT met") as NSString))
        } else {
            result.add("calls_ratio_at_equal_or_better_p50", .nan)
            result.say("no uniform interval in the sweep (≥ \(sweep.min()!) s) matches adaptive's p50 on every event type")
        }
        if let matchingOverall {
            let ratio = Double(matchingOverall.calls) / Double(unlimited.calls)
            result.add("calls_ratio_at_equal_overall_p50", ratio)
            add(&result, "uniform_matching_overall_p50", matchingOverall)
            result.say(
                String(
                    format: "to match adaptive's overall p50 (all events pooled, %.0f s) uniform must poll every %@ → %.1f× the calls",
                    unlimited.p50(), matchingOverall.name.replacingOccurrences(of: "uniform every ", with: "") as NSString, ratio))
        }
        let average = Double(unlimited.calls) / Double(simulation.dayLength)
        result.add("adaptive_unlimited_peak_qps", unlimited.peakQPS)
        result.add("adaptive_unlimited_average_qps", average)
        result.say(
            String(
                format: "adaptive without a budget peaks at %.1f QPS (busiest minute), %.1f QPS on average for %d watches%@",
                unlimited.peakQPS, average, watches,
                (unlimited.peakQPS > 10 ? ": above the default 10 QPS quota" : ": within the default 10 QPS quota") as NSString))
        for budget in budgets {
            let fitted = PollPolicy().fitted(qps: budget, activeWatches: watches)
            result.add("q\(Int(budget))_fitted_base_interval_s", Double(fitted.baseInterval))
            result.say(
                String(
                    format: "under a %.0f QPS budget the base interval is fitted to %lld s (routine polls of %d active watches take ≤ %.0f %% of the budget; cancel-window and deadline polls keep their timing)",
                    budget, fitted.baseInterval, watches, fitted.baseShare * 100))
        }
        return result
    }

    static func short(_ type: EventType) -> String {
        type.rawValue.replacingOccurrences(of: "certificate.", with: "")
    }

    static func header() -> String {
        "  " + "schedule".padding(toLength: 26, withPad: " ", startingAt: 0) + "     calls  peak QPS  all p50/p99   "
            + ScheduleSimulation.eventTypes.map { short($0).padding(toLength: 22, withPad: " ", startingAt: 0) }.joined()
    }

    static func row(_ outcome: ScheduleSimulation.Outcome) -> String {
        func cell(_ type: EventType?) -> String {
            let missed = type.map { outcome.missed[$0] ?? 0 } ?? outcome.missedTotal
            let text = String(format: "%.0f/%.0f", outcome.p50(type), outcome.p99(type)) + (missed > 0 ? " ×\(missed)" : "")
            return text.padding(toLength: type == nil ? 14 : 22, withPad: " ", startingAt: 0)
        }
        return "  " + outcome.name.padding(toLength: 26, withPad: " ", startingAt: 0)
            + String(format: "%10d  %8.1f  ", outcome.calls, outcome.peakQPS) + cell(nil)
            + ScheduleSimulation.eventTypes.map { cell($0) }.joined()
    }

    static func add(_ result: inout BenchResult, _ prefix: String, _ outcome: ScheduleSimulation.Outcome) {
        result.add("\(prefix)_calls", Double(outcome.calls))
        result.add("\(prefix)_p50_s", outcome.p50())
        result.add("\(prefix)_p99_s", outcome.p99())
        result.add("\(prefix)_missed", Double(outcome.missedTotal))
        for type in ScheduleSimulation.eventTypes {
            let name = short(type)
            result.add("\(prefix)_\(name)_p50_s", outcome.p50(type))
            result.add("\(prefix)_\(name)_p99_s", outcome.p99(type))
            result.add("\(prefix)_\(name)_missed", Double(outcome.missed[type] ?? 0))
        }
    }
}
