import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite struct AdminAPITests {
    @Test func createOrderOverHTTP() async throws {
        try await SandboxHarness.run { harness in
            let (status, json) = try await harness.json(
                .POST, "/sandbox/orders",
                body: #"{"certificates": [{"kind": "voucher"}, {"kind": "times_card", "times_count": 5}], "expire_in": 86400}"#)
            #expect(status == 201)
            let orderID = try #require(json["order_id"]?.string)
            #expect(json["certificates"]?[1]?["certificate_id"]?.string != nil)
            #expect(json["certificates"]?[1]?["encrypted_code"]?.string != nil)
            #expect(json["certificates"]?[1]?["code"]?.string?.count == 12)
            let (_, detail) = try await harness.json(.GET, "/sandbox/orders/\(orderID)")
            #expect(detail["certificates"]?[1]?["time_card"]?["times_count"]?.int == 5)
            let (_, list) = try await harness.json(.GET, "/sandbox/orders")
            #expect(list["orders"]?[0]?["order_id"]?.string == orderID)
            let (randomStatus, random) = try await harness.json(.POST, "/sandbox/orders/random", body: #"{"count": 3, "seed": 5}"#)
            #expect(randomStatus == 201)
            if case .array(let orders)? = random["orders"] { #expect(orders.count == 3) } else { Issue.record("no orders") }
        }
    }

    @Test(arguments: [
        ("/sandbox/orders", "{", 400, "invalid_json", nil),
        ("/sandbox/orders", "{}", 400, "invalid_argument", "certificates"),
        ("/sandbox/orders", #"{"certificates": []}"#, 400, "invalid_argument", "certificates"),
        ("/sandbox/orders", #"{"certificates": [{"kind": "coupon"}]}"#, 400, "invalid_argument", "certificates[0].kind"),
        ("/sandbox/orders", #"{"certificates": [{"kind": "times_card", "times_count": 0}]}"#, 400, "invalid_argument", "certificates[0].times_count"),
        ("/sandbox/orders", #"{"certificates": [{}], "expire_in": "soon"}"#, 400, "invalid_argument", "expire_in"),
        ("/sandbox/orders/random", #"{"count": 0}"#, 400, "invalid_argument", "count"),
        ("/sandbox/clock/advance", #"{"seconds": -5}"#, 400, "invalid_argument", "seconds"),
        ("/sandbox/clock/advance", #"{"secs": 5}"#, 400, "invalid_argument", "seconds"),
        ("/sandbox/certificates/404/verify", "", 404, "not_found", "certificate_id"),
        ("/sandbox/certificates/404/explode", "", 404, "not_found", "action"),
        ("/sandbox/certificates/404/request_refund", "", 404, "not_found", "certificate_id"),
        ("/sandbox/certificates/404/verify", #"{"verify_type": 9}"#, 400, "invalid_argument", "verify_type"),
        ("/sandbox/certificates/404/verify", #"{"verify_type": "fax"}"#, 400, "invalid_argument", "verify_type"),
        ("/sandbox/certificates/404/approve_refund", #"{"refunding_seconds": -1}"#, 400, "invalid_argument", "refunding_seconds"),
        ("/sandbox/nothing-here", "", 404, "not_found", nil),
        ("/sandbox/faults/next", #"{"kind": "busy", "count": 0}"#, 400, "invalid_argument", "count"),
    ] as [(String, String, Int, String, String?)])
    func badInputIsA4xxJSONError(path: String, body: String, status: Int, code: String, field: String?) async throws {
        try await SandboxHarness.run { harness in
            let (answered, json) = try await harness.json(.POST, path, body: body)
            #expect(answered == status)
            #expect(json["error"]?["code"]?.string == code)
            #expect(json["error"]?["message"]?.string?.isEmpty == false)
            #expect(json["error"]?["field"]?.string == field)
        }
    }

    @Test func refundFlowAndVerifyTypeOverHTTP() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let voucher = "/sandbox/certificates/\(order.certificates[0].certificateID)"
            #expect(try await harness.json(.POST, voucher + "/request_refund").json["certificate"]?["status"]?.int == 3)
            #expect(try await harness.json(.POST, voucher + "/reject_refund").json["certificate"]?["status"]?.int == 5)
            let (_, verified) = try await harness.json(.POST, voucher + "/verify", body: #"{"verify_type": "code_input"}"#)
            #expect(verified["certificate"]?["verify"]?["verify_type"]?.int == 3)
            #expect(verified["certificate"]?["status"]?.int == 2)
            let card = "/sandbox/certificates/\(order.certificates[1].certificateID)"
            #expect(try await harness.json(.POST, card + "/use", body: #"{"verify_type": 4}"#).json["certificate"]?["verify"]?["verify_type"]?.int == 4)
            #expect(try await harness.json(.POST, card + "/request_refund").json["certificate"]?["status"]?.int == 3)
            let (_, approved) = try await harness.json(.POST, card + "/approve_refund", body: #"{"refunding_seconds": 60}"#)
            #expect(approved["certificate"]?["status"]?.int == 6)
            _ = try await harness.json(.POST, "/sandbox/clock/advance", body: #"{"seconds": 60}"#)
            let (_, detail) = try await harness.json(.GET, "/sandbox/orders/\(order.orderID)")
            #expect(detail["certificates"]?[1]?["status"]?.int == 4)
            let (status, conflict) = try await harness.json(.POST, card + "/reject_refund")
            #expect(status == 409)
            #expect(conflict["error"]?["code"]?.string == "conflict")
        }
    }

    @Test func stateConflictIs409() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let path = "/sandbox/certificates/\(order.certificates[0].certificateID)"
            #expect(try await harness.json(.POST, path + "/verify").status == 200)
            let (status, json) = try await harness.json(.POST, path + "/verify")
            #expect(status == 409)
            #expect(json["error"]?["code"]?.string == "conflict")
            #expect(json["error"]?["douyin_error_code"]?.int == 4_000_002)
        }
    }

    @Test func clockFaultsRequestsAndReset() async throws {
        try await SandboxHarness.run { harness in
            let (_, clock) = try await harness.json(.GET, "/sandbox/clock")
            #expect(clock["now"]?.int == 1_734_169_082)
            #expect(clock["now_rfc3339"]?.string == "2024-12-14T17:38:02+08:00")
            let (_, advanced) = try await harness.json(.POST, "/sandbox/clock/advance", body: #"{"seconds": 3600}"#)
            #expect(advanced["now"]?.int == 1_734_172_682)

            let (putStatus, faults) = try await harness.json(.PUT, "/sandbox/faults", body: "qps: 10\nfaults:\n  - kind: busy\n    probability: 0.5\n")
            #expect(putStatus == 200)
            #expect(faults["profile"]?["faults"]?[0]?["kind"]?.string == "busy")
            let (badStatus, bad) = try await harness.json(.PUT, "/sandbox/faults", body: #"{"qps": -1}"#)
            #expect(badStatus == 400)
            #expect(bad["error"]?["field"]?.string == "qps")

            let token = try await harness.token()
            // A per-call fault by header.
            let (_, busy) = try await harness.json(
                .GET, CertificateAPI.compreRetail.queryPath + "?order_id=1", headers: [("access-token", token), ("x-sandbox-fault", "system_busy")])
            #expect(busy["extra"]?["error_code"]?.int == 2_119_002)
            let (_, log) = try await harness.json(.GET, "/sandbox/requests?since=1")
            #expect(log["requests"]?[0]?["error_code"]?.int == 2_119_002)
            #expect(log["requests"]?[0]?["fault"]?.string == "system_busy")
            #expect(log["requests"]?[0]?["path"]?.string == CertificateAPI.compreRetail.queryPath)
            #expect(log["requests"]?[0]?["query"]?.string == "order_id=1")
            #expect(try await harness.json(.GET, "/sandbox/requests?since=x").status == 400)

            #expect(try await harness.json(.POST, "/sandbox/reset").status == 200)
            let (_, after) = try await harness.json(.GET, "/sandbox/requests")
            #expect(after["requests"] == .array([]))
            let (_, resetFaults) = try await harness.json(.GET, "/sandbox/faults")
            #expect(resetFaults["profile"]?["faults"] == .array([]))
        }
    }
}
