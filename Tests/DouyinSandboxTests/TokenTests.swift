import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

@Suite struct TokenTests {
    static let credentials = #"{"client_key":"sandbox_key","client_secret":"sandbox_secret","grant_type":"client_credential"}"#
    static let query = "/goodlife/v1/compre_retail/fulfilment/certificate/query/?order_id="

    @Test func clientFetchesTokenAndQueries() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let result = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(result.certificates.count == 2)
            let token = try await harness.client.tokens.token()
            #expect(token.value.hasPrefix("clt."))
            #expect(token.value.count == 64)
            let paths = await harness.sandbox.requests().map(\.path)
            #expect(paths == ["/oauth/stable_client_token/", CertificateAPI.compreRetail.queryPath])
        }
    }

    @Test func wrongSecretOrKeyIsRefusedInTheDocumentedShape() async throws {
        try await SandboxHarness.run(clientSecret: "wrong") { harness in
            await #expect {
                _ = try await harness.client.queryCertificates(CertificateQuery(orderID: "1"))
            } throws: { error in
                (error as? DouyinAPIError).map { $0.code == 10_013 && $0.errorClass == .permanent } ?? false
            }
            let (status, json) = try await harness.json(
                .POST, "/oauth/client_token/", body: #"{"client_key":"nope","client_secret":"x","grant_type":"client_credential"}"#)
            #expect(status == 200)
            #expect(json["message"]?.string == "error")
            #expect(json["data"]?["error_code"]?.int == 10_003)
            #expect(json["data"]?["description"]?.string?.isEmpty == false)
            #expect(json["data"]?["access_token"] == nil)
        }
    }

    @Test func stableTokenIsTheSameWhileValid() async throws {
        try await SandboxHarness.run { harness in
            let first = try await harness.token()
            try await harness.sandbox.advanceClock(by: 3_600)
            let (_, again) = try await harness.json(.POST, "/oauth/stable_client_token/", body: Self.credentials)
            #expect(again["data"]?["access_token"]?.string == first)
            #expect(again["data"]?["expires_in"]?.int == 3_600)
            // Within the last 300 s a new one is issued; the old one stays valid to its end.
            try await harness.sandbox.advanceClock(by: 3_400)
            let (_, renewed) = try await harness.json(.POST, "/oauth/stable_client_token/", body: Self.credentials)
            #expect(renewed["data"]?["access_token"]?.string != first)
            #expect(renewed["data"]?["expires_in"]?.int == 7_200)
        }
    }

    @Test func newClientTokenInvalidatesThePreviousAfterGrace() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            let (_, a) = try await harness.json(.POST, "/oauth/client_token/", body: Self.credentials)
            let (_, b) = try await harness.json(.POST, "/oauth/client_token/", body: Self.credentials)
            let old = try #require(a["data"]?["access_token"]?.string)
            let new = try #require(b["data"]?["access_token"]?.string)
            #expect(old != new)
            func code(_ token: String) async throws -> Int64? {
                try await harness.json(.GET, Self.query + order.orderID, headers: [("access-token", token)]).json["extra"]?["error_code"]?.int
            }
            #expect(try await code(old) == 0)  // grace period
            try await harness.sandbox.advanceClock(by: 301)
            #expect(try await code(old) == 2_190_008)
            #expect(try await code(new) == 0)
            #expect(try await code("clt.never-issued") == 2_190_002)
            let (_, missing) = try await harness.json(.GET, Self.query + order.orderID)
            #expect(missing["extra"]?["error_code"]?.int == 2_190_002)
            // Only the newest two tokens stay valid.
            let (_, c) = try await harness.json(.POST, "/oauth/client_token/", body: Self.credentials)
            let (_, d) = try await harness.json(.POST, "/oauth/client_token/", body: Self.credentials)
            #expect(try await code(try #require(c["data"]?["access_token"]?.string)) == 0)
            #expect(try await code(new) == 2_190_008)
            _ = d
        }
    }

    @Test func expiredTokenIsRefreshedOnceByTheClient() async throws {
        try await SandboxHarness.run { harness in
            let order = try await harness.sandbox.createOrder(twoCertificateOrder)
            _ = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            try await harness.sandbox.advanceClock(by: 7_201)  // the client's own clock does not know
            let result = try await harness.client.queryCertificates(CertificateQuery(orderID: order.orderID))
            #expect(result.certificates.count == 2)
            let codes = await harness.sandbox.requests().map { "\($0.path.contains("token") ? "token" : "query"):\($0.errorCode ?? -1)" }
            #expect(codes == ["token:0", "query:0", "query:2190008", "token:0", "query:0"])
        }
    }

    @Test func formEncodedTokenRequestIsAccepted() async throws {
        try await SandboxHarness.run { harness in
            let (_, json) = try await harness.json(
                .POST, "/oauth/client_token/",
                body: "client_key=sandbox_key&client_secret=sandbox_secret&grant_type=client_credential",
                headers: [("content-type", "application/x-www-form-urlencoded")])
            #expect(json["data"]?["access_token"]?.string?.hasPrefix("clt.") == true)
            #expect(json["message"]?.string == "success")
        }
    }
}
