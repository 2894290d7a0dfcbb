import Crypto
import Foundation
import Synchronization

/// The console's sessions: signed, expiring cookies, so no session table is needed and any process
/// holding the same key accepts them.
///
/// Sign-in checks an API key against `http.api_keys` (``APIKeySet``, as `/v1` does) and issues
/// `v1.<expires>.<key id>.<nonce>.<signature>`: `expires` in Unix seconds, `key id` an HMAC of the
/// API key used (so a key removed from the configuration ends its sessions, and the cookie reveals
/// nothing about the key), a random nonce, and an HMAC-SHA256 over the rest with the session key
/// (``ConsoleConfiguration/sessionSecret``, else random per process). Each session's CSRF token is
/// an HMAC of its nonce, checked in constant time on every POST. Sign-out revokes the nonce in this
/// process (other replicas accept the cookie until it expires, but the browser has dropped it).
final class ConsoleSessions: Sendable {
    /// A verified session.
    struct Session: Sendable, Hashable {
        /// When it ends, Unix seconds.
        var expires: Int64
        /// Which API key signed in (an HMAC of it, hex).
        var keyID: String
        /// The session's random id.
        var nonce: String
    }

    /// The session cookie's name.
    static let cookieName = "certwatch_session"
    /// The sign-in form's cookie (a nonce the form's CSRF token is bound to).
    static let signInCookieName = "certwatch_signin"

    private let key: SymmetricKey
    private let keys: APIKeySet
    private let keyIDs: [String]
    /// Session lifetime, seconds.
    let lifetime: Int64
    /// Signed-out nonces with their expiry, pruned as they expire.
    private let revoked = Mutex<[String: Int64]>([:])
    /// Wrong keys per client address (``SignInThrottle``).
    private let throttle = Mutex(SignInThrottle())

    /// - Parameters:
    ///   - apiKeys: the keys that may sign in (`http.api_keys`).
    ///   - secret: the signing secret; `nil` for a random one (sessions end with the process).
    ///   - lifetime: seconds a session lasts.
    init(apiKeys: [String], secret: String?, lifetime: Int64) {
        let key = secret.map { SymmetricKey(data: SHA256.hash(data: Data($0.utf8))) } ?? SymmetricKey(size: .bits256)
        self.key = key
        self.keys = APIKeySet(apiKeys)
        self.keyIDs = apiKeys.filter { !$0.isEmpty }.map { String(Self.mac(key, "key." + $0).prefix(16)) }
        self.lifetime = lifetime
    }

    /// Whether any API key is configured (without one nobody can sign in).
    var canSignIn: Bool { !keys.isEmpty }

    /// Seconds until `address` may try a key again at `now` (Unix seconds), or `nil` when it may now
    /// (``SignInThrottle``).
    func signInRetryAfter(address: String, now: Int64) -> Int64? {
        throttle.withLock { $0.retryAfter(address, now: now) }
    }

    /// A new session for `apiKey` at `now` (Unix seconds) and its cookie value, or `nil` when the key
    /// is not one of the configured ones (counted against `address`, ``signInRetryAfter(address:now:)``).
    func signIn(apiKey: String, now: Int64, address: String) -> (session: Session, cookie: String)? {
        guard let index = keys.match(apiKey) else {
            throttle.withLock { $0.failed(address, now: now) }
            return nil
        }
        throttle.withLock { $0.succeeded(address) }
        let session = Session(expires: now + lifetime, keyID: keyIDs[index], nonce: Self.randomToken())
        let payload = "v1.\(session.expires).\(session.keyID).\(session.nonce)"
        return (session, payload + "." + Self.mac(key, payload))
    }

    /// The session a cookie value carries, when its signature is valid, it has not expired at `now`
    /// (Unix seconds), its API key is still configured and it was not signed out; else `nil`.
    func session(cookie: String, now: Int64) -> Session? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "v1", let expires = Int64(parts[1]), cookie.utf8.count <= 512 else { return nil }
        let payload = parts[0..<4].joined(separator: ".")
        guard Self.valid(key, mac: parts[4], for: payload), now < expires, keyIDs.contains(parts[2]) else { return nil }
        let session = Session(expires: expires, keyID: parts[2], nonce: parts[3])
        guard revoked.withLock({ $0[session.nonce] == nil }) else { return nil }
        return session
    }

    /// Ends `session` in this process (its cookie is refused from now on).
    func signOut(_ session: Session, now: Int64) {
        revoked.withLock { revoked in
            revoked = revoked.filter { $0.value > now }
            revoked[session.nonce] = session.expires
        }
    }

    /// The CSRF token of a session (what every console form sends as `csrf`).
    func csrfToken(_ session: Session) -> String { Self.mac(key, "csrf." + session.nonce) }

    /// Whether `token` is `session`'s CSRF token (constant-time).
    func checkCSRF(_ token: String, session: Session) -> Bool { Self.valid(key, mac: token, for: "csrf." + session.nonce) }

    /// The sign-in form's CSRF token for the nonce in its cookie.
    func signInToken(nonce: String) -> String { Self.mac(key, "signin." + nonce) }

    /// Whether `token` is the sign-in form's token for `nonce` (constant-time).
    func checkSignInToken(_ token: String, nonce: String) -> Bool { Self.valid(key, mac: token, for: "signin." + nonce) }

    /// 32 random bytes, base64url without padding.
    static func randomToken() -> String {
        base64url(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    private static func mac(_ key: SymmetricKey, _ text: String) -> String {
        base64url(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
    }

    /// Checks a base64url MAC in constant time (swift-crypto's comparison).
    private static func valid(_ key: SymmetricKey, mac: String, for text: String) -> Bool {
        guard mac.utf8.count == 43, let data = Data(base64Encoded: fromBase64url(mac)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(data, authenticating: Data(text.utf8), using: key)
    }

    private static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func fromBase64url(_ text: String) -> String {
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
    }
}
