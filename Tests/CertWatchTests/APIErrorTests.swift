import CertWatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A value whose encoding always fails.
private struct Unencodable: ResponseEncodable {
    func encode(to encoder: any Encoder) throws {
        throw EncodingError.invalidValue(0, .init(codingPath: [], debugDescription: "cannot be encoded"))
    }
}

@Suite("HTTP API errors")
struct APIErrorTests {
    /// A router like the API's (context, error middleware) with routes that fail in each way.
    static func failingRouter() -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.get("unencodable") { _, _ in Unencodable() }
        router.get("invalid") { _, _ -> [String: String] in throw ValidationError(field: "order_id", message: "is required") }
        router.get("conflict") { _, _ -> [String: String] in throw APIError(409, "conflict", "busy") }
        router.get("broken") { _, _ -> [String: String] in throw CancellationError() }
        return router
    }

    @Test("the envelope is written byte for byte with its status and JSON content type")
    func envelope() async throws {
        let app = Application(router: Self.failingRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/conflict", method: .get) { response throws in
                #expect(response.status == .conflict)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(String(buffer: response.body) == #"{"error":{"code":"conflict","message":"busy"}}"#)
            }
            try await client.execute(uri: "/invalid", method: .get) { response throws in
                #expect(response.status == .unprocessableContent)
                #expect(
                    String(buffer: response.body)
                        == #"{"error":{"code":"validation_failed","field":"order_id","message":"is required"}}"#)
            }
        }
    }

    @Test("a response that cannot be encoded, or any other failure, is 500 internal, never {}")
    func internalErrors() async throws {
        let app = Application(router: Self.failingRouter())
        try await app.test(.router) { client in
            for uri in ["/unencodable", "/broken"] {
                try await client.execute(uri: uri, method: .get) { response throws in
                    #expect(response.status == .internalServerError)
                    #expect(String(buffer: response.body) == #"{"error":{"code":"internal","message":"internal error"}}"#)
                }
            }
        }
    }

    @Test("a missing bearer key is the 401 envelope through the API's router")
    func unauthorized() async throws {
        let (api, _) = try makeAPI()
        let app = Application(router: api.makeRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/events", method: .get) { response throws in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(
                    String(buffer: response.body)
                        == #"{"error":{"code":"unauthorized","message":"a valid Authorization: Bearer <key> header is required"}}"#)
            }
        }
    }
}
