import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <key>` with one of the configured keys (several for rotation),
/// compared in constant time; otherwise it throws ``APIError`` 401. With no keys configured every request is refused.
public struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    private let digests: [SHA256.Digest]

    /// - Parameter keys: the accepted API keys.
    public init(keys: [String]) {
        digests = keys.filter { !$0.isEmpty }.map { SHA256.hash(data: Data($0.utf8)) }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized
        }
        let presented = SHA256.hash(data: Data(header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces).utf8))
        // Digests have equal length; compare every key without early exit.
        var matched = false
        for digest in digests {
            var difference: UInt8 = 0
            for (a, b) in zip(digest, presented) { difference |= a ^ b }
            matched = matched || difference == 0
        }
        guard matched else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}
