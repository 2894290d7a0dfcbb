import DouyinOpenAPI
import Foundation
import Hummingbird
import Synchronization
import Testing

/// The list APIs go through the certificate query's `call`: the same headers, `account_id`, and
/// one token refresh on 2190008.
extension ClientTokenProviderTests {
    @Test("list queries send account_id and Rpc-Transit-Life-Account, their parameters, and refresh the token once")
    func listRequests() async throws {
        let stub = TokenStub()
        let router = Router()
        stub.install(on: router)
        let seen = Mutex<[String]>([])
        for (path, name) in [(DouyinListAPI.orderQueryPath, "order_query_ok.json"), (DouyinListAPI.verifyRecordQueryPath, "verify_record_query_ok.json")] {
            router.get(RouterPath(path)) { request, _ -> Response in
                let token = request.headers[.init("access-token")!] ?? ""
                let account = request.headers[.init("Rpc-Transit-Life-Account")!] ?? "-"
                seen.withLock { $0.append("\(token) \(account) \(request.uri.query ?? "")") }
                if token == "clt.1" {
                    return TokenStub.json(#"{"data":{"error_code":2190008,"description":"access_token过期"},"extra":{"error_code":2190008,"logid":"L1"}}"#)
                }
                return TokenStub.json(String(decoding: try fixture(name), as: UTF8.self))
            }
        }
        try await withClient(router) { client async throws in
            let orders = try await client.queryOrders(
                OrderQuery(accountID: "acc", pageNum: 2, updateOrderStartTime: 1_734_160_000, updateOrderEndTime: 1_734_169_000))
            #expect(orders.orders.count == 2 && orders.logid == "202412141738028C85F64D6CE2147AF797")
            let records = try await client.queryVerifyRecords(
                VerifyRecordQuery(accountID: "acc", cursor: "17", size: 5, poiIDs: ["p1", "p2"], startTime: 1_734_100_000))
            #expect(records.records.count == 2)
            #expect(
                seen.withLock { $0 } == [
                    "clt.1 acc account_id=acc&page_num=2&page_size=100&update_order_start_time=1734160000&update_order_end_time=1734169000",
                    "clt.2 acc account_id=acc&page_num=2&page_size=100&update_order_start_time=1734160000&update_order_end_time=1734169000",
                    "clt.2 acc account_id=acc&cursor=17&size=5&poi_ids=p1,p2&start_time=1734100000",
                ])
            #expect(stub.count == 2)
        }
    }

    @Test("a page Douyin capped below the asked page_size is not taken for the last one")
    func cappedPageSize() async throws {
        let stub = TokenStub()
        let router = Router()
        stub.install(on: router)
        router.get(RouterPath(DouyinListAPI.orderQueryPath)) { request, _ -> Response in
            let page = Int(request.uri.queryParameters["page_num"] ?? "1") ?? 1
            let ids = page == 1 ? ["1", "2"] : page == 2 ? ["3"] : []
            let orders = ids.map { #"{"order_id":"\#($0)","certificate":[]}"# }.joined(separator: ",")
            return TokenStub.json(#"{"data":{"orders":[\#(orders)],"page":{"page_num":\#(page),"page_size":2,"total":3}},"extra":{"logid":"L\#(page)"}}"#)
        }
        try await withClient(router) { client async throws in
            let all = try await client.allOrders(OrderQuery(accountID: "acc"))
            #expect(all.orders.map(\.orderID) == ["1", "2", "3"])
            #expect(all.pages == 2 && all.warnings.isEmpty && all.logid == "L2")
        }
    }
}
