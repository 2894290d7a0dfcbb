import DouyinOpenAPI
import Foundation
import Testing

/// The documented example of 券状态批量查询, copied from `douyin/fixtures/compre_retail_query_ok.json`.
func fixture(_ name: String = "compre_retail_query_ok.json") throws -> Data {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return try Data(contentsOf: url)
}

func body(_ text: String) -> Data { Data(text.utf8) }

@Suite("Decoding certificate responses")
struct CertificateDecodingTests {
    @Test("the documented example decodes exactly, big integers included")
    func documentedExample() throws {
        let response = try CertificateQueryResponse.decode(try fixture())
        #expect(response.businessError() == nil)
        let certificates = try response.mergedCertificates()
        #expect(certificates.map(\.certificateID.value) == ["40340243935541530", "125451843249261810"])
        let first = certificates[0]
        #expect(first.amount?.brandTicketAmount == 8_357_158_639_585_252_000)
        #expect(first.amount?.originalCurrency == "A3VoTMGwWt")
        #expect(first.amount?.platformDiscountAmount == 5_104_683_162_675_751_000)
        #expect(first.timeCard?.timesCount == 6_598_224_680_460_579_000)
        #expect(first.timeCard?.serialAmountList?.first?.serialNumb == 5_334_298_521_804_750_000)
        #expect(first.verify?.certificateID == "84g0z3FKmF")
        #expect(first.verify?.poiID == "3392495962948926000")
        #expect(first.verifyRecords?.first?.verifyID == "0HFc1dto99")
        #expect(first.sku?.soldStartTime == 559_141_672_905_138_560)
        #expect(first.reserveInfo?.orderReserveUserInfoList?.first?.phone == "CkIeDIq1Gc")
        #expect(first.notAvailableTimeInfo?.canNoUseWeekDay == [3_182_477_009_653_998_600])
        #expect(first.offPeakDiscountInfo?.offPeakTimeRange?.first?.startTime == 81_831_449_023_452_850)
        #expect(first.useTimeInfo?.timePeriodList?.first?.endTime == "M1qv3F85YQ")
        #expect(first.periodCard?.periodType == 1)
        #expect(first.bookInfo?.bookProductNumber == 3_513_574_289_915_437_000)
        #expect(first.additionalMap?["1"] == .string("uyILMUeXbZ"))
        #expect(first.expireTime == 5_888_656_226_836_721_000)
        #expect(response.extra?.logid == "202412141738028C85F64D6CE2147AF797")
        // The raw JSON keeps the big integer as an integer.
        #expect(first.raw["amount"]?["brand_ticket_amount"] == .int(8_357_158_639_585_252_000))
    }

    @Test("normalized JSON writes ids as strings and keeps amounts exact")
    func normalizedIDs() throws {
        let certificates = try CertificateQueryResponse.decode(try fixture()).mergedCertificates()
        let text = String(decoding: try DouyinJSON.normalizedEncoded(certificates), as: UTF8.self)
        #expect(text.contains(#""certificate_id":"40340243935541530""#))
        #expect(text.contains(#""poi_id":"3392495962948926000""#))
        #expect(text.contains(#""brand_ticket_amount":8357158639585252000"#))
        let wire = String(decoding: try DouyinJSON.wireEncoded(certificates), as: UTF8.self)
        #expect(wire.contains(#""certificate_id":40340243935541530"#))
    }

    @Test("ids arrive as strings or numbers and are held as decimal strings")
    func idsAsStrings() throws {
        let response = try CertificateQueryResponse.decode(
            body(#"{"data":{"certificates":[{"certificate_id":"7001","verify":{"verify_id":123,"poi_id":"9"}}]}}"#))
        let certificate = try #require(try response.mergedCertificates().first)
        #expect(certificate.certificateID == "7001")
        #expect(certificate.verify?.verifyID?.value == "123")
        #expect(certificate.verify?.poiID?.value == "9")
    }

    @Test("trailing newline and unknown fields are fine; unknown fields stay in raw")
    func unknownFields() throws {
        let text = #"{"data":{"certificates":[{"certificate_id":1,"new_field":{"x":[1,2]}}],"future":true},"extra":{"error_code":0,"logid":"L"}}"# + "\n"
        let certificates = try CertificateQueryResponse.decode(body(text)).mergedCertificates()
        #expect(certificates.count == 1)
        #expect(certificates[0].raw["new_field"]?["x"] == .array([.int(1), .int(2)]))
    }

    @Test("only certificates_v2, or only certificates")
    func singleList() throws {
        let v2 = try CertificateQueryResponse.decode(body(#"{"data":{"certificates_v2":[{"certificate_id":5}]}}"#))
        #expect(try v2.mergedCertificates().map(\.certificateID) == ["5"])
        let v1 = try CertificateQueryResponse.decode(body(#"{"data":{"certificates":[{"certificate_id":6}]}}"#))
        #expect(try v1.mergedCertificates().map(\.certificateID) == ["6"])
        let none = try CertificateQueryResponse.decode(body(#"{"data":{"error_code":0}}"#))
        #expect(try none.mergedCertificates().isEmpty)
    }

    @Test("the same certificate in both lists merges field by field, v2 winning where it has a value")
    func mergeFieldByField() throws {
        let text = """
            {"data":{
              "certificates":[{"certificate_id":9,"status":1,"code":"A","amount":{"pay_amount":100,"original_amount":200},
                               "time_card":{"times_count":5,"times_used":1}},
                              {"certificate_id":10,"status":1}],
              "certificates_v2":[{"certificate_id":"9","status":2,"code":null,"amount":{"pay_amount":150},
                                  "time_card":{"times_used":2}, "v2_only":"x"}]
            }}
            """
        let certificates = try CertificateQueryResponse.decode(body(text)).mergedCertificates()
        #expect(certificates.map(\.certificateID) == ["9", "10"])
        let merged = certificates[0]
        #expect(merged.status == 2)
        #expect(merged.code == "A")
        #expect(merged.amount?.payAmount == 150)
        #expect(merged.amount?.originalAmount == 200)
        #expect(merged.timeCard?.timesCount == 5)
        #expect(merged.timeCard?.timesUsed == 2)
        #expect(merged.raw["v2_only"] == .string("x"))
    }

    @Test("null where an object is expected reads as absent")
    func nullObject() throws {
        let text = #"{"data":{"certificates":[{"certificate_id":1,"time_card":null,"verify":null,"amount":null}]},"extra":null}"#
        let certificate = try #require(try CertificateQueryResponse.decode(body(text)).mergedCertificates().first)
        #expect(certificate.timeCard == nil)
        #expect(certificate.verify == nil)
    }

    @Test("a wrong type in a field that matters names the JSON path and the value found")
    func wrongTypePath() throws {
        let text = #"{"data":{"certificates":[{"certificate_id":1,"time_card":{"times_used":"x"}}]}}"#
        #expect {
            _ = try CertificateQueryResponse.decode(body(text))
        } throws: { error in
            (error as? DouyinDecodingError)?.description
                == #"data.certificates[0].time_card.times_used: expected integer, found string "x""#
        }
        let missing = #"{"data":{"certificates_v2":[{"status":1}]}}"#
        #expect {
            _ = try CertificateQueryResponse.decode(body(missing))
        } throws: { error in
            (error as? DouyinDecodingError)?.description == "data.certificates_v2[0].certificate_id: required field is missing"
        }
        let badID = #"{"data":{"certificates":[{"certificate_id":true}]}}"#
        #expect {
            _ = try CertificateQueryResponse.decode(body(badID))
        } throws: { error in
            (error as? DouyinDecodingError)?.description
                == "data.certificates[0].certificate_id: expected id (string or integer), found boolean true"
        }
    }

    @Test("a descriptive member of an unexpected shape does not fail the certificate; raw keeps it")
    func lenientDescriptiveBlocks() throws {
        let text = #"{"data":{"certificates":[{"certificate_id":1,"sku":{"market_price":"cheap"},"status":1}]}}"#
        let certificate = try #require(try CertificateQueryResponse.decode(body(text)).mergedCertificates().first)
        #expect(certificate.sku == SKU())  // the odd member set aside, not the block
        #expect(certificate.raw["sku"]?["market_price"] == .string("cheap"))
        #expect(certificate.status == 1)
    }

    @Test("an HTML page with status 200 and an empty body are retryable invalid bodies")
    func nonJSONBodies() throws {
        for (text, kind) in [("<html><body>502 Bad Gateway</body></html>", DouyinDecodingError.Kind.notJSON), ("", .empty), ("{\"data\":", .notJSON)] {
            #expect {
                _ = try CertificateQueryResult.read(body: body(text), httpStatus: 200)
            } throws: { error in
                guard let error = error as? DouyinAPIError, case .invalidBody(let decoding) = error.source else { return false }
                return error.errorClass == .retry && decoding?.kind == kind
            }
        }
        #expect {
            _ = try CertificateQueryResult.read(body: body("bad gateway"), httpStatus: 502)
        } throws: { error in
            (error as? DouyinAPIError)?.source == .httpStatus(502) && (error as? DouyinAPIError)?.errorClass == .retry
        }
    }

    @Test(
        "each documented error code maps to its class",
        arguments: [
            (2_100_001, DouyinErrorClass.retry), (2_100_004, .retry), (2_119_002, .retry), (5_000_001, .retry),
            (2_119_003, .slowDown), (2_190_002, .refreshToken), (2_190_008, .refreshToken),
            (2_100_005, .permanent), (2_119_001, .permanent), (2_119_005, .permanent), (2_190_004, .permanent),
            (3_000_001, .permanent), (4_000_001, .permanent), (4_000_002, .permanent), (9_999_999, .retry),
        ] as [(Int64, DouyinErrorClass)])
    func errorClasses(code: Int64, expected: DouyinErrorClass) throws {
        let text = """
            {"data":{"error_code":\(code),"description":"数据错误"},
             "extra":{"error_code":\(code),"description":"数据错误","sub_error_code":7,"sub_description":"子错误",
                      "logid":"2024121417380200000000000000ABCDEF","now":1734169082}}
            """
        #expect {
            _ = try CertificateQueryResult.read(body: body(text))
        } throws: { error in
            guard let error = error as? DouyinAPIError else { return false }
            return error.errorClass == expected && error.code == code && error.logid == "2024121417380200000000000000ABCDEF"
                && error.subErrorCode == 7 && error.errorDescription == "数据错误" && error.subDescription == "子错误"
        }
    }

    @Test("an error only in data.error_code is still an error; zero codes are success")
    func dataErrorCode() throws {
        #expect(throws: DouyinAPIError.self) {
            _ = try CertificateQueryResult.read(body: body(#"{"data":{"error_code":2119003},"extra":{"error_code":0}}"#))
        }
        let ok = try CertificateQueryResult.read(body: body(#"{"data":{"error_code":0,"certificates":[]},"extra":{"logid":"X"}}"#))
        #expect(ok.certificates.isEmpty && ok.logid == "X")
    }
}
