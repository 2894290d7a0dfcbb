import Crypto
import Foundation

/// The signing schemes of chat-bot webhooks.
package enum ChatBotSigning {
    /// DingTalk custom robot (加签): `sign = urlEncode(base64(HMAC-SHA256(key: secret,
    /// message: "<timestamp>\n<secret>")))`, `timestamp` in milliseconds; both go in the query.
    /// Returns the URL-encoded sign.
    package static func dingTalk(timestampMilliseconds: Int64, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestampMilliseconds)\n\(secret)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return formEncode(Data(mac).base64EncodedString())
    }

    /// Feishu/Lark custom bot (签名校验): `sign = base64(HMAC-SHA256(key: "<timestamp>\n<secret>",
    /// message: empty))`, `timestamp` in seconds; both go in the JSON body.
    package static func feishu(timestampSeconds: Int64, secret: String) -> String {
        let key = SymmetricKey(data: Data("\(timestampSeconds)\n\(secret)".utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(), using: key)
        return Data(mac).base64EncodedString()
    }

    /// Percent-encodes everything but unreserved characters (`+`, `/`, `=` included).
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
