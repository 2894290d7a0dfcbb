import Crypto
import Foundation

/// The signature of Douyin's push (webhook) requests: header `X-Douyin-Signature` = lowercase hex
/// SHA-1 of (client secret + raw body) (开放平台 Webhooks 签名规则). One implementation for the
/// intake that checks it, the `douyin-push` sink format and the sandbox that send it.
public enum DouyinPushSignature {
    /// Lowercase hex SHA-1 of `clientSecret + body`.
    public static func hex(clientSecret: String, body: Data) -> String {
        var input = Data(clientSecret.utf8)
        input.append(body)
        return Insecure.SHA1.hash(data: input).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` is the signature of `body` (case-insensitive, compared in constant time).
    /// `false` when the header is absent or the secret is empty.
    public static func matches(_ header: String?, clientSecret: String, body: Data) -> Bool {
        guard let header, !clientSecret.isEmpty else { return false }
        let given = Array(header.lowercased().utf8)
        let expected = Array(hex(clientSecret: clientSecret, body: body).utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
