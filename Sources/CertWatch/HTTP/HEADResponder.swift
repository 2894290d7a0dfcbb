import HTTPTypes
import Hummingbird

/// Answers `HEAD` as the `GET` of the same target without its body (RFC 9110 §9.3.2: "the server
/// SHOULD send the same header fields in response to a HEAD request as it would have sent if the
/// request method had been GET"); every other request goes to `base` unchanged. Hummingbird's
/// router matches methods exactly, so a router alone answers `HEAD /healthz` with 405.
struct HEADResponder<Base: HTTPResponder>: HTTPResponder {
    /// The router's responder.
    let base: Base

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        let response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        return Response(status: response.status, headers: response.headers, body: ResponseBody())
    }
}
