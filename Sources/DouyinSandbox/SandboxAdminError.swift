/// A refused admin call (`/sandbox/…`), answered as HTTP 4xx with
/// `{"error": {"code": "…", "message": "…", "field": "…"?, "douyin_error_code": N?}}`.
///
/// `code` values: `invalid_json`, `invalid_argument` (with `field`, a JSON path), `not_found`,
/// `conflict` (a state rule refused the action; `douyin_error_code` is 4000002),
/// `payload_too_large`, `method_not_allowed`.
package struct SandboxAdminError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// HTTP status: 400, 404, 409 or 413.
    package var status: Int
    /// Machine-readable code.
    package var code: String
    /// What went wrong, for people.
    package var message: String
    /// The offending input field, as a JSON path, when there is one.
    package var field: String?
    /// For state conflicts: the Douyin business code the real verify/cancel APIs would answer.
    package var douyinErrorCode: Int64?

    package init(status: Int, code: String, message: String, field: String? = nil, douyinErrorCode: Int64? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.douyinErrorCode = douyinErrorCode
    }

    /// 400 `invalid_argument` naming `field`.
    package static func invalid(_ field: String?, _ message: String) -> SandboxAdminError {
        SandboxAdminError(status: 400, code: "invalid_argument", message: message, field: field)
    }

    /// 404 `not_found`.
    package static func notFound(_ message: String, field: String? = nil) -> SandboxAdminError {
        SandboxAdminError(status: 404, code: "not_found", message: message, field: field)
    }

    /// 409 `conflict`: a state rule refused the action (Douyin would answer 4000002 根据实际业务错误返回).
    package static func conflict(_ message: String) -> SandboxAdminError {
        SandboxAdminError(status: 409, code: "conflict", message: message, douyinErrorCode: 4_000_002)
    }

    package var description: String { "\(code): \(message)" + (field.map { " (field \($0))" } ?? "") }

    enum CodingKeys: String, CodingKey {
        case code, message, field, douyinErrorCode = "douyin_error_code"
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = 400
        code = try c.decode(String.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
        field = try c.decodeIfPresent(String.self, forKey: .field)
        douyinErrorCode = try c.decodeIfPresent(Int64.self, forKey: .douyinErrorCode)
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(code, forKey: .code)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(field, forKey: .field)
        try c.encodeIfPresent(douyinErrorCode, forKey: .douyinErrorCode)
    }
}
