import CertWatchCore
import Foundation

/// The workload's true change hazard of a watch — what ``ChangeRateEstimator`` tries to learn — for
/// the `schedule-efficiency` oracle: ``AdaptiveSchedule``'s √-rate allocation fed these instead of
/// learned rates is the bound polling alone reaches with perfect knowledge of the rates.
///
/// "True" means the conditional hazard given what a poll can observe (the kind of certificate, its
/// purchase or last use, its store, the clock) and no change since: the mixture of
/// ``TimelineGenerator``'s branches, filtered forward in steps of ``step`` seconds. It does not know a
/// watch's hidden branch or delay (that would be knowing the future, not the rate):
///
/// - single voucher: used soon (0.45: waiting for the store's first busy moment, intensity λ(t) =
///   the store's hourly profile ÷ its open-hour mean per hour), later (0.20: a log-normal delay,
///   median 3 days, σ 0.8, then the next busy moment), refunded (0.10: log-normal, median 1 day,
///   σ 1), never (0.25);
/// - times card not yet used: first use soon or later (0.475 each), refunded 0.05;
/// - times card used: the next use after max(log-normal median 4 days σ 0.7, 1 h) from the last
///   use, then the next busy moment.
///
/// hazard(step) = P(change in the step | none before) ÷ step, in changes per second; a voucher whose
/// verification was cancelled never changes again in the model (0).
struct OracleHazard: Sendable {
    /// Table resolution, seconds (λ is constant per hour; 900 s divides it).
    static let step: Int64 = 900
    /// Ages tabulated: 30 days; older ages use the last step.
    static let steps = Int(30 * 86_400 / step)
    static let origins = Int(86_400 / step)

    enum Kind: Int, CaseIterable { case voucher, cardUnused, cardUsed }

    /// Per store: index of its profile in `profiles`.
    let storeProfile: [Int]
    /// hazard[((kind × profiles + profile) × origins + origin slot) × steps + age step], per second.
    let table: [Float]
    let profileCount: Int

    init(stores: [ScheduleSimulation.Store], generator: TimelineGenerator) {
        var profiles: [[Double]] = []
        var storeProfile: [Int] = []
        for store in stores {
            if let known = profiles.firstIndex(of: store.profile) { storeProfile.append(known) } else {
                profiles.append(store.profile)
                storeProfile.append(profiles.count - 1)
            }
        }
        self.storeProfile = storeProfile
        profileCount = profiles.count
        let step = Double(Self.step)
        func logNormalCDF(_ x: Double, median: Double, sigma: Double) -> Double {
            x <= 0 ? 0 : 0.5 * (1 + erf(log(x / median) / (sigma * 2.0.squareRoot())))
        }
        var table = [Float](repeating: 0, count: Kind.allCases.count * profiles.count * Self.origins * Self.steps)
        for kind in Kind.allCases {
            // Branch weights: waiting for a busy moment from the start, a delay then a busy moment, a
            // refund, never. Delay and refund distributions (CDF of the age).
            let (soon, later, refund, never): (Double, Double, Double, Double) =
                switch kind {
                case .voucher: (0.45, 0.20, 0.10, 0.25)
                case .cardUnused: (0.475, 0.475, 0.05, 0)
                case .cardUsed: (0, 1, 0, 0)
                }
            func delayCDF(_ age: Double) -> Double {
                switch kind {
                case .voucher, .cardUnused: logNormalCDF(age, median: 3 * 86_400, sigma: 0.8)
                case .cardUsed: age < Double(generator.cancelWindow) ? 0 : logNormalCDF(age, median: 4 * 86_400, sigma: 0.7)
                }
            }
            func refundCDF(_ age: Double) -> Double { age < 60 ? 0 : logNormalCDF(age, median: 86_400, sigma: 1) }
            for (number, profile) in profiles.enumerated() {
                let open = profile.filter { $0 > 0 }
                let mean = open.reduce(0, +) / Double(open.count)
                for origin in 0..<Self.origins {
                    var armed = soon  // waiting for the next busy moment
                    var waiting = later  // delay not yet over
                    var refundable = refund
                    let base = ((kind.rawValue * profiles.count + number) * Self.origins + origin) * Self.steps
                    for age in 0..<Self.steps {
                        let start = Double(age) * step
                        let hour = ((origin + age) * Int(Self.step) / 3_600) % 24
                        let intensity = profile[hour] / mean / 3_600
                        let survival = armed + waiting + refundable + never
                        let arming = later * (delayCDF(start + step) - delayCDF(start))
                        let refunding = refund * (refundCDF(start + step) - refundCDF(start))
                        // Armed mass (plus, on average, half the step for what arms during it) meets a busy moment.
                        let used = (armed + arming / 2) * (1 - exp(-intensity * step))
                        armed += arming - used
                        waiting -= arming
                        refundable -= refunding
                        table[base + age] = survival > 0 ? Float(max(0, used + refunding) / (survival * step)) : 0
                    }
                }
            }
        }
        self.table = table
    }

    /// The true hazard of `watch` at `now` given its snapshot `observed` there, changes per second
    /// (0 unless usable).
    func rate(of watch: ScheduleSimulation.SimulatedWatch, observed: CertificateSnapshot, at now: Int64) -> Double {
        guard observed.derivedState(at: now) == .available else { return 0 }
        // A cancelled verification: this voucher never changes again in the model.
        if watch.uses.contains(where: { ($0.cancelledAt ?? .max) <= now }) { return 0 }
        let kind: Kind
        var origin = watch.registeredAt
        if watch.timesCount == nil {
            kind = .voucher
        } else if let last = observed.verifications.compactMap(\.verifyTime).max() {
            kind = .cardUsed
            origin = last
        } else {
            kind = .cardUnused
        }
        let slot = Int((origin % 86_400) / Self.step)
        let age = min(Self.steps - 1, max(0, Int((now - origin) / Self.step)))
        let index = ((kind.rawValue * profileCount + storeProfile[watch.store]) * Self.origins + slot) * Self.steps + age
        return Double(table[index])
    }
}
