import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <key>` with one of the configured keys (several for rotation),
/// compared in constant time; otherwise it throws ``APIError`` 401. With no keys configured every request is refused.
package struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    private let keys: APIKeySet

    /// - Parameter keys: the accepted API keys.
    package init(keys: [String]) {
        self.keys = APIKeySet(keys)
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized
        }
        guard keys.match(String(header.dropFirst("bearer ".count))) != nil else { throw APIError.unauthorized }
        return try await next(request, context)
    }
}

/// The configured API keys (`http.api_keys`) as SHA-256 digests, matched in constant time: the one
/// check of a presented key, for `/v1` (``BearerAuthMiddleware``) and the console's sign-in.
struct APIKeySet: Sendable {
    private let digests: [SHA256.Digest]

    /// The non-empty keys of `keys`.
    init(_ keys: [String]) {
        digests = keys.filter { !$0.isEmpty }.map { SHA256.hash(data: Data($0.utf8)) }
    }

    /// Whether no key is configured (then nothing matches).
    var isEmpty: Bool { digests.isEmpty }

    /// The index of the configured key `presented` is (surrounding white space ignored), or `nil`.
    /// Every key is compared, without early exit.
    func match(_ presented: String) -> Int? {
        let presented = SHA256.hash(data: Data(presented.trimmingCharacters(in: .whitespaces).utf8))
        var matched: Int?
        for (index, digest) in digests.enumerated() {
            // Digests have equal length; compare every byte.
            var difference: UInt8 = 0
            for (a, b) in zip(digest, presented) { difference |= a ^ b }
            if difference == 0, matched == nil { matched = index }
        }
        return matched
    }
}
