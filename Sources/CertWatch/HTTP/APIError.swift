import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird

/// An HTTP API error, written as `{"error": {"code", "message", "field"?}}` with a 4xx status (500
/// for `internal`) and any ``headers`` (`Allow` on a 405). Never carries stack traces or secrets.
/// Routes throw it; as an `HTTPResponseError` the router writes it through the context's response
/// encoder.
package struct APIError: Error, Sendable, Hashable, Encodable, HTTPResponseError {
    /// Machine-readable code: `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`,
    /// `conflict`, `payload_too_large`, `validation_failed`, `internal`.
    package var code: String
    /// What is wrong, for people.
    package var message: String
    /// The offending field (JSON path or parameter), when known.
    package var field: String?
    /// The HTTP status.
    package var status: HTTPResponse.Status
    /// Header fields sent with the error (not part of the body), e.g. `Allow` with a 405.
    package var headers: HTTPFields = [:]

    /// An error answered with HTTP `status` (a code such as 409), machine-readable `code`, `message`
    /// for people and the offending `field`, if any.
    package init(_ status: Int, _ code: String, _ message: String, field: String? = nil) {
        self.status = HTTPResponse.Status(code: status)
        self.code = code
        self.message = message
        self.field = field
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError { .init(400, "bad_request", message, field: field) }
    static func notFound(_ message: String) -> APIError { .init(404, "not_found", message) }
    static func invalid(_ message: String, field: String?) -> APIError { .init(422, "validation_failed", message, field: field) }
    static let unauthorized = APIError(401, "unauthorized", "a valid Authorization: Bearer <key> header is required")
    static let internalError = APIError(500, "internal", "internal error")

    enum CodingKeys: String, CodingKey { case code, message, field }

    /// `{"error": {…}}`.
    struct Envelope: Encodable { var error: APIError }

    /// The error envelope `{"error": {…}}` with ``status``, encoded by `context.responseEncoder`.
    /// Throws what the encoder throws.
    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(Envelope(error: self), from: request, context: context)
        response.status = status
        for field in headers { response.headers.append(field) }
        return response
    }
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
