import DouyinOpenAPI
import Foundation
import Testing

/// Answers that drift from Douyin's documented example, as third-party SDKs and samples show them.
@Suite("Decoding drifted Douyin answers")
struct DriftDecodingTests {
    /// Issue body 1: string error codes and a millisecond `extra.now` (string).
    static let stringCodes = #"""
        {"data":{"error_code":"0","description":"","certificates":[{"certificate_id":"7300000000000000021","encrypted_code":"E21","code":"C21","status":1,"start_time":1764000000,"expire_time":1766600000,"amount":{"pay_amount":100},"sku":{"title":"t"}}]},"extra":{"error_code":"0","logid":"L21","now":"1764400000123"}}
        """#

    /// Issue body 3: the same certificate with millisecond times.
    static let milliseconds = #"""
        {"data":{"error_code":0,"description":"","certificates":[{"certificate_id":"7300000000000000021","encrypted_code":"E21","code":"C21","status":1,"start_time":1764000000000,"expire_time":1766600000000,"amount":{"pay_amount":100},"sku":{"title":"t"}}]},"extra":{"error_code":0,"logid":"L21","now":1764400000}}
        """#

    @Test("string error codes and a string now in milliseconds: success, exact values, one warning")
    func stringErrorCodes() throws {
        let result = try CertificateQueryResult.read(body: body(Self.stringCodes))
        let certificate = try #require(result.certificates.first)
        #expect(certificate.certificateID == "7300000000000000021")
        #expect(certificate.status == 1)
        #expect(certificate.expireTime == 1_766_600_000)
        #expect(certificate.amount?.payAmount == 100)
        #expect(result.serverNow == 1_764_400_000)
        #expect(result.logid == "L21")
        #expect(result.warnings.map(\.path) == ["extra.now"])
        #expect(result.warnings.first?.message.contains("milliseconds") == true)
    }

    @Test("millisecond times are normalized to seconds, each with a warning naming its path")
    func millisecondTimes() throws {
        let result = try CertificateQueryResult.read(body: body(Self.milliseconds))
        let certificate = try #require(result.certificates.first)
        #expect(certificate.startTime == 1_764_000_000)
        #expect(certificate.expireTime == 1_766_600_000)
        #expect(
            Set(result.warnings.map(\.path))
                == ["data.certificates[0].start_time", "data.certificates[0].expire_time"])
        #expect(result.warnings.allSatisfy { $0.field.hasPrefix("data.certificates[].") })
    }

    @Test("every integer reads from a decimal string, exactly, beyond 2^53 too")
    func integersAsStrings() throws {
        let text = #"""
            {"data":{"certificates":[{"certificate_id":"9223372036854775807","status":"2","used_status_type":"2",
             "expire_time":"1766600000","amount":{"pay_amount":"9007199254740993","original_amount":"-5"},
             "time_card":{"times_count":"5","times_used":"5","serial_amount_list":[{"serial_numb":"1","amount":{"pay_amount":"20"}}]},
             "verify_records":[{"verify_id":"7212345678901234567","verify_time":"1764300000000","can_cancel":"false","poi_id":"18446744073709551615","verify_type":"2"}]}]},
             "extra":{"error_code":"0","sub_error_code":"0"}}
            """#
        let result = try CertificateQueryResult.read(body: body(text))
        let certificate = try #require(result.certificates.first)
        #expect(certificate.certificateID.value == "9223372036854775807")
        #expect(certificate.status == 2 && certificate.usedStatusType == 2)
        #expect(certificate.expireTime == 1_766_600_000)
        #expect(certificate.amount?.payAmount == 9_007_199_254_740_993)
        #expect(certificate.amount?.originalAmount == -5)
        #expect(certificate.timeCard?.timesCount == 5 && certificate.timeCard?.timesUsed == 5)
        #expect(certificate.timeCard?.serialAmountList?.first?.amount?.payAmount == 20)
        let record = try #require(certificate.verifyRecords?.first)
        #expect(record.verifyTime == 1_764_300_000)
        #expect(record.canCancel == false)
        #expect(record.poiID?.value == "18446744073709551615")
        #expect(record.verifyType == 2)
        #expect(result.warnings.map(\.path) == ["data.certificates[0].verify_records[0].verify_time"])
    }

    @Test("a state field that cannot be read is still an error naming the path")
    func stateFieldsStayStrict() throws {
        for (text, expected) in [
            (#"{"data":{"certificates":[{"certificate_id":1,"status":"refunded"}]}}"#,
             #"data.certificates[0].status: expected integer, found string "refunded""#),
            (#"{"data":{"certificates":[{"certificate_id":1,"expire_time":"soon"}]}}"#,
             #"data.certificates[0].expire_time: expected integer, found string "soon""#),
            (#"{"data":{"certificates":[{"certificate_id":1,"verify":{"verify_id":"v","can_cancel":"maybe"}}]}}"#,
             #"data.certificates[0].verify.can_cancel: expected boolean, found string "maybe""#),
            (#"{"data":{"certificates":[{"certificate_id":1,"time_card":{"times_count":"1.5"}}]}}"#,
             #"data.certificates[0].time_card.times_count: expected integer, found string "1.5""#),
            (#"{"data":{"error_code":"none"}}"#, #"data.error_code: expected integer, found string "none""#),
        ] {
            #expect {
                _ = try CertificateQueryResponse.decode(body(text))
            } throws: { error in
                (error as? DouyinDecodingError)?.description == expected
            }
        }
    }

    @Test("a block with several odd members keeps the readable ones, one warning per member")
    func setAsideMembers() throws {
        let text = #"""
            {"data":{"certificates":[{"certificate_id":1,"sku":{"market_price":"面议","groupon_type":[1],"title":"双人餐","sku_id":"9"},
             "time_card":{"times_count":3,"times_used":1,"serial_amount_list":[{"serial_numb":1,"amount":{"pay_amount":"x"}}]}}]}}
            """#
        let result = try CertificateQueryResult.read(body: body(text))
        let certificate = try #require(result.certificates.first)
        #expect(certificate.sku == SKU(skuID: "9", title: "双人餐"))
        #expect(certificate.timeCard?.serialAmountList == [SerialAmount(serialNumb: 1, amount: Amount())])
        #expect(
            Set(result.warnings.map(\.path)) == [
                "data.certificates[0].sku.market_price", "data.certificates[0].sku.groupon_type",
                "data.certificates[0].time_card.serial_amount_list[0].amount.pay_amount",
            ])
    }

    @Test("fields state is not derived from never fail: set aside, raw kept, warned with path and field")
    func setAside() throws {
        let text = #"""
            {"data":{"certificates":[{"certificate_id":1,"status":1,"code":12345,"sku":{"market_price":"cheap","title":"t"},
             "amount":[1,2],"book_info":"none","start_time":"today","used_status_type":{"x":1},
             "verify":{"verify_id":"v1","verify_time":1764300000,"can_cancel":true,"poi_id":[1],"verify_type":"qr"}}]},
             "extra":{"error_code":0,"logid":123}}
            """#
        let result = try CertificateQueryResult.read(body: body(text))
        let certificate = try #require(result.certificates.first)
        #expect(certificate.status == 1)
        #expect(certificate.code == nil && certificate.amount == nil && certificate.bookInfo == nil)
        // Only the odd member of a block is set aside: sku keeps its title.
        #expect(certificate.sku == SKU(title: "t"))
        #expect(certificate.startTime == nil && certificate.usedStatusType == nil)
        #expect(certificate.verify?.verifyID == "v1" && certificate.verify?.canCancel == true)
        #expect(certificate.verify?.poiID == nil && certificate.verify?.verifyType == nil)
        #expect(certificate.raw["sku"]?["market_price"] == .string("cheap"))
        #expect(result.logid == nil)
        let paths = Set(result.warnings.map(\.path))
        #expect(
            paths == [
                "data.certificates[0].code", "data.certificates[0].sku.market_price", "data.certificates[0].amount",
                "data.certificates[0].book_info", "data.certificates[0].start_time",
                "data.certificates[0].used_status_type", "data.certificates[0].verify.poi_id",
                "data.certificates[0].verify.verify_type", "extra.logid",
            ])
        let sku = try #require(result.warnings.first { $0.path == "data.certificates[0].sku.market_price" })
        #expect(sku.field == "data.certificates[].sku.market_price")
        #expect(sku.message.contains(#"found string "cheap""#))
    }

    @Test("contradictions are warnings: times_used above times_count, a future verify_time, an id twice, an unknown status")
    func contradictions() throws {
        let text = #"""
            {"data":{"certificates":[
              {"certificate_id":1,"status":9,"time_card":{"times_count":2,"times_used":7}},
              {"certificate_id":2,"status":2,"verify":{"verify_id":"v","verify_time":1764500000,"can_cancel":false}},
              {"certificate_id":1,"status":9}]},
             "extra":{"error_code":0,"now":1764400000}}
            """#
        let result = try CertificateQueryResult.read(body: body(text))
        #expect(result.certificates.map(\.certificateID.value) == ["1", "2"])
        let paths = Set(result.warnings.map(\.path))
        #expect(
            paths == [
                "data.certificates[0].status", "data.certificates[0].time_card.times_used",
                "data.certificates[1].verify.verify_time", "data.certificates[2].certificate_id",
                "data.certificates[2].status",
            ])
        #expect(result.warnings.contains { $0.message == "times_used 7 exceeds times_count 2" })
    }

    @Test("the documented example keeps its placeholder times exactly, each flagged as implausible")
    func documentedExampleFlagsPlaceholders() throws {
        let response = try CertificateQueryResponse.decode(try fixture())
        #expect(try response.mergedCertificates().first?.expireTime == 5_888_656_226_836_721_000)
        #expect(response.warnings.contains { $0.path == "data.certificates[0].expire_time" && $0.message.contains("not a plausible") })
    }

    @Test("DouyinTime: seconds stay, milliseconds divide, beyond year 33658 in ms is kept with a warning")
    func timeUnits() {
        #expect(DouyinTime.seconds(1_764_400_000) == (1_764_400_000, nil))
        #expect(DouyinTime.seconds(1_764_400_000_999).seconds == 1_764_400_000)
        #expect(DouyinTime.seconds(999_999_999_999).warning == nil)
        #expect(DouyinTime.seconds(1_000_000_000_000_000).seconds == 1_000_000_000_000_000)
        #expect(DouyinTime.seconds(1_000_000_000_000_000).warning != nil)
    }
}
