/// Expected change rate of a usable certificate, learned only from what polls observed.
///
/// A change is anything a routine poll exists to catch: a verification (a single voucher's, or one
/// use of a times card) or a refund. The estimate for a certificate at `now` is
///
///     rate = hazard(kind, age) × hourFactor(store, hour of day)      [changes per second]
///
/// - `hazard(kind, age)`: changes per second of exposure, piecewise constant over ``ageEdges``
///   (the age is the time since the watch was first seen — registration, normally the purchase —
///   or, for a times card already used, since its last use), per ``Kind`` (single voucher, times
///   card not yet used, times card used). Learned as events ÷ exposure: every pair of consecutive
///   observations of a usable certificate adds the seconds between them (until the change, if one
///   happened) as exposure, split over the age buckets it spans, and a change adds one event at the
///   age it happened (the verification's `verify_time`; the middle of the interval for a refund).
///   Cold start: ``Defaults/coldStartRate`` with the weight of ``Defaults/priorExposure`` seconds of
///   exposure in every bucket, so a bucket moves away from the default as it sees real exposure.
/// - `hourFactor`: the store's hour-of-day profile (24 one-hour bins of Unix time, UTC — the bins
///   are learned, so the time zone does not matter), 24 × the share of the store's verifications
///   in that hour, shrunk towards the profile of all stores with ``Defaults/hourShrinkage``
///   pseudo-verifications, which itself starts flat (``Defaults/hourPrior`` per bin). Stores are
///   keyed by the `poi_id` of the certificate's last verification, or else by its account
///   (`sku.account_id`, or the watch's); every verification counts for its `poi_id`, its account and
///   all stores.
///
/// Not a reader of any workload parameters: everything comes from ``learn(previous:current:firstSeen:account:)``.
package struct ChangeRateEstimator: Sendable {
    /// The kind of certificate, for the hazard table.
    package enum Kind: Int, Sendable, CaseIterable {
        /// A single-use voucher (no `time_card`).
        case voucher
        /// A times card with no use yet.
        case timesCardUnused
        /// A times card used at least once (its age runs from its last use).
        case timesCardUsed
    }

    /// Cold-start settings.
    package struct Defaults: Sendable, Hashable {
        /// Changes per second assumed before any observation (default 1 per 3 days).
        package var coldStartRate: Double
        /// Weight of the cold-start rate in each age bucket, seconds of exposure (default 1 day).
        package var priorExposure: Double
        /// Pseudo-verifications per hour bin of the all-stores profile (default 2: flat at first).
        package var hourPrior: Double
        /// Pseudo-verifications by which a store's profile is shrunk to the all-stores one (default 10).
        package var hourShrinkage: Double

        package init(
            coldStartRate: Double = 1.0 / 259_200, priorExposure: Double = 86_400, hourPrior: Double = 2,
            hourShrinkage: Double = 10
        ) {
            self.coldStartRate = coldStartRate
            self.priorExposure = priorExposure
            self.hourPrior = hourPrior
            self.hourShrinkage = hourShrinkage
        }
    }

    /// Upper edges of the age buckets, seconds: 15 min, 1 h, 3 h, 12 h, 1 d, 3 d, 7 d, 30 d (and beyond).
    package static let ageEdges: [Int64] = [900, 3_600, 10_800, 43_200, 86_400, 259_200, 604_800, 2_592_000]

    /// The cold-start settings.
    package let defaults: Defaults
    private var events: [Double]
    private var exposure: [Double]
    /// Verifications per UTC hour (index 0…23) and their total (index 24), per `poi_id`, per account, all stores.
    private var poiHours: [String: [Double]] = [:]
    private var accountHours: [String: [Double]] = [:]
    private var allHours: [Double]

    package init(defaults: Defaults = Defaults()) {
        self.defaults = defaults
        let cells = Kind.allCases.count * (Self.ageEdges.count + 1)
        events = [Double](repeating: 0, count: cells)
        exposure = [Double](repeating: 0, count: cells)
        allHours = [Double](repeating: 0, count: 25)
    }

    /// Changes observed so far (all kinds and ages).
    package var observedChanges: Double { events.reduce(0, +) }

    /// The kind of `snapshot`.
    package static func kind(of snapshot: CertificateSnapshot) -> Kind {
        guard let card = snapshot.timesCard else { return .voucher }
        return card.timesUsed > 0 || !snapshot.verifications.isEmpty ? .timesCardUsed : .timesCardUnused
    }

    /// Learns from two consecutive observations of one certificate (`previous.observedAt` <
    /// `current.observedAt`, Unix seconds). Only a certificate usable at `previous` was at risk of a
    /// change; anything else teaches nothing. `firstSeen`: when the watch was registered (Unix
    /// seconds); `account`: the watch's account id when the snapshot carries none.
    package mutating func learn(
        previous: CertificateSnapshot, current: CertificateSnapshot, firstSeen: Int64, account: String?
    ) {
        let start = previous.observedAt
        var end = current.observedAt
        guard end > start, previous.derivedState(at: start) == .available else { return }
        let known = Set(previous.verifications.map(\.verifyID))
        let fresh = current.verifications.filter { !known.contains($0.verifyID) }
        var changeAt: Int64?
        if let first = fresh.compactMap(\.verifyTime).min() {
            changeAt = min(max(first, start), end)
        } else if !fresh.isEmpty || (current.timesCard?.timesUsed ?? 0) > (previous.timesCard?.timesUsed ?? 0) {
            changeAt = start + (end - start) / 2
        } else if current.isRefunded, !previous.isRefunded {
            changeAt = start + (end - start) / 2
        }
        if let expireTime = previous.expireTime, expireTime < end, changeAt == nil { end = max(start, expireTime) }
        if let changeAt { end = changeAt }
        let kind = Self.kind(of: previous)
        let origin = Self.origin(of: previous, firstSeen: firstSeen)
        addExposure(kind: kind, from: start - origin, to: end - origin)
        if let changeAt {
            events[cell(kind, age: changeAt - origin)] += 1
        }
        for verification in fresh {
            guard let time = verification.verifyTime else { continue }
            let bin = Self.hourBin(time)
            let empty = [Double](repeating: 0, count: 25)
            allHours[bin] += 1
            allHours[24] += 1
            if let poi = verification.poiID {
                poiHours[poi, default: empty][bin] += 1
                poiHours[poi, default: empty][24] += 1
            }
            if let store = Self.account(of: current, fallback: account) {
                accountHours[store, default: empty][bin] += 1
                accountHours[store, default: empty][24] += 1
            }
        }
    }

    /// Expected changes per second of `snapshot` at `now` (0 unless usable at `now`).
    package func rate(of snapshot: CertificateSnapshot, firstSeen: Int64, account: String?, at now: Int64) -> Double {
        guard snapshot.derivedState(at: now) == .available else { return 0 }
        let kind = Self.kind(of: snapshot)
        let index = cell(kind, age: now - Self.origin(of: snapshot, firstSeen: firstSeen))
        let hazard = (events[index] + defaults.coldStartRate * defaults.priorExposure)
            / (exposure[index] + defaults.priorExposure)
        let poi = snapshot.verifications.last?.poiID
        return hazard * hourFactor(poi: poi, account: Self.account(of: snapshot, fallback: account), at: now)
    }

    /// The store's relative verification density in the hour of `now` (1 = the day's average).
    package func hourFactor(poi: String?, account: String?, at now: Int64) -> Double {
        let bin = Self.hourBin(now)
        let allShare = (allHours[bin] + defaults.hourPrior) / (allHours[24] + 24 * defaults.hourPrior)
        guard let counts = poi.flatMap({ poiHours[$0] }) ?? account.flatMap({ accountHours[$0] }) else {
            return 24 * allShare
        }
        return 24 * (counts[bin] + defaults.hourShrinkage * allShare) / (counts[24] + defaults.hourShrinkage)
    }

    // MARK: Internals

    private static func origin(of snapshot: CertificateSnapshot, firstSeen: Int64) -> Int64 {
        if snapshot.timesCard != nil, let last = snapshot.verifications.compactMap(\.verifyTime).max() {
            return max(firstSeen, last)
        }
        return firstSeen
    }

    private static func account(of snapshot: CertificateSnapshot, fallback: String?) -> String? {
        snapshot.sku?.accountID?.value ?? fallback
    }

    private static func hourBin(_ time: Int64) -> Int {
        Int(((time % 86_400) + 86_400) % 86_400 / 3_600)
    }

    private static func bucket(age: Int64) -> Int {
        ageEdges.firstIndex { age < $0 } ?? ageEdges.count
    }

    private func cell(_ kind: Kind, age: Int64) -> Int {
        kind.rawValue * (Self.ageEdges.count + 1) + Self.bucket(age: age)
    }

    private mutating func addExposure(kind: Kind, from: Int64, to: Int64) {
        var low = max(from, 0)
        let high = max(to, 0)
        while low < high {
            let bucket = Self.bucket(age: low)
            let edge = bucket < Self.ageEdges.count ? Self.ageEdges[bucket] : Int64.max
            let upper = min(high, edge)
            exposure[kind.rawValue * (Self.ageEdges.count + 1) + bucket] += Double(upper - low)
            low = upper
        }
    }
}
