import Crypto
import Foundation

/// Signing and verification per the Standard Webhooks specification
/// (https://www.standardwebhooks.com, the scheme Svix uses): `webhook-id`, `webhook-timestamp`
/// (Unix seconds) and `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256>` of
/// `"<id>.<timestamp>.<body>"`, keyed with the base64 secret after its `whsec_` prefix.
package enum StandardWebhooks {
    /// Why a secret or a signature was rejected. Never carries the secret.
    package enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The secret is not `whsec_` + base64 (or plain base64).
        case invalidSecret
        /// A required header is missing.
        case missingHeader(String)
        /// The timestamp is not an integer or is outside the tolerance.
        case timestampOutOfTolerance
        /// No signature matched.
        case noMatchingSignature

        package var description: String {
            switch self {
            case .invalidSecret: "the signing secret is not whsec_<base64>"
            case .missingHeader(let name): "missing header \(name)"
            case .timestampOutOfTolerance: "webhook-timestamp is missing or outside the tolerance"
            case .noMatchingSignature: "no signature in webhook-signature matches"
            }
        }
    }

    /// Key lengths the Standard Webhooks specification allows, in bytes (192 to 512 bits); the
    /// configuration refuses others.
    package static let secretLengths = 24...64

    /// The key bytes of a `whsec_…` secret (the prefix is optional). Throws ``Failure/invalidSecret``.
    package static func key(fromSecret secret: String) throws(Failure) -> SymmetricKey {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else { throw .invalidSecret }
        return SymmetricKey(data: data)
    }

    /// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`.
    package static func signature(id: String, timestamp: Int64, body: Data, key: SymmetricKey) -> String {
        var message = Data("\(id).\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `webhook-signature` header value: one `v1,` signature per secret (rotation), space-separated.
    /// Throws ``Failure/invalidSecret``.
    package static func signatureHeader(id: String, timestamp: Int64, body: Data, secrets: [String]) throws(Failure)
        -> String
    {
        var signatures: [String] = []
        for secret in secrets {
            signatures.append(signature(id: id, timestamp: timestamp, body: body, key: try key(fromSecret: secret)))
        }
        return signatures.joined(separator: " ")
    }

    /// Verifies a delivery: the timestamp is within `tolerance` seconds of `now`, and one of the
    /// `v1` signatures in `signatureHeader` matches one of `secrets` (constant-time compare).
    package static func verify(
        id: String?, timestamp: String?, signatureHeader: String?, body: Data, secrets: [String], now: Double,
        tolerance: Double = 300
    ) throws(Failure) {
        guard let id else { throw .missingHeader("webhook-id") }
        guard let timestamp else { throw .missingHeader("webhook-timestamp") }
        guard let signatureHeader else { throw .missingHeader("webhook-signature") }
        guard let seconds = Int64(timestamp), abs(Double(seconds) - now) <= tolerance else {
            throw .timestampOutOfTolerance
        }
        let offered = signatureHeader.split(separator: " ").compactMap { part -> Data? in
            let pieces = part.split(separator: ",", maxSplits: 1)
            guard pieces.count == 2, pieces[0] == "v1" else { return nil }
            return Data(base64Encoded: String(pieces[1]))
        }
        var message = Data("\(id).\(seconds).".utf8)
        message.append(body)
        for secret in secrets {
            let key = try key(fromSecret: secret)
            for candidate in offered where HMAC<SHA256>.isValidAuthenticationCode(candidate, authenticating: message, using: key) {
                return
            }
        }
        throw .noMatchingSignature
    }
}
