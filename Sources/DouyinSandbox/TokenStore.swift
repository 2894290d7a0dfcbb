import DouyinOpenAPI

/// Client tokens, following Douyin's rules for `POST /oauth/client_token/` and
/// `POST /oauth/stable_client_token/`:
///
/// - a token is `clt.` + 60 characters and is valid for `lifetime` seconds (default 7200);
/// - `client_token` always issues a new token; the previous one stays valid for the grace period
///   (default 300 s, never beyond its own expiry), and only the newest two stay valid at all;
/// - `stable_client_token` returns the newest token while more than the grace period of it
///   remains (with `expires_in` = what remains), else issues a new one like `client_token`;
/// - more than 500 token calls within 5 minutes answer 10020 (频控), as Douyin documents.
///
/// A token that was never issued (or was forgotten a day after it stopped being valid) is
/// invalid (2190002); a token past its validity is expired (2190008).
struct TokenStore: Sendable {
    enum Validity: Sendable, Equatable { case valid, expired, unknown }

    struct Issued: Sendable {
        var value: String
        var expiresAt: Int64
        var validUntil: Int64
    }

    let lifetime: Int64
    let grace: Int64
    private var tokens: [String: Issued] = [:]
    private var newest: String?
    private var previous: String?
    private var calls: [Int64] = []
    private var rng: SeededGenerator

    init(lifetime: Int64, grace: Int64, seed: UInt64) {
        self.lifetime = lifetime
        self.grace = grace
        self.rng = SeededGenerator(seed: seed ^ 0x746F_6B65_6E73)
    }

    /// Counts a token call at `now`; `false` when the documented frequency limit is exceeded.
    mutating func admitCall(at now: Int64) -> Bool {
        calls.removeAll { $0 <= now - 300 }
        guard calls.count < 500 else { return false }
        calls.append(now)
        return true
    }

    /// A token for a `client_token` (`stable == false`) or `stable_client_token` call: value and `expires_in`.
    mutating func issue(stable: Bool, at now: Int64) -> (token: String, expiresIn: Int64) {
        prune(at: now)
        if stable, let newest, let current = tokens[newest], current.validUntil - now > grace {
            return (current.value, current.validUntil - now)
        }
        if let previous, let old = tokens[previous] { tokens[previous]?.validUntil = min(old.validUntil, now) }
        if let newest, let current = tokens[newest] {
            tokens[newest]?.validUntil = min(current.validUntil, now + grace)
        }
        let value = "clt." + FakeData.token(32, &rng, alphabet: FakeData.hex) + FakeData.token(28, &rng, alphabet: FakeData.alphanumerics)
        tokens[value] = Issued(value: value, expiresAt: now + lifetime, validUntil: now + lifetime)
        previous = newest
        newest = value
        return (value, lifetime)
    }

    func validity(of token: String, at now: Int64) -> Validity {
        guard let issued = tokens[token] else { return .unknown }
        return now < issued.validUntil ? .valid : .expired
    }

    /// Ends `token`'s validity now (fault `token_expired`, admin `POST /sandbox/tokens/expire`).
    mutating func expire(_ token: String, at now: Int64) {
        if let issued = tokens[token] { tokens[token]?.validUntil = min(issued.validUntil, now) }
    }

    /// Ends every token's validity now.
    mutating func expireAll(at now: Int64) {
        for key in tokens.keys { expire(key, at: now) }
    }

    private mutating func prune(at now: Int64) {
        if tokens.count > 64 { tokens = tokens.filter { $0.value.validUntil > now - 86_400 } }
    }
}
