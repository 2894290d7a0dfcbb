import DouyinOpenAPI
import Foundation
import Testing

/// 订单查询 and 验券历史查询 answers in the shapes the public SDKs show (SKIT.FlurlHttpClient.ByteDance
/// `GoodLifeTradeOrderQueryV1Response`, `GoodLifeFulfilmentCertificateVerifyRecordQueryV1Response`;
/// TonySteven/genesis-meituan-openapi-java-sdk `FulfilmentVerifyRecordResponse`), and drifted.
@Suite("Decoding list API answers")
struct ListDecodingTests {
    @Test("the SDK-shaped order page decodes: ids, times, certificates, page, logid, raw")
    func orderFixture() throws {
        let page = try OrderQueryPage.read(body: try fixture("order_query_ok.json"))
        #expect(page.warnings.isEmpty)
        #expect(page.orders.map(\.orderID) == ["1068123456789012345", "1068123456789012399"])
        #expect(page.pageNum == 1 && page.pageSize == 10 && page.total == 2)
        #expect(page.logid == "202412141738028C85F64D6CE2147AF797")
        #expect(page.serverNow == 1_734_169_082)
        let first = page.orders[0]
        #expect(first.orderStatus == 1 && first.orderType == 1)
        #expect(first.payAmount == 9_900 && first.originalAmount == 12_900 && first.paymentDiscount == 0)
        #expect(first.createOrderTime == 1_734_167_990 && first.updateOrderTime == 1_734_169_000 && first.payTime == 1_734_168_000)
        #expect(first.skuID == "1780000000000000003" && first.skuName == "双人下午茶套餐" && first.poiID == "7100000000000000101")
        #expect(first.count == 2)
        #expect(first.certificates.map(\.certificateID) == ["7230000000000000011", "7230000000000000012"])
        #expect(first.certificates[1] == OrderCertificate(
            certificateID: "7230000000000000012", orderItemID: "1068123456789012347", itemStatus: 4,
            itemUpdateTime: 1_734_168_500, refundAmount: 4_950, refundTime: 1_734_168_500))
        // Contacts (personal data) are only in the raw JSON.
        #expect(first.raw["contacts"]?[0]?["phone"] == .string("138****0000"))
    }

    @Test("the SDK-shaped verify-record page decodes; a cancelled record carries cancel_time")
    func verifyRecordFixture() throws {
        let page = try VerifyRecordPage.read(body: try fixture("verify_record_query_ok.json"))
        #expect(page.warnings.isEmpty)
        #expect(page.total == 2 && page.hasMore == nil)
        #expect(page.nextCursor == "1734165000002")
        let (standing, cancelled) = (page.records[0], page.records[1])
        #expect(standing.verifyID == "7300000000000000101" && standing.certificateID == "7230000000000000011")
        #expect(standing.verifyType == 2 && standing.verifyTime == 1_734_160_000 && standing.status == 1)
        #expect(standing.canCancel == false && standing.cancelTime == nil && !standing.isCancelled)
        #expect(standing.code == "123456789012" && standing.encryptedCode == "CgwIARCtHhiEICABKAESLgos")
        #expect(standing.amount?.payAmount == 4_950 && standing.amount?.couponPayAmount == 4_950)
        #expect(standing.sku?.skuID == "1780000000000000003" && standing.sku?.title == "双人下午茶套餐")
        #expect(standing.orderID == nil)
        #expect(cancelled.status == VerifyHistoryRecord.statusCancelled && cancelled.cancelTime == 1_734_165_600)
        #expect(cancelled.isCancelled && cancelled.verifyType == 4)
        #expect(cancelled.raw["cancel_time"] == .int(1_734_165_600))
    }

    @Test("an order's store from poi.poi_id when there is no top-level poi_id")
    func poiObject() throws {
        let text = #"""
            {"data":{"orders":[{"order_id":"1","poi":{"poi_id":"7100000000000000102","poi_name":"二店"}},
             {"order_id":"2","poi_id":"7100000000000000101","poi":{"poi_id":"7100000000000000102"}}],
             "page":{"page_num":1,"page_size":10,"total":2},"error_code":0},"extra":{"error_code":0,"logid":"L"}}
            """#
        let page = try OrderQueryPage.read(body: body(text))
        #expect(page.orders.map(\.poiID) == ["7100000000000000102", "7100000000000000101"])
    }

    @Test("ids as numbers beyond 2^53 stay exact; numbers as strings read; milliseconds normalized with warnings")
    func driftedOrder() throws {
        let text = #"""
            {"data":{"orders":[{"order_id":1068123456789012345,"order_status":"1","create_order_time":1734167990000,
             "update_order_time":"1734169000123","pay_amount":"9007199254740993","poi_id":7100000000000000101,"sku_id":1780000000000000003,
             "biz_type":1010,"certificate":[{"certificate_id":7230000000000000011,"item_status":"2","item_update_time":1734169000000,
             "refund_amount":"0","order_item_id":1068123456789012346}]}],"page":{"page_num":"1","page_size":"10","total":"1"},
             "error_code":"0"},"extra":{"error_code":"0","logid":"L1","now":"1734169082000"}}
            """#
        let page = try OrderQueryPage.read(body: body(text))
        let order = try #require(page.orders.first)
        #expect(order.orderID == "1068123456789012345")
        #expect(order.orderStatus == 1)
        #expect(order.createOrderTime == 1_734_167_990 && order.updateOrderTime == 1_734_169_000)
        #expect(order.payAmount == 9_007_199_254_740_993)
        #expect(order.poiID == "7100000000000000101" && order.skuID == "1780000000000000003")
        #expect(order.certificates.first?.certificateID == "7230000000000000011")
        #expect(order.certificates.first?.orderItemID == "1068123456789012346")
        #expect(order.certificates.first?.itemUpdateTime == 1_734_169_000)
        #expect(order.raw["biz_type"] == .int(1_010))
        #expect(page.total == 1 && page.pageNum == 1 && page.serverNow == 1_734_169_082)
        #expect(
            Set(page.warnings.map(\.path)) == [
                "data.orders[0].create_order_time", "data.orders[0].update_order_time",
                "data.orders[0].certificate[0].item_update_time", "extra.now",
            ])
    }

    @Test("records_v2 is preferred over records; cursor and ids as numbers; milliseconds normalized")
    func driftedRecords() throws {
        let text = #"""
            {"data":{"records":[{"cursor":"1","verify_id":"1","verify_time":1}],
             "records_v2":[{"cursor":17341600000001,"verify_id":7300000000000000101,"certificate_id":7230000000000000011,
             "verify_time":"1734160000000","cancel_time":1734160600000,"status":"2","can_cancel":"false","verify_type":"2"}],
             "total":"1","has_more":false},"extra":{"logid":"L2"}}
            """#
        let page = try VerifyRecordPage.read(body: body(text))
        let record = try #require(page.records.first)
        #expect(page.records.count == 1)
        #expect(record.cursor == "17341600000001" && record.verifyID == "7300000000000000101")
        #expect(record.certificateID == "7230000000000000011")
        #expect(record.verifyTime == 1_734_160_000 && record.cancelTime == 1_734_160_600)
        #expect(record.status == 2 && record.canCancel == false && record.verifyType == 2)
        #expect(page.total == 1 && page.hasMore == false)
        #expect(page.warnings.contains { $0.path == "data.records_v2" })
        #expect(page.warnings.contains { $0.path == "data.records_v2[0].verify_time" })
    }

    @Test("a descriptive field of the wrong type is set aside with a warning, not an error")
    func setAside() throws {
        let text = #"""
            {"data":{"orders":[{"order_id":"1","sku_name":123,"pay_amount":"面议","certificate":[]}],"page":{"total":"many"}}}
            """#
        let page = try OrderQueryPage.read(body: body(text))
        #expect(page.orders.first?.skuName == nil && page.orders.first?.payAmount == nil)
        #expect(page.total == nil)
        #expect(Set(page.warnings.map(\.path)) == ["data.orders[0].sku_name", "data.orders[0].pay_amount", "data.page.total"])
    }

    /// The error reading `text` as an order page (`orders`) or a verify-record page, `nil` when it reads.
    static func readError(_ text: String, orders: Bool, httpStatus: Int = 200) -> DouyinAPIError? {
        do {
            if orders {
                _ = try OrderQueryPage.read(body: body(text), httpStatus: httpStatus)
            } else {
                _ = try VerifyRecordPage.read(body: body(text), httpStatus: httpStatus)
            }
            return nil
        } catch {
            return error
        }
    }

    @Test("a field state is derived from that cannot be read is a decoding error naming its JSON path")
    func unreadableStateFields() throws {
        let cases: [(String, Bool, String)] = [
            (#"{"data":{"orders":[{"order_id":"1","update_order_time":"soon"}]}}"#, true, "data.orders[0].update_order_time"),
            (#"{"data":{"orders":[{"order_status":1}]}}"#, true, "data.orders[0].order_id"),
            (#"{"data":{"orders":[{"order_id":"1","certificate":[{"item_status":1}]}]}}"#, true,
             "data.orders[0].certificate[0].certificate_id"),
            (#"{"data":{"orders":[],"page":{"page_num":"first"}}}"#, true, "data.page.page_num"),
            (#"{"data":{"records":[{"cursor":"1","verify_id":"9"}]}}"#, false, "data.records[0].verify_time"),
            (#"{"data":{"records":[{"verify_id":"9","verify_time":1}]}}"#, false, "data.records[0].cursor"),
            (#"{"data":{"records":[{"cursor":"1","verify_id":"9","verify_time":1,"status":"x"}]}}"#, false,
             "data.records[0].status"),
            (#"{"data":{"records":[],"has_more":"perhaps"}}"#, false, "data.has_more"),
        ]
        for (text, orders, path) in cases {
            let error = try #require(Self.readError(text, orders: orders), "\(path)")
            #expect(error.errorClass == .retry)
            guard case .invalidBody(let decoding?) = error.source else {
                Issue.record("\(path): \(error)")
                continue
            }
            #expect(decoding.path == path)
        }
    }

    @Test("business errors and HTTP errors are classified as for the certificate query, with the logid")
    func errors() throws {
        let deauthorized = #"{"data":{"error_code":2119005,"description":"应用未获商家授权"},"extra":{"error_code":2119005,"logid":"L9"}}"#
        for orders in [true, false] {
            let error = try #require(Self.readError(deauthorized, orders: orders))
            #expect(error.errorClass == .permanent && error.code == 2_119_005 && error.logid == "L9")
            #expect(error.errorDescription == "应用未获商家授权")
            let slow = Self.readError(#"{"data":{"error_code":2119003},"extra":{"error_code":"2119003"}}"#, orders: orders)
            #expect(slow?.errorClass == .slowDown)
            #expect(Self.readError("<html>502</html>", orders: orders)?.errorClass == .retry)
            #expect(Self.readError("<html>502</html>", orders: orders, httpStatus: 502)?.source == .httpStatus(502))
        }
    }
}
