import DouyinOpenAPI

/// The kind of a sandbox certificate.
package enum CertificateKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A single-use voucher (提货券): one verification uses it up.
    case voucher
    /// A times card (次卡): `times_count` uses, one verification record each.
    case timesCard = "times_card"
}

/// One verification held by the sandbox (rendered as `verify` / `verify_records` entries).
package struct SandboxVerification: Sendable, Hashable, Codable {
    /// `verify_id`: unique per verification (a JSON string on the wire).
    package var verifyID: String
    /// `verify_time`: Unix seconds (sandbox clock).
    package var verifyTime: Int64
    /// `poi_id`: the store that verified (a JSON number on the wire).
    package var poiID: UInt64
    /// `times_card_serial_num`: the use number, 1-based (times cards only).
    package var serialNumber: Int64
    /// `verifier_unique_id`.
    package var verifierID: String
    /// `verify_type`: how it was verified (default ``VerifyChannel/qrScan``, 2).
    package var channel: VerifyChannel = .qrScan
    /// Set when a refund was requested after this verification: its cancel window closed then,
    /// for good (a rejected refund does not reopen it).
    package var closedByRefund = false
}

/// Where a certificate is in Douyin's refund flow. `status` follows from it (see ``VoucherStatus``):
/// requested → 3; approved → 6 (refunding) until `refundedAt`, then 4; rejected → 5 (usable again,
/// a later request may follow).
package enum RefundProgress: Sendable, Hashable {
    /// The buyer asked for a refund at `at` (Unix seconds); awaiting review (`status` 3).
    case requested(at: Int64)
    /// Approved at `at` (Unix seconds): refunding (`status` 6) until `refundedAt`, refunded (4) from then on.
    case approved(at: Int64, refundedAt: Int64)
    /// Rejected at `at` (Unix seconds): refund failed (`status` 5); the certificate is usable again.
    case rejected(at: Int64)
}

/// The sandbox's record of one certificate: what was sold and what happened to it.
///
/// Derived values (`status`, `used_status_type`, `can_cancel`) are not stored; they are computed
/// from this record and the clock by ``VoucherStatus`` when a certificate is read, so advancing the
/// clock changes them exactly as time would.
package struct SandboxCertificate: Sendable, Hashable {
    /// `certificate_id` (a JSON number on the wire).
    package var certificateID: UInt64
    /// The order it belongs to.
    package var orderID: String
    /// `code`: the plain 12-digit code. Rendered only once verified and no longer cancellable, as
    /// Douyin documents it (see ``VoucherLifecycle/showsCode(_:at:)``); admin answers always show it.
    package var code: String
    /// `encrypted_code`: URL-safe, as 验券准备 would return it.
    package var encryptedCode: String
    /// Voucher or times card.
    package var kind: CertificateKind
    /// How many uses it holds (1 for a voucher).
    package var timesCount: Int64
    /// `start_time`, Unix seconds.
    package var startTime: Int64
    /// `expire_time`, Unix seconds. An unused certificate reads as expired once the clock passes it.
    package var expireTime: Int64
    /// What the buyer paid for the whole certificate, fen.
    package var payAmount: Int64
    /// The list (market) price, fen.
    package var marketAmount: Int64
    /// `sku.title`.
    package var title: String
    /// `sku.sku_id`.
    package var skuID: String
    /// `sku.account_id`: the merchant account.
    package var accountID: String
    /// `book_info.book_poi_id`: the store the buyer picked (a JSON string on the wire).
    package var bookPoiID: UInt64
    /// `reserve_info`: the (fake) buyer.
    package var buyer: ReserveUser
    /// Verifications still standing (a cancelled verification is removed), oldest first.
    package var verifications: [SandboxVerification] = []
    /// The refund flow so far (`nil`: no refund was ever requested).
    package var refund: RefundProgress?
    /// Bumped by every change, so encoded answers can be cached.
    var revision = 0

    /// How many uses are consumed (`time_card.times_used`).
    package var timesUsed: Int64 { Int64(verifications.count) }

    /// When an approved refund is (or will be) refunded (`status` 4), Unix seconds; `nil` unless approved.
    package var refundedAt: Int64? {
        if case .approved(_, let refundedAt)? = refund { return refundedAt }
        return nil
    }

    /// Whether a refund is under review or approved (refunding or refunded): nothing else may
    /// happen to the certificate then.
    package var refundHolds: Bool {
        switch refund {
        case .requested, .approved: true
        case .rejected, nil: false
        }
    }

    /// Renders the certificate as Douyin would return it at sandbox time `now`.
    func rendered(at now: Int64) -> Certificate {
        let status = VoucherStatus(of: self, at: now)
        let records = verifications.map { record in
            VerifyRecord(
                verifyID: DouyinID(record.verifyID), certificateID: DouyinID(String(certificateID)),
                poiID: DouyinID(number: record.poiID), verifyTime: record.verifyTime, verifyType: record.channel.verifyType,
                canCancel: VoucherLifecycle.canCancel(record, of: self, at: now),
                timesCardSerialNum: kind == .timesCard ? record.serialNumber : nil, verifierUniqueID: record.verifierID)
        }
        let perUse = payAmount / max(timesCount, 1)
        let timeCard =
            kind == .timesCard
            ? TimeCard(
                timesCount: timesCount, timesUsed: timesUsed,
                serialAmountList: (1...max(timesCount, 1)).map {
                    SerialAmount(serialNumb: $0, amount: Self.amount(pay: perUse, market: marketAmount / max(timesCount, 1)))
                })
            : nil
        return Certificate(
            certificateID: DouyinID(number: certificateID), code: VoucherLifecycle.showsCode(self, at: now) ? code : nil,
            encryptedCode: encryptedCode,
            status: status.status, usedStatusType: status.usedStatusType, startTime: startTime, expireTime: expireTime,
            amount: Self.amount(pay: payAmount, market: marketAmount),
            sku: SKU(
                accountID: DouyinID(accountID), grouponType: 1, marketPrice: marketAmount,
                productID: DouyinID("p" + skuID), productOutID: "OUT-P-\(skuID.suffix(6))", skuID: DouyinID(skuID),
                skuOutID: "OUT-S-\(skuID.suffix(6))", soldStartTime: startTime - 86_400 * 30,
                thirdSkuID: DouyinID("T" + skuID.suffix(8)), title: title),
            timeCard: timeCard, verify: records.last, verifyRecords: records.isEmpty ? nil : records,
            bookInfo: BookInfo(bookPoiID: DouyinID(String(bookPoiID)), bookProductNumber: 1),
            reserveInfo: ReserveInfo(orderReserveUserInfoList: [buyer]),
            useTimeInfo: UseTimeInfo(
                useTimeType: 1, timePeriodList: [DailyTimeRange(startTime: "09:00", endTime: "22:00", endTimeIsNextDay: false)]),
            // The closed day before sale keeps the documented shape without restricting use: the
            // sandbox does not enforce no-use dates or off-peak ranges.
            notAvailableTimeInfo: NotAvailableTimeInfo(
                canNoUseDate: [TimeSpan(startTime: startTime - 86_400, endTime: startTime - 1)], canNoUseWeekDay: [],
                fulfilEnable: false),
            offPeakDiscountInfo: OffPeakDiscountInfo(
                hasOffPeakDiscount: false, idleTimeLimitType: 1,
                offPeakTimeRange: [
                    OffPeakTimeRange(
                        startTime: startTime, endTime: expireTime, weekDayList: [1, 2, 3, 4, 5],
                        dailyTimeRangeList: [DailyTimeRange(startTime: "14:00", endTime: "17:00", endTimeIsNextDay: false)])
                ]),
            periodCard: PeriodCard(periodType: 0),
            additionalMap: ["1": .string(orderID)],
            raw: .null)  // `raw` is not encoded; skipping its default saves an encode + parse per certificate
    }

    static func amount(pay: Int64, market: Int64) -> Amount {
        Amount(
            brandTicketAmount: 0, couponPayAmount: pay, listMarketAmount: market, merchantTicketAmount: 0,
            originListMarketAmount: market, originalAmount: market, originalCurrency: "CNY", payAmount: pay,
            paymentDiscountAmount: 0, platformDiscountAmount: market - pay)
    }
}
