import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird

/// Writes what a route returns as certwatch's JSON (``DouyinJSON/normalizedEncoded(_:pretty:)``:
/// every id a string, sorted keys, `/` not escaped), status 200 and
/// `Content-Type: application/json; charset=utf-8`; routes that answer with another status wrap
/// their value in `EditedResponse`.
package struct APIResponseEncoder: ResponseEncoder {
    /// The encoder.
    package init() {}

    /// The response for `value`. Throws what encoding `value` throws: a value that cannot be
    /// encoded is an error (a 500), never an empty object.
    package func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        let data = try DouyinJSON.normalizedEncoded(value)
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
