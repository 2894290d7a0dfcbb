import DouyinOpenAPI

/// Which merchant accounts have withdrawn the app's authorization and which APIs the app has no
/// scope for, as `GET /sandbox/access` shows it.
///
/// While an account is deauthorized every API (the certificate query included) answers 2119005
/// (应用未获商家授权) for it; an API without scope answers 2190004 (应用未获得该能力) for everyone.
package struct SandboxAccess: Sendable, Hashable, Codable {
    /// Accounts (`account_id`) that withdrew the authorization.
    package var deauthorizedAccounts: Set<String>
    /// APIs the app lacks scope for.
    package var revokedScopes: Set<DouyinAPIKind>

    package init(deauthorizedAccounts: Set<String> = [], revokedScopes: Set<DouyinAPIKind> = []) {
        self.deauthorizedAccounts = deauthorizedAccounts
        self.revokedScopes = revokedScopes
    }

    enum CodingKeys: String, CodingKey {
        case deauthorizedAccounts = "deauthorized_accounts", revokedScopes = "revoked_scopes"
    }

    /// Sorted lists, so the answer is stable.
    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(deauthorizedAccounts.sorted(), forKey: .deauthorizedAccounts)
        try c.encode(revokedScopes.map(\.rawValue).sorted(), forKey: .revokedScopes)
    }
}

extension DouyinSandbox {
    /// Authorizations and scopes now.
    package func accessState() -> SandboxAccess { access }

    /// The merchant `accountID` withdraws the app's authorization: from now on every API answers
    /// 2119005 for it (its watches should pause, not fail). Throws `invalid_argument` for an empty id.
    @discardableResult
    package func deauthorize(accountID: String) throws(SandboxAdminError) -> SandboxAccess {
        guard !accountID.isEmpty else { throw .invalid("account_id", "account_id must not be empty") }
        access.deauthorizedAccounts.insert(accountID)
        return access
    }

    /// The merchant `accountID` authorizes the app again. Throws `invalid_argument` for an empty id.
    @discardableResult
    package func authorize(accountID: String) throws(SandboxAdminError) -> SandboxAccess {
        guard !accountID.isEmpty else { throw .invalid("account_id", "account_id must not be empty") }
        access.deauthorizedAccounts.remove(accountID)
        return access
    }

    /// The app loses its scope for `api`: every request to it answers 2190004.
    @discardableResult
    package func revokeScope(_ api: DouyinAPIKind) -> SandboxAccess {
        access.revokedScopes.insert(api)
        return access
    }

    /// The app gets its scope for `api` back.
    @discardableResult
    package func grantScope(_ api: DouyinAPIKind) -> SandboxAccess {
        access.revokedScopes.remove(api)
        return access
    }
}
