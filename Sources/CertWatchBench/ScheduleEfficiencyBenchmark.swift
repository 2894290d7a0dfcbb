import CertWatchCore
import Dispatch
import Foundation
import Synchronization

/// `bench schedule-efficiency`: the adaptive schedule against uniform fixed-interval polling and
/// main's fixed split, with and without Douyin's pushes, on simulated days (``ScheduleSimulation``).
package enum ScheduleEfficiencyBenchmark {
    /// Uniform intervals tried when looking for the one that matches the adaptive p50s, seconds.
    static let sweep: [Int64] = [2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 200, 240, 300, 450, 600, 1000]

    /// Runs the simulation for `watches` watches and returns the printable result.
    ///
    /// Per budget (10 and 50 QPS): the adaptive schedule (the watcher's ``AdaptiveSchedule``) without
    /// push, with 50 % and with 90 % of Douyin's pushes arriving; main's fixed split on the same
    /// workload; uniform polling spending the whole budget, and uniform at the adaptive run's calls.
    /// No run without a budget: the schedule then polls every watch at `poll.min_interval` (no natural
    /// demand to measure, and ≈ 30 M simulated polls); today's `adaptive_unlimited_*` keys report the
    /// largest budget simulated (50 QPS).
    ///
    /// At 10 QPS, without push, also: the adaptive schedule with the per-account change feed (100 %
    /// and 50 % fidelity), with the sweep, with both (``ScheduleSimulation/Detectors``), and the
    /// oracle (the same allocation fed the workload's true hazards). 10 % of bought orders are never
    /// registered by the backend: without the feed or the sweep their events are missed.
    /// `budgets` are the QPS budgets (the first is the default one the comparisons are made at).
    package static func run(watches: Int = 10_000, seed: UInt64 = 2024, budgets: [Double] = [10, 50]) -> BenchResult {
        let simulation = ScheduleSimulation(watchCount: watches, seed: seed)
        var result = BenchResult(name: "schedule-efficiency")
        let counts = simulation.eventCounts()
        let unregistered = simulation.unregisteredCounts
        let unregisteredEvents = simulation.unregisteredEventCounts()
        result.say(
            "simulated warm-up day + scored day, \(watches) watches active at the start (+\(simulation.boughtDuringSimulation) bought during the two days), 40 stores, seeded (virtual clock, no HTTP); ground-truth events of the scored day: "
                + ScheduleSimulation.eventTypes.map { "\(short($0)) \(counts[$0] ?? 0)" }.joined(separator: ", "))
        result.say(
            "orders the backend never registered (\(Int(ScheduleSimulation.unregisteredShare * 100)) % of bought): \(unregistered.backlog) active at the start besides the \(watches) + \(unregistered.bought) of those bought during the two days; their events of the scored day: "
                + ScheduleSimulation.eventTypes.map { "\(short($0)) \(unregisteredEvents[$0] ?? 0)" }.joined(separator: ", ")
                + " — only the feed or the sweep can register them; without either they are missed")
        result.add("watches", Double(watches))
        result.add("unregistered_backlog", Double(unregistered.backlog))
        result.add("unregistered_bought", Double(unregistered.bought))
        result.add("unregistered_events", Double(unregisteredEvents.values.reduce(0, +)))

        let reference = budgets[0]
        let detectorRuns: [(key: String, detectors: ScheduleSimulation.Detectors)] = [
            ("feed100", .init(feedFidelity: 1)), ("feed50", .init(feedFidelity: 0.5)), ("sweep", .init(sweep: true)),
            ("feed100_sweep", .init(feedFidelity: 1, sweep: true)),
        ]
        var shown: [ScheduleSimulation.Outcome] = []
        var adaptiveRuns: [Double: ScheduleSimulation.Outcome] = [:]
        var uniformEqual: [Double: ScheduleSimulation.Outcome] = [:]
        var pushRuns: [Double: [Int: ScheduleSimulation.Outcome]] = [:]
        var fixedRuns: [Double: ScheduleSimulation.Outcome?] = [:]
        // The simulated runs are independent: run them side by side.
        typealias Spec = (
            qps: Double, scheduler: ScheduleSimulation.Scheduler, push: Double?, detectors: ScheduleSimulation.Detectors?
        )
        let specs: [Spec] = budgets.flatMap { budget -> [Spec] in
            var runs: [Spec] = [(budget, .adaptive, nil, nil), (budget, .adaptive, 0.5, nil), (budget, .adaptive, 0.9, nil)]
            if budget == reference {
                runs.append((budget, .fixedSplit, nil, nil))
                runs += detectorRuns.map { (budget, .adaptive, nil, $0.detectors) }
                runs.append((budget, .oracle, nil, nil))
            }
            return runs
        }
        let outcomes = Mutex([Int: ScheduleSimulation.Outcome]())
        DispatchQueue.concurrentPerform(iterations: specs.count) { index in
            let spec = specs[index]
            let outcome = simulation.run(
                spec.scheduler, qps: spec.qps, push: spec.push.map { .init(arriving: $0) }, detectors: spec.detectors)
            outcomes.withLock { $0[index] = outcome }
        }
        let done = outcomes.withLock { $0 }
        func outcome(
            _ budget: Double, _ scheduler: ScheduleSimulation.Scheduler, _ push: Double?,
            _ detectors: ScheduleSimulation.Detectors? = nil
        ) -> ScheduleSimulation.Outcome? {
            specs.indices.first {
                specs[$0].qps == budget && specs[$0].scheduler == scheduler && specs[$0].push == push
                    && specs[$0].detectors == detectors
            }.flatMap { done[$0] }
        }
        for budget in budgets {
            let q = Int(budget)
            let adaptive = outcome(budget, .adaptive, nil)!
            // Main's fixed split only at the default budget (the "no worse than main" comparison).
            let fixed = outcome(budget, .fixedSplit, nil)
            let uniform = simulation.uniform(interval: max(1, Int64((simulation.scoredCoverage / (budget * Double(simulation.dayLength))).rounded())))
            let equalInterval = simulation.uniformInterval(calls: adaptive.calls)
            let equal = simulation.uniform(interval: equalInterval)
            var pushes: [Int: ScheduleSimulation.Outcome] = [0: adaptive]
            for share in [50, 90] { pushes[share] = outcome(budget, .adaptive, Double(share) / 100)! }
            adaptiveRuns[budget] = adaptive
            uniformEqual[budget] = equal
            pushRuns[budget] = pushes
            fixedRuns[budget] = fixed
            shown += [adaptive, pushes[50]!, pushes[90]!] + (fixed.map { [$0] } ?? [])
            if budget == reference {
                for run in detectorRuns {
                    let detected = outcome(budget, .adaptive, nil, run.detectors)!
                    shown.append(detected)
                    add(&result, "adaptive_\(run.key)_q\(q)", detected)
                }
                let oracle = outcome(budget, .oracle, nil)!
                shown.append(oracle)
                add(&result, "oracle_q\(q)", oracle)
            }
            shown.append(uniform)
            if equal.name != uniform.name { shown.append(equal) }

            add(&result, "adaptive_q\(q)", adaptive)
            add(&result, "uniform_q\(q)", uniform)
            if let fixed { add(&result, "main_fixed_split_q\(q)", fixed) }
            add(&result, "uniform_equal_calls_q\(q)", equal)
            result.add("q\(q)_equal_calls_interval_s", Double(equalInterval))
            for share in [0, 50, 90] { add(&result, "adaptive_push\(share)_q\(q)", pushes[share]!) }
            result.add("q\(q)_calls_ratio", Double(uniform.calls) / Double(adaptive.calls))
        }

        // At the default budget: the uniform intervals that match the adaptive p50s.
        let referenceRun = adaptiveRuns[reference]!
        var matching: ScheduleSimulation.Outcome?
        var matchingOverall: ScheduleSimulation.Outcome?
        for interval in sweep.sorted(by: >) {
            let outcome = simulation.uniform(interval: interval)
            if matching == nil, ScheduleSimulation.eventTypes.allSatisfy({ type in
                let adaptive = referenceRun.p50(type)
                return !adaptive.isFinite || outcome.p50(type) <= adaptive
            }) {
                matching = outcome
            }
            if matchingOverall == nil, outcome.p50() <= referenceRun.p50() { matchingOverall = outcome }
        }

        result.say("")
        result.say(header())
        for outcome in shown { result.say(row(outcome)) }
        result.say("  (latency p50/p99 in seconds; × = missed: never detected, e.g. a verification cancelled before any poll saw it, or an order nobody registered; calls = certificate queries; feed/sweep = their own API calls (own quotas); calls and latencies of the scored day)")
        result.say("")
        let q = Int(reference)
        let adaptive = adaptiveRuns[reference]!
        func verdict(_ met: Bool) -> NSString { (met ? "met" : "NOT met") as NSString }
        func worse(_ run: ScheduleSimulation.Outcome) -> [String] {
            ScheduleSimulation.eventTypes.compactMap { type in
                let p50 = run.p50(type)
                let base = adaptive.p50(type)
                let slower = p50.isFinite && base.isFinite && p50 > base
                let missedMore = (run.missed[type] ?? 0) > (adaptive.missed[type] ?? 0)
                guard slower || missedMore else { return nil }
                return String(
                    format: "%@ p50 %.0f vs %.0f s (missed %d vs %d)", short(type) as NSString, p50, base,
                    run.missed[type] ?? 0, adaptive.missed[type] ?? 0)
            }
        }
        for run in detectorRuns {
            let detected = outcome(reference, .adaptive, nil, run.detectors)!
            let slower = worse(detected)
            result.say(
                String(
                    format: "at %d QPS, %@: verified p50/p99 %.0f/%.0f s, missed %d, %d feed + %d sweep calls, %d unregistered orders registered, %d cancelled pairs from verify records; vs adaptive without: %@",
                    q, run.detectors.name as NSString, detected.p50(.verified), detected.p99(.verified), detected.missedTotal,
                    detected.feedCalls, detected.sweepCalls, detected.registeredByDetectors, detected.pairsFromSweep,
                    (slower.isEmpty ? "no type slower (p50) or missed more" : "worse: " + slower.joined(separator: "; ")) as NSString))
            result.add("q\(q)_\(run.key)_types_worse_than_adaptive", Double(slower.count))
        }
        let feed100 = outcome(reference, .adaptive, nil, detectorRuns[0].detectors)!
        let feed50 = outcome(reference, .adaptive, nil, detectorRuns[1].detectors)!
        let both = outcome(reference, .adaptive, nil, detectorRuns[3].detectors)!
        result.say(
            String(
                format: "  goals: feed 100 %%: verified p50 %.0f s ≤ 20 s %@, p99 %.0f s ≤ 120 s %@; feed 50 %%: p50 %.0f s ≤ 60 s %@; feed 100 %% + sweep: %d missed (goal 0: %@)",
                feed100.p50(.verified), verdict(feed100.p50(.verified) <= 20), feed100.p99(.verified),
                verdict(feed100.p99(.verified) <= 120), feed50.p50(.verified), verdict(feed50.p50(.verified) <= 60),
                both.missedTotal, verdict(both.missedTotal == 0)))
        let oracle = outcome(reference, .oracle, nil)!
        result.say(
            "  oracle (the same √-rate allocation fed the true hazards), p50 adaptive/oracle s: "
                + ScheduleSimulation.eventTypes.map { type in
                    String(format: "%@ %.0f/%.0f", short(type) as NSString, adaptive.p50(type), oracle.p50(type))
                }.joined(separator: ", ")
                + String(format: "; calls %d vs %d (budget %d in the day)", adaptive.calls, oracle.calls, q * Int(simulation.dayLength)))
        result.add("q\(q)_verified_p50_ratio_adaptive_to_oracle", adaptive.p50(.verified) / oracle.p50(.verified))
        result.say("")

        for budget in budgets {
            let q = Int(budget)
            let adaptive = adaptiveRuns[budget]!
            let equal = uniformEqual[budget]!
            let verifiedRatio = adaptive.p50(.verified) / equal.p50(.verified)
            result.add("q\(q)_verified_p50_ratio_to_uniform_equal_calls", verifiedRatio)
            result.say(
                String(
                    format: "at %d QPS: adaptive %@ calls, uniform at equal calls polls every %lld s; verified p50 %.0f s vs %.0f s (adaptive/uniform %.2f, goal ≤ 0.5 at 10 QPS: %@)",
                    q, BenchSupport.compact(Double(adaptive.calls)) as NSString, simulation.uniformInterval(calls: adaptive.calls),
                    adaptive.p50(.verified), equal.p50(.verified), verifiedRatio,
                    (verifiedRatio <= 0.5 ? "met" : "NOT met") as NSString))
            if let fixed = fixedRuns[budget] ?? nil {
                result.say(
                "  per type, adaptive vs main's fixed split (p50 s, missed): "
                    + ScheduleSimulation.eventTypes.map { type in
                        String(
                            format: "%@ %.0f/%.0f ×%d/%d", short(type) as NSString, adaptive.p50(type), fixed.p50(type),
                            adaptive.missed[type] ?? 0, fixed.missed[type] ?? 0)
                    }.joined(separator: ", "))
            }
            let push90 = pushRuns[budget]![90]!
            result.say(
                String(
                    format: "  with pushes: verified p50 %.0f s (no push) → %.0f s (50 %%) → %.0f s (90 %%; goal ≤ 5 s at 10 QPS: %@)",
                    adaptive.p50(.verified), pushRuns[budget]![50]!.p50(.verified), push90.p50(.verified),
                    (push90.p50(.verified) <= 5 ? "met" : "NOT met") as NSString))
        }

        // Today's keys; the equal-calls and matching comparisons are now made at the default 10 QPS
        // budget (without a budget the adaptive schedule has no natural demand: it polls at the floor).
        let unlimitedOutcome = adaptiveRuns[budgets.max()!]!
        add(&result, "adaptive_unlimited", unlimitedOutcome)
        add(&result, "uniform_equal_calls", uniformEqual[reference]!)
        result.add("equal_calls_interval_s", Double(simulation.uniformInterval(calls: referenceRun.calls)))
        if let matching {
            add(&result, "uniform_matching_p50", matching)
            let ratio = Double(matching.calls) / Double(referenceRun.calls)
            result.add("calls_ratio_at_equal_or_better_p50", ratio)
            result.say(
                String(
                    format: "to match adaptive's p50 at 10 QPS on every event type uniform must poll every %@ → %.1f× the calls",
                    matching.name.replacingOccurrences(of: "uniform every ", with: "") as NSString, ratio))
        } else {
            result.add("calls_ratio_at_equal_or_better_p50", .nan)
            result.say("no uniform interval in the sweep (≥ \(sweep.min()!) s) matches adaptive's p50 at 10 QPS on every event type")
        }
        if let matchingOverall {
            let ratio = Double(matchingOverall.calls) / Double(referenceRun.calls)
            result.add("calls_ratio_at_equal_overall_p50", ratio)
            add(&result, "uniform_matching_overall_p50", matchingOverall)
            result.say(
                String(
                    format: "to match adaptive's overall p50 at 10 QPS (all events pooled, %.0f s) uniform must poll every %@ → %.1f× the calls",
                    referenceRun.p50(), matchingOverall.name.replacingOccurrences(of: "uniform every ", with: "") as NSString, ratio))
        }
        result.add("adaptive_unlimited_peak_qps", unlimitedOutcome.peakQPS)
        result.add("adaptive_unlimited_average_qps", Double(unlimitedOutcome.calls) / Double(simulation.dayLength))
        for budget in budgets {
            let fitted = PollPolicy().fitted(qps: budget, activeWatches: watches)
            result.add("q\(Int(budget))_fitted_base_interval_s", Double(fitted.baseInterval))
        }
        return result
    }

    static func short(_ type: EventType) -> String {
        type.rawValue.replacingOccurrences(of: "certificate.", with: "")
    }

    static func header() -> String {
        "  " + "schedule".padding(toLength: 36, withPad: " ", startingAt: 0) + "     calls  peak QPS  all p50/p99   "
            + ScheduleSimulation.eventTypes.map { short($0).padding(toLength: 22, withPad: " ", startingAt: 0) }.joined()
            + "  feed   sweep"
    }

    static func row(_ outcome: ScheduleSimulation.Outcome) -> String {
        func cell(_ type: EventType?) -> String {
            let missed = type.map { outcome.missed[$0] ?? 0 } ?? outcome.missedTotal
            let text = String(format: "%.0f/%.0f", outcome.p50(type), outcome.p99(type)) + (missed > 0 ? " ×\(missed)" : "")
            return text.padding(toLength: type == nil ? 14 : 22, withPad: " ", startingAt: 0)
        }
        return "  " + outcome.name.padding(toLength: 36, withPad: " ", startingAt: 0)
            + String(format: "%10d  %8.1f  ", outcome.calls, outcome.peakQPS) + cell(nil)
            + ScheduleSimulation.eventTypes.map { cell($0) }.joined()
            + String(format: "  %6d %6d", outcome.feedCalls, outcome.sweepCalls)
    }

    static func add(_ result: inout BenchResult, _ prefix: String, _ outcome: ScheduleSimulation.Outcome) {
        result.add("\(prefix)_calls", Double(outcome.calls))
        result.add("\(prefix)_p50_s", outcome.p50())
        result.add("\(prefix)_p99_s", outcome.p99())
        result.add("\(prefix)_missed", Double(outcome.missedTotal))
        result.add("\(prefix)_feed_calls", Double(outcome.feedCalls))
        result.add("\(prefix)_sweep_calls", Double(outcome.sweepCalls))
        result.add("\(prefix)_registered_by_detectors", Double(outcome.registeredByDetectors))
        for type in ScheduleSimulation.eventTypes {
            let name = short(type)
            result.add("\(prefix)_\(name)_p50_s", outcome.p50(type))
            result.add("\(prefix)_\(name)_p99_s", outcome.p99(type))
            result.add("\(prefix)_\(name)_missed", Double(outcome.missed[type] ?? 0))
        }
    }
}
