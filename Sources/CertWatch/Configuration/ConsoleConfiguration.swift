import CertWatchCore

/// The operator console at `/console/` (`console.*`): whether `serve` serves it, the key its
/// session cookies are signed with, and whether they are marked `Secure` always.
public struct ConsoleConfiguration: Sendable, Hashable {
    /// Serve `/console/` (`console.enabled`, default true). Sign-in takes one of `http.api_keys`;
    /// without API keys nobody can sign in (as nobody can use `/v1`).
    public var enabled: Bool
    /// The secret session cookies are signed with (HMAC-SHA256; `console.session_secret`, at least
    /// 32 characters). Unset: a random key per process, so a restart signs everyone out and each
    /// replica behind a load balancer needs sticky sessions; set the same secret on every replica
    /// to let any of them verify a session.
    public var sessionSecret: String?
    /// Always mark the session cookie `Secure` (`console.secure_cookie`, default false: only when the
    /// request came over HTTPS, as a proxy's `X-Forwarded-Proto: https` says).
    public var secureCookie: Bool
    /// How long a session lasts, seconds (`console.session_lifetime`, default 12 h; 5 min … 7 d).
    public var sessionLifetime: Int64

    /// Settings with the defaults of an empty file (enabled, a random key per process, 12 h sessions).
    public init(enabled: Bool = true, sessionSecret: String? = nil, secureCookie: Bool = false, sessionLifetime: Int64 = 12 * 3_600) {
        self.enabled = enabled
        self.sessionSecret = sessionSecret
        self.secureCookie = secureCookie
        self.sessionLifetime = sessionLifetime
    }

    /// Reads `console.*` from `file`. Throws ``ConfigurationError`` with the value's file:line:col
    /// for a malformed value or a session secret shorter than 32 characters.
    public init(file: ConfigurationFile) throws(ConfigurationError) {
        let defaults = ConsoleConfiguration()
        let secret = try file.string("console.session_secret").flatMap { $0.isEmpty ? nil : $0 }
        if let secret, secret.count < 32 {
            throw ConfigurationError(
                location: file.location(of: "console.session_secret"), key: "console.session_secret",
                message: "must be at least 32 characters (e.g. `openssl rand -base64 32`), found \(secret.count)")
        }
        let lifetime = try file.duration("console.session_lifetime") ?? defaults.sessionLifetime
        guard (300...7 * 86_400).contains(lifetime) else {
            throw ConfigurationError(
                location: file.location(of: "console.session_lifetime"), key: "console.session_lifetime",
                message: "must be between 5m and 7d, found \(DurationText.format(lifetime))")
        }
        self.init(
            enabled: try file.bool("console.enabled") ?? defaults.enabled, sessionSecret: secret,
            secureCookie: try file.bool("console.secure_cookie") ?? defaults.secureCookie, sessionLifetime: lifetime)
    }
}
