import Foundation

/// One certificate (券) as returned by Douyin's certificate query APIs, in the shape of the
/// documented example of 券状态批量查询 (`/goodlife/v1/compre_retail/fulfilment/certificate/query/`),
/// which the group-buying query (`/goodlife/v1/fulfilment/certificate/query/`) and the single
/// certificate get (`/goodlife/v1/fulfilment/certificate/get/`) share.
///
/// Amounts are integers in fen (分); times are Unix seconds; ids are ``DouyinID``.
/// Fields certwatch derives state from (`certificate_id`, `status`, `expire_time`, `time_card`
/// counts, `verify`/`verify_records` with their `verify_id`, `verify_time` and `can_cancel`) must
/// be readable or decoding throws with the JSON path. Every other field (`code`, `amount`, `sku`,
/// `book_info`, `reserve_info`, `use_time_info`, …) is read leniently: a value of an unexpected
/// shape reads as `nil`, survives in ``raw`` and is reported as a ``DouyinDecodeWarning``.
/// Integers may arrive as decimal strings (read exactly); times of 10^12 or more are milliseconds.
public struct Certificate: Sendable, Hashable {
    /// `certificate_id`: the stable id of the certificate (a JSON number on the wire).
    public var certificateID: DouyinID
    /// `code`: the plain certificate code (券码); Douyin omits it until the certificate is verified
    /// and no longer cancellable.
    public var code: String?
    /// `encrypted_code`: the encrypted code (加密券码) from 验券准备.
    public var encryptedCode: String?
    /// `status`: Douyin's status code (see ``CertificateStatusCode``; unknown values are carried as is).
    public var status: Int64?
    /// `used_status_type`: Douyin's raw usage status code (carried as is).
    public var usedStatusType: Int64?
    /// `start_time`: start of validity, Unix seconds.
    public var startTime: Int64?
    /// `expire_time`: end of validity, Unix seconds.
    public var expireTime: Int64?
    /// `amount`: the money of this certificate, in fen.
    public var amount: Amount?
    /// `sku`: the product sold.
    public var sku: SKU?
    /// `time_card`: present for times cards (次卡).
    public var timeCard: TimeCard?
    /// `verify`: the latest verification (核销), when verified.
    public var verify: VerifyRecord?
    /// `verify_records`: every verification, for times cards one per use.
    public var verifyRecords: [VerifyRecord]?
    /// `book_info`: booking details.
    public var bookInfo: BookInfo?
    /// `reserve_info`: reservation holders (personal data: mask before showing).
    public var reserveInfo: ReserveInfo?
    /// `use_time_info`: daily usable periods.
    public var useTimeInfo: UseTimeInfo?
    /// `not_available_time_info`: dates and week days the certificate cannot be used.
    public var notAvailableTimeInfo: NotAvailableTimeInfo?
    /// `off_peak_discount_info`: off-peak discount periods.
    public var offPeakDiscountInfo: OffPeakDiscountInfo?
    /// `period_card`: period card details.
    public var periodCard: PeriodCard?
    /// `additional_map`: free-form extra values.
    public var additionalMap: [String: JSONValue]?
    /// The certificate's JSON as received (after merging `certificates` and `certificates_v2`),
    /// unknown fields included. Not part of the encoded model; set by
    /// ``CertificateQueryResponse/decode(_:)`` (a certificate decoded on its own has `.null`).
    public var raw: JSONValue

    /// Creates a certificate; `raw` defaults to the model's own wire encoding.
    public init(
        certificateID: DouyinID, code: String? = nil, encryptedCode: String? = nil, status: Int64? = nil,
        usedStatusType: Int64? = nil, startTime: Int64? = nil, expireTime: Int64? = nil, amount: Amount? = nil,
        sku: SKU? = nil, timeCard: TimeCard? = nil, verify: VerifyRecord? = nil, verifyRecords: [VerifyRecord]? = nil,
        bookInfo: BookInfo? = nil, reserveInfo: ReserveInfo? = nil, useTimeInfo: UseTimeInfo? = nil,
        notAvailableTimeInfo: NotAvailableTimeInfo? = nil, offPeakDiscountInfo: OffPeakDiscountInfo? = nil,
        periodCard: PeriodCard? = nil, additionalMap: [String: JSONValue]? = nil, raw: JSONValue? = nil
    ) {
        self.certificateID = certificateID
        self.code = code
        self.encryptedCode = encryptedCode
        self.status = status
        self.usedStatusType = usedStatusType
        self.startTime = startTime
        self.expireTime = expireTime
        self.amount = amount
        self.sku = sku
        self.timeCard = timeCard
        self.verify = verify
        self.verifyRecords = verifyRecords
        self.bookInfo = bookInfo
        self.reserveInfo = reserveInfo
        self.useTimeInfo = useTimeInfo
        self.notAvailableTimeInfo = notAvailableTimeInfo
        self.offPeakDiscountInfo = offPeakDiscountInfo
        self.periodCard = periodCard
        self.additionalMap = additionalMap
        self.raw = .null
        self.raw = raw ?? DouyinJSON.wireValue(of: self)
    }

    enum CodingKeys: String, CodingKey {
        case certificateID = "certificate_id", code, encryptedCode = "encrypted_code", status
        case usedStatusType = "used_status_type", startTime = "start_time", expireTime = "expire_time"
        case amount, sku, timeCard = "time_card", verify, verifyRecords = "verify_records"
        case bookInfo = "book_info", reserveInfo = "reserve_info", useTimeInfo = "use_time_info"
        case notAvailableTimeInfo = "not_available_time_info", offPeakDiscountInfo = "off_peak_discount_info"
        case periodCard = "period_card", additionalMap = "additional_map"
    }
}

extension Certificate: Codable {
    /// Reads a certificate. State is derived from `certificate_id`, `status`, `expire_time`,
    /// `time_card` counts and `verify`/`verify_records`: those throw `DecodingError` when they cannot
    /// be read. Every other field with an unexpected type reads as `nil` with a warning (see
    /// ``DouyinDecodeWarning``). Integers may be decimal strings; times of 10^12 or more are
    /// milliseconds and are normalized to seconds with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        certificateID = try c.decode(DouyinID.self, forKey: .certificateID)
        if certificateID.value.trimmingCharacters(in: .whitespaces).isEmpty {
            throw DecodingError.dataCorruptedError(
                forKey: .certificateID, in: c, debugDescription: "certificate_id must not be empty")
        }
        status = try c.decodeIfPresent(Int64.self, forKey: .status)
        expireTime = try c.decodeUnixTimeIfPresent(forKey: .expireTime, warningsFrom: decoder)
        timeCard = try c.decodeIfPresent(TimeCard.self, forKey: .timeCard)
        verify = try c.decodeIfPresent(VerifyRecord.self, forKey: .verify)
        verifyRecords = try c.decodeIfPresent([VerifyRecord].self, forKey: .verifyRecords)
        code = c.decodeSetAsideIfPresent(String.self, forKey: .code, warningsFrom: decoder)
        encryptedCode = c.decodeSetAsideIfPresent(String.self, forKey: .encryptedCode, warningsFrom: decoder)
        usedStatusType = c.decodeSetAsideIfPresent(Int64.self, forKey: .usedStatusType, warningsFrom: decoder)
        startTime = c.decodeSetAsideUnixTimeIfPresent(forKey: .startTime, warningsFrom: decoder)
        amount = c.decodeSetAsideIfPresent(Amount.self, forKey: .amount, warningsFrom: decoder)
        sku = c.decodeSetAsideIfPresent(SKU.self, forKey: .sku, warningsFrom: decoder)
        bookInfo = c.decodeSetAsideIfPresent(BookInfo.self, forKey: .bookInfo, warningsFrom: decoder)
        reserveInfo = c.decodeSetAsideIfPresent(ReserveInfo.self, forKey: .reserveInfo, warningsFrom: decoder)
        useTimeInfo = c.decodeSetAsideIfPresent(UseTimeInfo.self, forKey: .useTimeInfo, warningsFrom: decoder)
        notAvailableTimeInfo = c.decodeSetAsideIfPresent(
            NotAvailableTimeInfo.self, forKey: .notAvailableTimeInfo, warningsFrom: decoder)
        offPeakDiscountInfo = c.decodeSetAsideIfPresent(
            OffPeakDiscountInfo.self, forKey: .offPeakDiscountInfo, warningsFrom: decoder)
        periodCard = c.decodeSetAsideIfPresent(PeriodCard.self, forKey: .periodCard, warningsFrom: decoder)
        additionalMap = c.decodeSetAsideIfPresent([String: JSONValue].self, forKey: .additionalMap, warningsFrom: decoder)
        // Filled in by the response decoder from its parsed tree (decoding it here again is slow).
        raw = .null
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(certificateID, forKey: .certificateID)
        try c.encodeIfPresent(code, forKey: .code)
        try c.encodeIfPresent(encryptedCode, forKey: .encryptedCode)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(usedStatusType, forKey: .usedStatusType)
        try c.encodeIfPresent(startTime, forKey: .startTime)
        try c.encodeIfPresent(expireTime, forKey: .expireTime)
        try c.encodeIfPresent(amount, forKey: .amount)
        try c.encodeIfPresent(sku, forKey: .sku)
        try c.encodeIfPresent(timeCard, forKey: .timeCard)
        try c.encodeIfPresent(verify, forKey: .verify)
        try c.encodeIfPresent(verifyRecords, forKey: .verifyRecords)
        try c.encodeIfPresent(bookInfo, forKey: .bookInfo)
        try c.encodeIfPresent(reserveInfo, forKey: .reserveInfo)
        try c.encodeIfPresent(useTimeInfo, forKey: .useTimeInfo)
        try c.encodeIfPresent(notAvailableTimeInfo, forKey: .notAvailableTimeInfo)
        try c.encodeIfPresent(offPeakDiscountInfo, forKey: .offPeakDiscountInfo)
        try c.encodeIfPresent(periodCard, forKey: .periodCard)
        try c.encodeIfPresent(additionalMap, forKey: .additionalMap)
    }
}

extension Certificate {
    /// Every verification Douyin reports, `verify` and `verify_records` together, one per
    /// `verify_id` (a record in both lists counts once; the `verify_records` copy wins).
    public var allVerifications: [VerifyRecord] {
        var seen = Set<DouyinID>()
        var result: [VerifyRecord] = []
        for record in (verifyRecords ?? []) + (verify.map { [$0] } ?? []) {
            let key = record.verifyID ?? DouyinID("")
            if record.verifyID == nil || seen.insert(key).inserted { result.append(record) }
        }
        return result
    }
}

/// `amount`: money of a certificate or of one times-card use. All amounts are integers in fen (分).
public struct Amount: Codable, Sendable, Hashable {
    /// `brand_ticket_amount`, fen.
    public var brandTicketAmount: Int64?
    /// `coupon_pay_amount`, fen.
    public var couponPayAmount: Int64?
    /// `list_market_amount`, fen.
    public var listMarketAmount: Int64?
    /// `merchant_ticket_amount`, fen.
    public var merchantTicketAmount: Int64?
    /// `origin_list_market_amount`, fen.
    public var originListMarketAmount: Int64?
    /// `original_amount`, fen.
    public var originalAmount: Int64?
    /// `original_currency`: currency code of the original amount.
    public var originalCurrency: String?
    /// `pay_amount`: what the buyer paid, fen.
    public var payAmount: Int64?
    /// `payment_discount_amount`, fen.
    public var paymentDiscountAmount: Int64?
    /// `platform_discount_amount`, fen.
    public var platformDiscountAmount: Int64?

    public init(
        brandTicketAmount: Int64? = nil, couponPayAmount: Int64? = nil, listMarketAmount: Int64? = nil,
        merchantTicketAmount: Int64? = nil, originListMarketAmount: Int64? = nil, originalAmount: Int64? = nil,
        originalCurrency: String? = nil, payAmount: Int64? = nil, paymentDiscountAmount: Int64? = nil,
        platformDiscountAmount: Int64? = nil
    ) {
        self.brandTicketAmount = brandTicketAmount
        self.couponPayAmount = couponPayAmount
        self.listMarketAmount = listMarketAmount
        self.merchantTicketAmount = merchantTicketAmount
        self.originListMarketAmount = originListMarketAmount
        self.originalAmount = originalAmount
        self.originalCurrency = originalCurrency
        self.payAmount = payAmount
        self.paymentDiscountAmount = paymentDiscountAmount
        self.platformDiscountAmount = platformDiscountAmount
    }

    enum CodingKeys: String, CodingKey {
        case brandTicketAmount = "brand_ticket_amount", couponPayAmount = "coupon_pay_amount"
        case listMarketAmount = "list_market_amount", merchantTicketAmount = "merchant_ticket_amount"
        case originListMarketAmount = "origin_list_market_amount", originalAmount = "original_amount"
        case originalCurrency = "original_currency", payAmount = "pay_amount"
        case paymentDiscountAmount = "payment_discount_amount", platformDiscountAmount = "platform_discount_amount"
    }
}

/// `sku`: the product a certificate was sold for.
public struct SKU: Codable, Sendable, Hashable {
    /// `account_id`: the merchant account.
    public var accountID: DouyinID?
    /// `groupon_type`: Douyin's product type code.
    public var grouponType: Int64?
    /// `market_price`, fen.
    public var marketPrice: Int64?
    /// `product_id`.
    public var productID: DouyinID?
    /// `product_out_id`: the merchant's own product id.
    public var productOutID: String?
    /// `sku_id`.
    public var skuID: DouyinID?
    /// `sku_out_id`: the merchant's own sku id.
    public var skuOutID: String?
    /// `sold_start_time`, Unix seconds.
    public var soldStartTime: Int64?
    /// `third_sku_id`.
    public var thirdSkuID: DouyinID?
    /// `title`: product title.
    public var title: String?

    public init(
        accountID: DouyinID? = nil, grouponType: Int64? = nil, marketPrice: Int64? = nil, productID: DouyinID? = nil,
        productOutID: String? = nil, skuID: DouyinID? = nil, skuOutID: String? = nil, soldStartTime: Int64? = nil,
        thirdSkuID: DouyinID? = nil, title: String? = nil
    ) {
        self.accountID = accountID
        self.grouponType = grouponType
        self.marketPrice = marketPrice
        self.productID = productID
        self.productOutID = productOutID
        self.skuID = skuID
        self.skuOutID = skuOutID
        self.soldStartTime = soldStartTime
        self.thirdSkuID = thirdSkuID
        self.title = title
    }

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", grouponType = "groupon_type", marketPrice = "market_price"
        case productID = "product_id", productOutID = "product_out_id", skuID = "sku_id", skuOutID = "sku_out_id"
        case soldStartTime = "sold_start_time", thirdSkuID = "third_sku_id", title
    }

    /// Reads `sku`; `sold_start_time` in milliseconds is normalized to seconds with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accountID = try c.decodeIfPresent(DouyinID.self, forKey: .accountID)
        grouponType = try c.decodeIfPresent(Int64.self, forKey: .grouponType)
        marketPrice = try c.decodeIfPresent(Int64.self, forKey: .marketPrice)
        productID = try c.decodeIfPresent(DouyinID.self, forKey: .productID)
        productOutID = try c.decodeIfPresent(String.self, forKey: .productOutID)
        skuID = try c.decodeIfPresent(DouyinID.self, forKey: .skuID)
        skuOutID = try c.decodeIfPresent(String.self, forKey: .skuOutID)
        soldStartTime = try c.decodeUnixTimeIfPresent(forKey: .soldStartTime, warningsFrom: decoder)
        thirdSkuID = try c.decodeIfPresent(DouyinID.self, forKey: .thirdSkuID)
        title = try c.decodeIfPresent(String.self, forKey: .title)
    }
}

/// One verification (核销): the `verify` object and each entry of `verify_records`.
public struct VerifyRecord: Codable, Sendable, Hashable {
    /// `verify_id`: unique per verification; the key of `certificate.verified` events.
    public var verifyID: DouyinID?
    /// `certificate_id`: a string here, unlike at the top level.
    public var certificateID: DouyinID?
    /// `poi_id`: the store (门店) that verified.
    public var poiID: DouyinID?
    /// `verify_time`: Unix seconds.
    public var verifyTime: Int64?
    /// `verify_type`: how it was verified (1 buyer, 2 QR scan, 3 code typed, 4 open API; see ``VerifyChannel``).
    public var verifyType: Int64?
    /// `can_cancel`: whether the verification can still be cancelled (撤销核销).
    public var canCancel: Bool?
    /// `times_card_serial_num`: which use of a times card this was.
    public var timesCardSerialNum: Int64?
    /// `verifier_unique_id`: who verified.
    public var verifierUniqueID: String?

    public init(
        verifyID: DouyinID? = nil, certificateID: DouyinID? = nil, poiID: DouyinID? = nil, verifyTime: Int64? = nil,
        verifyType: Int64? = nil, canCancel: Bool? = nil, timesCardSerialNum: Int64? = nil,
        verifierUniqueID: String? = nil
    ) {
        self.verifyID = verifyID
        self.certificateID = certificateID
        self.poiID = poiID
        self.verifyTime = verifyTime
        self.verifyType = verifyType
        self.canCancel = canCancel
        self.timesCardSerialNum = timesCardSerialNum
        self.verifierUniqueID = verifierUniqueID
    }

    enum CodingKeys: String, CodingKey {
        case verifyID = "verify_id", certificateID = "certificate_id", poiID = "poi_id", verifyTime = "verify_time"
        case verifyType = "verify_type", canCancel = "can_cancel", timesCardSerialNum = "times_card_serial_num"
        case verifierUniqueID = "verifier_unique_id"
    }

    /// Reads a verification. `verify_id`, `verify_time` (milliseconds normalized with a warning) and
    /// `can_cancel` are what events derive from and throw when unreadable; the other fields read as
    /// `nil` with a warning when their type is unexpected.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        verifyID = try c.decodeIfPresent(DouyinID.self, forKey: .verifyID)
        verifyTime = try c.decodeUnixTimeIfPresent(forKey: .verifyTime, warningsFrom: decoder)
        canCancel = try c.decodeIfPresent(Bool.self, forKey: .canCancel)
        certificateID = c.decodeSetAsideIfPresent(DouyinID.self, forKey: .certificateID, warningsFrom: decoder)
        poiID = c.decodeSetAsideIfPresent(DouyinID.self, forKey: .poiID, warningsFrom: decoder)
        verifyType = c.decodeSetAsideIfPresent(Int64.self, forKey: .verifyType, warningsFrom: decoder)
        timesCardSerialNum = c.decodeSetAsideIfPresent(Int64.self, forKey: .timesCardSerialNum, warningsFrom: decoder)
        verifierUniqueID = c.decodeSetAsideIfPresent(String.self, forKey: .verifierUniqueID, warningsFrom: decoder)
    }
}

/// `time_card`: a times card (次卡) usable `times_count` times.
public struct TimeCard: Codable, Sendable, Hashable {
    /// `times_count`: how many uses the card holds.
    public var timesCount: Int64?
    /// `times_used`: how many have been used.
    public var timesUsed: Int64?
    /// `serial_amount_list`: the money of each use.
    public var serialAmountList: [SerialAmount]?

    public init(timesCount: Int64? = nil, timesUsed: Int64? = nil, serialAmountList: [SerialAmount]? = nil) {
        self.timesCount = timesCount
        self.timesUsed = timesUsed
        self.serialAmountList = serialAmountList
    }

    enum CodingKeys: String, CodingKey {
        case timesCount = "times_count", timesUsed = "times_used", serialAmountList = "serial_amount_list"
    }

    /// Reads `time_card`: the counts throw when unreadable; `serial_amount_list` of an unexpected
    /// shape reads as `nil` with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timesCount = try c.decodeIfPresent(Int64.self, forKey: .timesCount)
        timesUsed = try c.decodeIfPresent(Int64.self, forKey: .timesUsed)
        serialAmountList = c.decodeSetAsideIfPresent([SerialAmount].self, forKey: .serialAmountList, warningsFrom: decoder)
    }
}

/// An entry of `time_card.serial_amount_list`: the amount of use number `serial_numb`.
public struct SerialAmount: Codable, Sendable, Hashable {
    /// `serial_numb`: the use number.
    public var serialNumb: Int64?
    /// `amount`: fen.
    public var amount: Amount?

    public init(serialNumb: Int64? = nil, amount: Amount? = nil) {
        self.serialNumb = serialNumb
        self.amount = amount
    }

    enum CodingKeys: String, CodingKey {
        case serialNumb = "serial_numb", amount
    }
}

/// `book_info`: booking details.
public struct BookInfo: Codable, Sendable, Hashable {
    /// `book_poi_id`.
    public var bookPoiID: DouyinID?
    /// `book_product_number`.
    public var bookProductNumber: Int64?

    public init(bookPoiID: DouyinID? = nil, bookProductNumber: Int64? = nil) {
        self.bookPoiID = bookPoiID
        self.bookProductNumber = bookProductNumber
    }

    enum CodingKeys: String, CodingKey {
        case bookPoiID = "book_poi_id", bookProductNumber = "book_product_number"
    }
}

/// `reserve_info`: who reserved. Personal data: certwatch masks it before showing or sending.
public struct ReserveInfo: Codable, Sendable, Hashable {
    /// `order_reserve_user_info_list`.
    public var orderReserveUserInfoList: [ReserveUser]?

    public init(orderReserveUserInfoList: [ReserveUser]? = nil) {
        self.orderReserveUserInfoList = orderReserveUserInfoList
    }

    enum CodingKeys: String, CodingKey {
        case orderReserveUserInfoList = "order_reserve_user_info_list"
    }
}

/// An entry of `reserve_info.order_reserve_user_info_list`.
public struct ReserveUser: Codable, Sendable, Hashable {
    /// `name`.
    public var name: String?
    /// `phone`.
    public var phone: String?
    /// `credential_type`: kind of identity document.
    public var credentialType: Int64?
    /// `credential_numb`: identity document number.
    public var credentialNumb: String?

    public init(name: String? = nil, phone: String? = nil, credentialType: Int64? = nil, credentialNumb: String? = nil) {
        self.name = name
        self.phone = phone
        self.credentialType = credentialType
        self.credentialNumb = credentialNumb
    }

    enum CodingKeys: String, CodingKey {
        case name, phone, credentialType = "credential_type", credentialNumb = "credential_numb"
    }
}

/// A daily time range (`time_period_list`, `daily_time_range_list` entries); times are "HH:mm" text.
public struct DailyTimeRange: Codable, Sendable, Hashable {
    /// `start_time`.
    public var startTime: String?
    /// `end_time`.
    public var endTime: String?
    /// `end_time_is_next_day`.
    public var endTimeIsNextDay: Bool?

    public init(startTime: String? = nil, endTime: String? = nil, endTimeIsNextDay: Bool? = nil) {
        self.startTime = startTime
        self.endTime = endTime
        self.endTimeIsNextDay = endTimeIsNextDay
    }

    enum CodingKeys: String, CodingKey {
        case startTime = "start_time", endTime = "end_time", endTimeIsNextDay = "end_time_is_next_day"
    }
}

/// `use_time_info`: when in the day the certificate can be used.
public struct UseTimeInfo: Codable, Sendable, Hashable {
    /// `use_time_type`.
    public var useTimeType: Int64?
    /// `time_period_list`.
    public var timePeriodList: [DailyTimeRange]?

    public init(useTimeType: Int64? = nil, timePeriodList: [DailyTimeRange]? = nil) {
        self.useTimeType = useTimeType
        self.timePeriodList = timePeriodList
    }

    enum CodingKeys: String, CodingKey {
        case useTimeType = "use_time_type", timePeriodList = "time_period_list"
    }
}

/// A span of Unix seconds (`can_no_use_date` entries).
public struct TimeSpan: Codable, Sendable, Hashable {
    /// `start_time`, Unix seconds.
    public var startTime: Int64?
    /// `end_time`, Unix seconds.
    public var endTime: Int64?

    public init(startTime: Int64? = nil, endTime: Int64? = nil) {
        self.startTime = startTime
        self.endTime = endTime
    }

    enum CodingKeys: String, CodingKey {
        case startTime = "start_time", endTime = "end_time"
    }

    /// Reads a span; milliseconds are normalized to seconds with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startTime = try c.decodeUnixTimeIfPresent(forKey: .startTime, warningsFrom: decoder)
        endTime = try c.decodeUnixTimeIfPresent(forKey: .endTime, warningsFrom: decoder)
    }
}

/// `not_available_time_info`: when the certificate cannot be used.
public struct NotAvailableTimeInfo: Codable, Sendable, Hashable {
    /// `can_no_use_date`.
    public var canNoUseDate: [TimeSpan]?
    /// `can_no_use_week_day`.
    public var canNoUseWeekDay: [Int64]?
    /// `fulfil_enable`.
    public var fulfilEnable: Bool?

    public init(canNoUseDate: [TimeSpan]? = nil, canNoUseWeekDay: [Int64]? = nil, fulfilEnable: Bool? = nil) {
        self.canNoUseDate = canNoUseDate
        self.canNoUseWeekDay = canNoUseWeekDay
        self.fulfilEnable = fulfilEnable
    }

    enum CodingKeys: String, CodingKey {
        case canNoUseDate = "can_no_use_date", canNoUseWeekDay = "can_no_use_week_day", fulfilEnable = "fulfil_enable"
    }
}

/// `off_peak_discount_info`: off-peak discount periods.
public struct OffPeakDiscountInfo: Codable, Sendable, Hashable {
    /// `has_off_peak_discount`.
    public var hasOffPeakDiscount: Bool?
    /// `idle_time_limit_type`.
    public var idleTimeLimitType: Int64?
    /// `off_peak_time_range`.
    public var offPeakTimeRange: [OffPeakTimeRange]?

    public init(
        hasOffPeakDiscount: Bool? = nil, idleTimeLimitType: Int64? = nil, offPeakTimeRange: [OffPeakTimeRange]? = nil
    ) {
        self.hasOffPeakDiscount = hasOffPeakDiscount
        self.idleTimeLimitType = idleTimeLimitType
        self.offPeakTimeRange = offPeakTimeRange
    }

    enum CodingKeys: String, CodingKey {
        case hasOffPeakDiscount = "has_off_peak_discount", idleTimeLimitType = "idle_time_limit_type"
        case offPeakTimeRange = "off_peak_time_range"
    }
}

/// An entry of `off_peak_discount_info.off_peak_time_range`.
public struct OffPeakTimeRange: Codable, Sendable, Hashable {
    /// `start_time`, Unix seconds.
    public var startTime: Int64?
    /// `end_time`, Unix seconds.
    public var endTime: Int64?
    /// `week_day_list`.
    public var weekDayList: [Int64]?
    /// `daily_time_range_list`.
    public var dailyTimeRangeList: [DailyTimeRange]?

    public init(
        startTime: Int64? = nil, endTime: Int64? = nil, weekDayList: [Int64]? = nil,
        dailyTimeRangeList: [DailyTimeRange]? = nil
    ) {
        self.startTime = startTime
        self.endTime = endTime
        self.weekDayList = weekDayList
        self.dailyTimeRangeList = dailyTimeRangeList
    }

    enum CodingKeys: String, CodingKey {
        case startTime = "start_time", endTime = "end_time", weekDayList = "week_day_list"
        case dailyTimeRangeList = "daily_time_range_list"
    }

    /// Reads a range; `start_time`/`end_time` in milliseconds are normalized with a warning.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startTime = try c.decodeUnixTimeIfPresent(forKey: .startTime, warningsFrom: decoder)
        endTime = try c.decodeUnixTimeIfPresent(forKey: .endTime, warningsFrom: decoder)
        weekDayList = try c.decodeIfPresent([Int64].self, forKey: .weekDayList)
        dailyTimeRangeList = try c.decodeIfPresent([DailyTimeRange].self, forKey: .dailyTimeRangeList)
    }
}

/// `period_card`: period card details.
public struct PeriodCard: Codable, Sendable, Hashable {
    /// `period_type`.
    public var periodType: Int64?

    public init(periodType: Int64? = nil) {
        self.periodType = periodType
    }

    enum CodingKeys: String, CodingKey {
        case periodType = "period_type"
    }
}
