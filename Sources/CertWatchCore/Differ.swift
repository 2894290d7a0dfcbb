import DouyinModels

/// Turns two observations of a certificate into the transitions of DESIGN.md's event table.
/// Pure: no I/O, no clock of its own (`now` is an argument).
///
/// Rules:
/// - first sight → `discovered`, then everything the certificate already shows (each existing
///   verification, each times-card use, expiry, refund) as if seen against an empty certificate;
/// - one `verified` per new `verify_id`; one `times_card_used` per use (`times_used` 1 → 3 = uses 2 and 3);
/// - `verify_cancelled` per verification whose `verify_id` disappeared, or per use `times_used` went
///   down by (whichever is more);
/// - `cancel_window_closed` per verification whose `can_cancel` went true → false;
/// - `expiring_soon` when `now` passes `expire_time - lead` for each lead time, and `expired` when
///   `now` passes `expire_time`, while usable — from the clock, even if the response did not change;
/// - refunds from `status` as Douyin documents it (``CertificateStatusCode``): `refund_requested`
///   when it turns 3 — or turns 4, 5 or 6 from a state that was not a pending refund, so a request
///   no poll saw is still reported —, `refunding` on 6, `refunded` on 4 only, `refund_failed` on 5;
///   each request's events are numbered by ``CertificateSnapshot/refundRequests``;
/// - `status_changed` when raw `status` or `used_status_type` changes (an unknown status value is
///   reported this way only, never mapped to a guess);
/// - a snapshot not newer than the previous one yields nothing (never diffed backwards).
public struct Differ: Sendable {
    /// Lead times before `expire_time` at which `expiring_soon` fires, seconds (default one day).
    public var expiringLeadTimes: [Int64]

    /// The most `times_card_used` (or taken-back use) events one transition emits.
    public static let maxUsesPerTransition: Int64 = 100

    public init(expiringLeadTimes: [Int64] = [86_400]) {
        self.expiringLeadTimes = expiringLeadTimes
    }

    /// The transitions from `previous` (nil on first sight) to `current`, evaluated at `now`
    /// (Unix seconds; normally `current.observedAt`).
    public func transitions(from previous: CertificateSnapshot?, to current: CertificateSnapshot, now: Int64)
        -> [Transition]
    {
        if let previous, current.observedAt <= previous.observedAt { return [] }
        var result: [Transition] = []
        let before = previous ?? .empty(certificateID: current.certificateID)
        if previous == nil { result.append(Transition(type: .discovered, discriminator: "")) }

        // Verifications by verify_id.
        let beforeByID = Dictionary(before.verifications.map { ($0.verifyID, $0) }) { first, _ in first }
        let afterByID = Dictionary(current.verifications.map { ($0.verifyID, $0) }) { first, _ in first }
        for verification in current.verifications where beforeByID[verification.verifyID] == nil {
            result.append(Transition(type: .verified, discriminator: verification.verifyID, verification: verification))
        }
        for verification in current.verifications {
            if let old = beforeByID[verification.verifyID], old.canCancel, !verification.canCancel {
                result.append(
                    Transition(
                        type: .cancelWindowClosed, discriminator: verification.verifyID, verification: verification,
                        changes: [.init(field: "can_cancel", before: .bool(true), after: .bool(false))]))
            }
        }

        // Times-card uses.
        let usedBefore = before.timesCard?.timesUsed ?? 0
        let usedAfter = current.timesCard?.timesUsed ?? usedBefore
        if let card = current.timesCard, usedAfter > usedBefore {
            // At most `maxUsesPerTransition` events (the latest uses): a garbled or absurd counter
            // (the documented example says times_used ≈ 4.5e18) must not produce billions of events.
            for number in max(usedBefore + 1, usedAfter - Self.maxUsesPerTransition + 1)...usedAfter {
                let verification = current.verifications.indices.contains(Int(number - 1))
                    ? current.verifications[Int(number - 1)] : nil
                result.append(
                    Transition(
                        type: .timesCardUsed, discriminator: "use-\(number)" + (verification.map { ":\($0.verifyID)" } ?? ""),
                        verification: verification,
                        use: TimesCardUse(number: number, timesUsed: usedAfter, timesCount: card.timesCount),
                        changes: [.init(field: "times_card.times_used", before: .int(usedBefore), after: .int(usedAfter))]))
            }
        }

        // Cancelled verifications: vanished verify_ids, or uses taken back.
        let vanished = before.verifications.filter { afterByID[$0.verifyID] == nil }
        for verification in vanished {
            result.append(
                Transition(type: .verifyCancelled, discriminator: verification.verifyID, verification: verification))
        }
        let usesTakenBack = max(usedBefore - usedAfter, 0)
        if usesTakenBack > Int64(vanished.count), let card = current.timesCard {
            let first = usedBefore - Int64(vanished.count)
            for number in stride(from: first, to: max(usedAfter, first - Self.maxUsesPerTransition), by: -1) {
                result.append(
                    Transition(
                        type: .verifyCancelled, discriminator: "use-\(number)@\(before.observedAt)",
                        use: TimesCardUse(number: number, timesUsed: usedAfter, timesCount: card.timesCount),
                        changes: [.init(field: "times_card.times_used", before: .int(usedBefore), after: .int(usedAfter))]))
            }
        }

        // Refund and raw status.
        let round = "request-\(carried(current, from: previous).refundRequests)"
        let statusChange = [FieldChange(field: "status", before: JSONValue(before.status), after: JSONValue(current.status))]
        if Self.isNewRefundRequest(from: before.status, to: current.status) {
            result.append(Transition(type: .refundRequested, discriminator: round, changes: statusChange))
        }
        if current.status == CertificateStatusCode.refunding, before.status != CertificateStatusCode.refunding {
            result.append(Transition(type: .refunding, discriminator: round, changes: statusChange))
        }
        if current.isRefunded, !before.isRefunded {
            result.append(Transition(type: .refunded, discriminator: "", changes: statusChange))
        }
        if current.status == CertificateStatusCode.refundFailed, before.status != CertificateStatusCode.refundFailed {
            result.append(Transition(type: .refundFailed, discriminator: round, changes: statusChange))
        }
        if previous != nil, before.status != current.status || before.usedStatusType != current.usedStatusType {
            var changes: [FieldChange] = []
            if before.status != current.status {
                changes.append(.init(field: "status", before: JSONValue(before.status), after: JSONValue(current.status)))
            }
            if before.usedStatusType != current.usedStatusType {
                changes.append(
                    .init(
                        field: "used_status_type", before: JSONValue(before.usedStatusType),
                        after: JSONValue(current.usedStatusType)))
            }
            // Identified by the values and the latest verification, so the same change seen through a
            // different sequence of polls (retries, a restart) has the same id, and a repeat after a
            // cancel and a new verification does not.
            let discriminator =
                "status:\(before.status.map(String.init) ?? "-")->\(current.status.map(String.init) ?? "-");"
                + "used:\(before.usedStatusType.map(String.init) ?? "-")->\(current.usedStatusType.map(String.init) ?? "-");"
                + "last_verify:\(current.verifications.last?.verifyID ?? "-")"
            result.append(Transition(type: .statusChanged, discriminator: discriminator, changes: changes))
        }

        // Clock-driven: expiring soon and expired, while still usable.
        if let expireTime = current.expireTime, current.derivedState(at: now) != .refunded, !current.isFullyUsed {
            let seenBefore = previous?.observedAt
            for lead in expiringLeadTimes.sorted(by: >) where lead > 0 {
                let threshold = expireTime - lead
                if now >= threshold, now <= expireTime, seenBefore.map({ $0 < threshold }) ?? true {
                    result.append(
                        Transition(type: .expiringSoon, discriminator: "lead-\(lead)", leadTime: lead))
                }
            }
            if now > expireTime, seenBefore.map({ $0 <= expireTime }) ?? true {
                result.append(Transition(type: .expired, discriminator: ""))
            }
        }
        return result
    }

    /// `current` with what certwatch carries over from `previous` (the same certificate's last
    /// snapshot): ``CertificateSnapshot/refundRequests``. Store this, not `current`.
    public func carried(_ current: CertificateSnapshot, from previous: CertificateSnapshot?) -> CertificateSnapshot {
        var copy = current
        let before = previous?.refundRequests ?? 0
        copy.refundRequests = before + (Self.isNewRefundRequest(from: previous?.status, to: current.status) ? 1 : 0)
        return copy
    }

    /// Whether `status` going `from` → `to` shows a new refund request: it turned 3, 4, 5 or 6
    /// from a status that was not a pending refund (3, 6) nor refunded (4).
    static func isNewRefundRequest(from: Int64?, to: Int64?) -> Bool {
        let refundStatuses: Set<Int64> = [
            CertificateStatusCode.refundRequested, CertificateStatusCode.refunded, CertificateStatusCode.refundFailed,
            CertificateStatusCode.refunding,
        ]
        let pendingOrDone: Set<Int64> = [
            CertificateStatusCode.refundRequested, CertificateStatusCode.refunding, CertificateStatusCode.refunded,
        ]
        guard let to, refundStatuses.contains(to), to != from else { return false }
        return from.map { !pendingOrDone.contains($0) } ?? true
    }
}

extension CertificateSnapshot {
    /// A certificate with nothing on it, used as "before" on first sight.
    static func empty(certificateID: String) -> CertificateSnapshot {
        var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID(certificateID), raw: .null), observedAt: Int64.min)
        snapshot.state = .available
        return snapshot
    }
}
