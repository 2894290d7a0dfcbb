import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// The sandbox's answers against the documented example (the fixture), compared by key paths so
/// that a drift of the shared models cannot hide.
@Suite struct WireFormatTests {
    static let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/compre_retail_query_ok.json")

    /// Every object key path, array elements folded into `[]` (`data.certificates[].amount.pay_amount`).
    static func keyPaths(_ value: JSONValue, prefix: String = "") -> Set<String> {
        switch value {
        case .object(let members):
            var paths: Set<String> = []
            for (key, member) in members {
                let path = prefix.isEmpty ? key : "\(prefix).\(key)"
                paths.insert(path)
                paths.formUnion(keyPaths(member, prefix: path))
            }
            return paths
        case .array(let elements):
            return elements.reduce(into: Set<String>()) { $0.formUnion(keyPaths($1, prefix: prefix + "[]")) }
        default:
            return []
        }
    }

    @Test func queryAnswerHasExactlyTheDocumentedKeySet() async throws {
        let fixture = try JSONValue(parsing: Data(contentsOf: Self.fixtureURL))
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            try await harness.sandbox.verify(certificateID: order.certificates[0].certificateID)
            try await harness.sandbox.use(certificateID: order.certificates[1].certificateID)
            // Douyin sends `code` only once a verification can no longer be cancelled.
            try await harness.sandbox.advanceClock(by: 3_600)
            let token = try await harness.token()
            let (status, json) = try await harness.json(
                .GET, "/goodlife/v1/compre_retail/fulfilment/certificate/query/?order_id=\(order.orderID)",
                headers: [("access-token", token), ("content-type", "application/json")])
            #expect(status == 200)
            let expected = Self.keyPaths(fixture)
            let actual = Self.keyPaths(json)
            #expect(actual.subtracting(expected).sorted() == [], "keys the documented example does not have")
            #expect(expected.subtracting(actual).sorted() == [], "documented keys the sandbox does not send")
        }
    }

    @Test func numericIdsAreNumbersAndNestedIdsStrings() async throws {
        let fixture = try JSONValue(parsing: Data(contentsOf: Self.fixtureURL))
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            try await harness.sandbox.verify(certificateID: order.certificates[0].certificateID)
            let token = try await harness.token()
            let (_, json) = try await harness.json(
                .GET, "/goodlife/v1/compre_retail/fulfilment/certificate/query/?order_id=\(order.orderID)",
                headers: [("access-token", token)])
            let certificate = try #require(json["data"]?["certificates"]?[0])
            let documented = try #require(fixture["data"]?["certificates"]?[0])
            // Same JSON type as the documented example for every id-like field.
            func kind(_ value: JSONValue?) -> String {
                switch value {
                case .int?, .uint?: return "number"
                case .string?: return "string"
                default: return "other"
                }
            }
            #expect(kind(certificate["certificate_id"]) == kind(documented["certificate_id"]))
            #expect(kind(certificate["verify"]?["certificate_id"]) == kind(documented["verify"]?["certificate_id"]))
            #expect(kind(certificate["verify"]?["poi_id"]) == kind(documented["verify"]?["poi_id"]))
            #expect(kind(certificate["verify"]?["verify_id"]) == kind(documented["verify"]?["verify_id"]))
            #expect(kind(certificate["sku"]?["sku_id"]) == kind(documented["sku"]?["sku_id"]))
            #expect(kind(certificate["book_info"]?["book_poi_id"]) == kind(documented["book_info"]?["book_poi_id"]))
            // Ids above 2^53 survive exactly.
            #expect(certificate["certificate_id"]?.int.map(String.init) == order.certificates[0].certificateID)
            // extra: documented members, logid in Douyin's format.
            let logid = try #require(json["extra"]?["logid"]?.string)
            #expect(logid.count == 34)
            #expect(logid.allSatisfy { $0.isNumber || ("A"..."F").contains($0) })
            #expect(json["extra"]?["now"]?.int == 1_734_169_082)
            // `code` is absent while the verification can be cancelled.
            #expect(certificate["code"] == nil)
        }
    }
}
