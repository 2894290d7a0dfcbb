import Foundation

/// Running estimates that turn a QPS budget into the scale of the freshness-optimal routine
/// intervals (``PollPolicy/routineInterval(rate:scale:)``: interval = scale / √rate).
///
/// Polling watch *i* every `c / √λᵢ` seconds costs `Σ √λᵢ / c` calls per second; spending a routine
/// budget of `R` QPS fixes `c = Σ √λᵢ / R` (Cho & Garcia-Molina, ICDE 2003). Neither the sum nor
/// `R` is known exactly without reading every watch, so both are estimated from the polls
/// themselves, with exponential forgetting (``timeConstant``):
///
/// - `Σ √λᵢ ≈ activeWatches × m`, where `m` is the time-weighted mean of √rate over the polls:
///   each poll adds `Δt × √λ` and `Δt` (`Δt` = seconds since the watch's previous poll, capped), so
///   every watch weighs by the time it covers, however often it is polled;
/// - `R = (qps − targeted QPS) × ``fill``` (0.85), floored at ``minimumRoutineShare`` of `qps`, where the
///   targeted QPS (cancel-window and deadline polls, pushes) is the recent rate of polls scheduled
///   as targeted. The small headroom (1 − ``fill``) keeps the queue short, so the exact polls stay exact.
///
/// Before any poll, `m` is √``coldStartRate``: every watch gets `activeWatches / R` seconds.
package struct RateAllocation: Sendable, Hashable {
    /// Forgetting time of the running sums, seconds (default 600: store hours move rates within the hour).
    package var timeConstant: Double
    /// Share of the non-targeted budget planned for routine polls (default 0.85: without priority in
    /// the queue, the headroom is what keeps the cancel-window and deadline polls on time at peaks).
    package var fill: Double
    /// Routine polls always get at least this share of the budget (default 0.2).
    package var minimumRoutineShare: Double
    /// √rate assumed before any poll is recorded is √ of this, changes per second.
    package var coldStartRate: Double
    /// Longest `Δt` a single poll may add, seconds (a restart's gap is not coverage; default 6 h).
    package var maximumCoverage: Double

    private var weightedRoot: Double = 0
    private var weight: Double = 0
    private var targetedCount: Double = 0
    private var last: Int64?
    private var first: Int64?

    package init(
        timeConstant: Double = 600, fill: Double = 0.85, minimumRoutineShare: Double = 0.2,
        coldStartRate: Double = 1.0 / 259_200, maximumCoverage: Double = 21_600
    ) {
        self.timeConstant = timeConstant
        self.fill = fill
        self.minimumRoutineShare = minimumRoutineShare
        self.coldStartRate = coldStartRate
        self.maximumCoverage = maximumCoverage
    }

    /// Records a poll at `now` (Unix seconds) of a watch whose rate is now `rate` (changes per
    /// second) and whose previous poll was `covered` seconds earlier (0 for a first poll); `targeted`:
    /// whether the *next* poll it scheduled is a targeted one (cancel window, deadline) or a push hint.
    package mutating func record(now: Int64, covered: Int64, rate: Double, targeted: Bool) {
        decay(to: now)
        let span = min(Double(max(covered, 0)), maximumCoverage)
        weightedRoot += span * max(rate, 0).squareRoot()
        weight += span
        if targeted { targetedCount += 1 }
    }

    /// Records a poll at `now` that was not scheduled by the policy (a push hint made the watch due):
    /// it counts towards the targeted QPS.
    package mutating func recordUnscheduled(now: Int64) {
        decay(to: now)
        targetedCount += 1
    }

    /// Time-weighted mean √rate of the watches polled recently, √(1/s).
    package var meanRootRate: Double {
        weight > 0 ? weightedRoot / weight : coldStartRate.squareRoot()
    }

    /// Recent rate of targeted polls at `now`, per second.
    package func targetedQPS(now: Int64) -> Double {
        guard let first, let last else { return 0 }
        let factor = exp(-Double(max(now - last, 0)) / timeConstant)
        // The sum's window is the time constant, or less just after start.
        let window = timeConstant * (1 - exp(-Double(max(now - first, 1)) / timeConstant))
        return targetedCount * factor / window
    }

    /// The routine budget at `now` for a total of `qps`, calls per second.
    package func routineQPS(qps: Double, now: Int64) -> Double {
        max(qps * minimumRoutineShare, (qps - targetedQPS(now: now)) * fill)
    }

    /// The scale `c` of ``PollPolicy/routineInterval(rate:scale:)`` for `activeWatches` under `qps`
    /// at `now`: `activeWatches × meanRootRate / routineQPS`, seconds × √(1/s).
    package func scale(qps: Double, activeWatches: Int, now: Int64) -> Double {
        guard qps > 0 else { return .infinity }
        return Double(max(activeWatches, 1)) * meanRootRate / routineQPS(qps: qps, now: now)
    }

    private mutating func decay(to now: Int64) {
        if first == nil { first = now }
        if let last, now > last {
            let factor = exp(-Double(now - last) / timeConstant)
            weightedRoot *= factor
            weight *= factor
            targetedCount *= factor
        }
        last = max(last ?? now, now)
    }
}
