import Foundation

/// An HTTP request a sink's format produced: what ``HTTPSink`` sends.
package struct SinkRequest: Sendable {
    /// The URL (may carry query signatures, e.g. DingTalk).
    package var url: String
    /// Headers, in order.
    package var headers: [(String, String)]
    /// The body.
    package var body: Data

    package init(url: String, headers: [(String, String)], body: Data) {
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// JSON helpers for building payloads.
enum PayloadJSON {
    /// Compact JSON with sorted keys and unescaped slashes; `{}` if the value cannot be encoded.
    static func encode(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// The body as a JSON object, when it is one.
    static func object(_ text: String) -> [String: Any]? {
        guard let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}
