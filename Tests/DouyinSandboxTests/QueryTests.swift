import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite struct QueryTests {
    @Test func bothQueryFamiliesAndGetAnswer() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let ids = order.certificates.map(\.certificateID)
            for api in CertificateAPI.allCases {
                let byOrder = try await harness.client.queryCertificates(CertificateQuery(api: api, orderID: order.orderID))
                #expect(byOrder.certificates.map(\.certificateID.value) == ids)
                #expect(byOrder.serverNow == 1_734_169_082)
                #expect(byOrder.logid?.hasPrefix("20241214173802") == true)
                let byCode = try await harness.client.queryCertificates(
                    CertificateQuery(api: api, encryptedCode: order.certificates[1].encryptedCode))
                #expect(byCode.certificates.map(\.certificateID.value) == [ids[1]])
            }
            let got = try await harness.client.getCertificate(encryptedCode: order.certificates[0].encryptedCode)
            #expect(got.certificates.map(\.certificateID.value) == [ids[0]])
            let voucher = try #require(got.certificates.first)
            #expect(voucher.status == CertificateStatusCode.unused)
            #expect(voucher.usedStatusType == CertificateStatusCode.notUsed)
            #expect(voucher.expireTime == Int64(1_734_169_082 + 86_400))
            #expect(voucher.amount?.payAmount.map { $0 > 0 } == true)
            #expect(voucher.reserveInfo?.orderReserveUserInfoList?.first?.phone?.hasPrefix("100") == true)
            // account_id filters by merchant.
            let ok = try await harness.client.queryCertificates(
                CertificateQuery(orderID: order.orderID, accountID: "7100000000000000001"))
            #expect(ok.certificates.count == 2)
        }
    }

    @Test func adminChangesShowInTheNextQuery() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let (status, _) = try await harness.json(
                .POST, "/sandbox/certificates/\(order.certificates[0].certificateID)/verify", body: #"{"poi_id": 7100000000000000202}"#)
            #expect(status == 200)
            let result = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            let voucher = try #require(result.certificates.first)
            #expect(voucher.status == CertificateStatusCode.used)
            #expect(voucher.usedStatusType == CertificateStatusCode.fullyUsed)
            #expect(voucher.verify?.poiID?.value == "7100000000000000202")
            #expect(voucher.verify?.canCancel == true)
            #expect(voucher.verifyRecords?.count == 1)
            // Time alone changes what the next query shows (no stale cached encoding).
            try await harness.sandbox.advanceClock(by: 3_600)
            let later = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(later.certificates.first?.verify?.canCancel == false)
            try await harness.sandbox.advanceClock(by: 86_400)
            let expired = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(expired.certificates.last?.status == CertificateStatusCode.unused)
            try await harness.sandbox.refund(certificateID: order.certificates[1].certificateID)
            let refunded = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(refunded.certificates.last?.status == CertificateStatusCode.refunded)
        }
    }

    @Test(arguments: [
        ("", 2_100_005), ("?order_id=1&encrypted_code=x", 2_100_005), ("?order_id=404", 2_119_001),
        ("?encrypted_code=nope", 2_119_001),
    ])
    func parameterAndLookupErrors(query: String, code: Int64) async throws {
        try await SandboxHarness.run { harness in
            let token = try await harness.token()
            let (status, json) = try await harness.json(
                .GET, CertificateAPI.compreRetail.queryPath + query, headers: [("access-token", token)])
            #expect(status == 200)
            #expect(json["extra"]?["error_code"]?.int == code)
            #expect(json["data"]?["error_code"]?.int == code)
            #expect(json["extra"]?["logid"]?.string?.count == 34)
            #expect(json["data"]?["certificates"] == nil)
        }
    }

    @Test func unknownOrderAndOtherAccountArePermanentForTheClient() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            for query in [CertificateQuery(orderID: "1068000000000000000"), CertificateQuery(orderID: order.orderID, accountID: "other")] {
                await #expect {
                    _ = try await harness.client.queryCertificates(query)
                } throws: { error in
                    guard let error = error as? DouyinAPIError else { return false }
                    return error.code == 2_119_001 && error.errorClass == .permanent && error.logid != nil
                }
            }
            await #expect {
                _ = try await harness.client.queryCertificates(CertificateQuery(orderID: "1", encryptedCode: "x"))
            } throws: { error in
                (error as? DouyinAPIError).map { $0.code == 2_100_005 && $0.errorClass == .permanent } ?? false
            }
        }
    }
}
