extension DouyinClient {
    /// 订单查询: one page of the orders of `query.accountID` (`GET /goodlife/v1/trade/order/query/`),
    /// sending `account_id` and `Rpc-Transit-Life-Account` like ``queryCertificates(_:)``.
    /// Throws ``DouyinAPIError`` classified like the certificate query (e.g. 2119003 `slowDown`,
    /// 2119005 / 2190004 / 2100005 `permanent`), with `extra.logid`.
    public func queryOrders(_ query: OrderQuery) async throws(DouyinAPIError) -> OrderQueryPage {
        try await call(
            path: DouyinListAPI.orderQueryPath, query: query.queryItems, accountID: query.accountID,
            read: OrderQueryPage.read)
    }

    /// 验券历史查询: one page of the verifications of `query.accountID`, cancelled ones included
    /// (`GET /goodlife/v1/fulfilment/certificate/verify_record/query/`). Throws ``DouyinAPIError``
    /// as ``queryOrders(_:)`` does.
    public func queryVerifyRecords(_ query: VerifyRecordQuery) async throws(DouyinAPIError) -> VerifyRecordPage {
        try await call(
            path: DouyinListAPI.verifyRecordQueryPath, query: query.queryItems, accountID: query.accountID,
            read: VerifyRecordPage.read)
    }

    /// Every order of `query`'s window, from `query.pageNum` on, page by page, at most `maxPages`
    /// pages (at least 1). Orders are de-duplicated by `order_id` (a later copy wins, in the place of
    /// the first). Full pages are followed (full: as many orders as the smaller of the asked and the
    /// answered `page_size`, so a page Douyin capped below the asked size is not taken for the last);
    /// a short page ends; an empty page is followed while `total` says more remain, at most three in
    /// a row (then a warning).
    ///
    /// Throws ``DouyinAPIError``: any page's error; ``DouyinPagingProblem/tooManyPages(_:)`` when more
    /// remain after `maxPages`; ``DouyinPagingProblem/pageDidNotAdvance(requested:answered:)`` when
    /// Douyin answers another page than asked, or a page of orders already read (all class `retry`).
    /// A `total` that disagrees with what the pages held is a warning.
    /// - Parameter beforePage: awaited before each page's request (the caller's quota: a token per page).
    /// - Returns: the orders, how many pages were read, every warning, the last page's `logid`.
    public func allOrders(
        _ query: OrderQuery, maxPages: Int = 100, beforePage: @Sendable () async throws -> Void = {}
    ) async throws(DouyinAPIError) -> (
        orders: [DouyinOrder], pages: Int, warnings: [DouyinDecodeWarning], logid: String?
    ) {
        var loop = PageLoop(maxPages: maxPages)
        var request = query
        var orders = UniqueItems<DouyinOrder>()
        var warnings: [DouyinDecodeWarning] = []
        var total: Int?
        var logid: String?
        while true {
            try await Self.pace(beforePage)
            let page = try await queryOrders(request)
            logid = page.logid ?? logid
            warnings += page.warnings
            total = page.total ?? total
            var fresh = 0
            for order in page.orders where orders.add(order, id: order.orderID) { fresh += 1 }
            guard
                let next = try loop.nextPage(
                    requested: request.pageNum, size: min(request.pageSize, page.pageSize ?? request.pageSize),
                    answered: page.pageNum, count: page.orders.count,
                    fresh: fresh, seen: orders.count, total: page.total, logid: logid)
            else { break }
            request.pageNum = next
        }
        warnings += loop.finish(total: total, collected: orders.count, path: "data.page.total")
        return (orders.items, loop.pages, warnings, logid)
    }

    /// Every verification of `query`'s window, from `query.cursor` on, page by page (the next page
    /// starts after the last record's `cursor`), at most `maxPages` pages (at least 1). Records are
    /// de-duplicated by `verify_id` (a later copy wins, in the place of the first). `has_more`
    /// decides when present, else a full page is followed; an empty page that says more is asked for
    /// again with the same cursor, at most three in a row (then a warning).
    ///
    /// Throws ``DouyinAPIError``: any page's error; ``DouyinPagingProblem/tooManyPages(_:)`` when more
    /// remain after `maxPages`; ``DouyinPagingProblem/repeatedCursor(_:)`` when a page ends on a cursor
    /// already asked for (all class `retry`). A `total` that disagrees with what the pages held is a warning.
    /// - Parameter beforePage: awaited before each page's request (the caller's quota: a token per page).
    /// - Returns: the records, how many pages were read, every warning, the last page's `logid`.
    public func allVerifyRecords(
        _ query: VerifyRecordQuery, maxPages: Int = 100, beforePage: @Sendable () async throws -> Void = {}
    ) async throws(DouyinAPIError) -> (
        records: [VerifyHistoryRecord], pages: Int, warnings: [DouyinDecodeWarning], logid: String?
    ) {
        var loop = PageLoop(maxPages: maxPages)
        var request = query
        var records = UniqueItems<VerifyHistoryRecord>()
        var warnings: [DouyinDecodeWarning] = []
        var total: Int?
        var logid: String?
        while true {
            try await Self.pace(beforePage)
            let page = try await queryVerifyRecords(request)
            logid = page.logid ?? logid
            warnings += page.warnings
            total = page.total ?? total
            for record in page.records { records.add(record, id: record.verifyID) }
            guard
                let next = try loop.nextCursor(
                    cursor: request.cursor, size: request.size, count: page.records.count, last: page.nextCursor,
                    hasMore: page.hasMore, logid: logid)
            else { break }
            request.cursor = next
        }
        warnings += loop.finish(total: total, collected: records.count, path: "data.total")
        return (records.items, loop.pages, warnings, logid)
    }

    /// Runs a page loop's `beforePage` (the caller's quota: it waits for a token). Its error — a
    /// cancellation — ends the loop as a `retry` error.
    static func pace(_ beforePage: @Sendable () async throws -> Void) async throws(DouyinAPIError) {
        do {
            try await beforePage()
        } catch {
            throw DouyinAPIError(errorClass: .retry, source: .transport, detail: "stopped before the next page: \(error)")
        }
    }
}
