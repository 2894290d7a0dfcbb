import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird

/// An HTTP API error, written as `{"error": {"code", "message", "field"?}}` with a 4xx status.
/// Never carries stack traces or secrets.
public struct APIError: Error, Sendable, Hashable, Encodable {
    /// Machine-readable code: `bad_request`, `unauthorized`, `not_found`, `conflict`,
    /// `payload_too_large`, `validation_failed`, `internal`.
    public var code: String
    /// What is wrong, for people.
    public var message: String
    /// The offending field (JSON path or parameter), when known.
    public var field: String?
    /// The HTTP status.
    public var status: Int

    public init(_ status: Int, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError { .init(400, "bad_request", message, field: field) }
    static func notFound(_ message: String) -> APIError { .init(404, "not_found", message) }
    static func invalid(_ message: String, field: String?) -> APIError { .init(422, "validation_failed", message, field: field) }
    static let unauthorized = APIError(401, "unauthorized", "a valid Authorization: Bearer <key> header is required")

    enum CodingKeys: String, CodingKey { case code, message, field }

    /// The JSON response.
    var response: Response {
        struct Envelope: Encodable { var error: APIError }
        return jsonResponse(Envelope(error: self), status: status)
    }
}

/// A JSON response (ids as strings, sorted keys).
func jsonResponse<T: Encodable>(_ value: T, status: Int = 200) -> Response {
    let data = (try? DouyinJSON.normalizedEncoded(value)) ?? Data("{}".utf8)
    return Response(
        status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json; charset=utf-8"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// Reads a JSON body of at most `limit` bytes into `T`.
/// Throws ``APIError``: 413 over the limit, 400 when not JSON, 422 naming the JSON path of a wrong field.
func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws(APIError) -> T {
    try decodeJSON(type, try await readBody(request, limit: limit))
}

/// Reads a body of at most `limit` bytes. Throws ``APIError`` 413 over the limit.
func readBody(_ request: Request, limit: Int) async throws(APIError) -> Data {
    do {
        let buffer = try await request.body.collect(upTo: limit)
        return Data(buffer: buffer)
    } catch {
        throw APIError(413, "payload_too_large", "the request body is larger than \(limit) bytes")
    }
}

/// Decodes JSON into `T`, mapping decoding errors to 400/422 with the JSON path.
func decodeJSON<T: Decodable>(_ type: T.Type, _ data: Data) throws(APIError) -> T {
    do {
        return try DouyinJSON.decode(type, from: data)
    } catch {
        switch error.kind {
        case .empty, .notJSON: throw .badRequest("the body must be JSON: \(error.message)")
        case .typeMismatch, .missingField: throw .invalid(error.message, field: error.path)
        }
    }
}

/// Runs `body`, turning thrown errors into JSON error responses (unknown errors become a bare 500).
func respond(_ body: () async throws -> Response) async -> Response {
    do {
        return try await body()
    } catch let error as APIError {
        return error.response
    } catch let error as ValidationError {
        return APIError.invalid(error.message, field: error.field).response
    } catch {
        return APIError(500, "internal", "internal error").response
    }
}
