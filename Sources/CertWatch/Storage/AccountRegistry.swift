import CertWatchCore
import Foundation

/// The merchant accounts (``Account``): saved from the configuration and the API, read by the
/// account detectors (feed and sweep) and the operators, and their authorization, which pauses and
/// resumes the account's watches. Times are Unix seconds.
public protocol AccountRegistry: Sendable {
    /// Saves an account's settings: creates it (authorized, detectors idle) or updates the settings
    /// of the stored one, keeping its state; a detector that was ``DetectorState/Status/notPermitted``
    /// is idle again (it is tried again). Returns the account and whether it was created. Throws
    /// ``ValidationError`` for bad settings.
    func saveAccount(_ settings: AccountSettings, source: AccountSettings.Source, now: Int64) async throws
        -> (account: Account, created: Bool)

    /// The account with `id`, or `nil`.
    func account(id: String) async throws -> Account?

    /// Every account, by `account_id`.
    func accounts() async throws -> [Account]

    /// Deletes an account at `now`. Its watches stay; paused ones are active again, due at `now` (nothing would
    /// resume them). `false` when there is no such account.
    func removeAccount(id: String, now: Int64) async throws -> Bool

    /// Stores what a detector of an account did. A no-op for an account removed meanwhile.
    func recordDetector(_ detector: AccountDetector, of accountID: String, state: DetectorState) async throws

    /// Records Douyin's word on the account's authorization at `now`. `unauthorized`: the account
    /// becomes unauthorized (since `now`, unless it already was) and every active watch of it
    /// becomes ``Watch/State/paused``; `authorized`: it becomes authorized and every paused watch of
    /// it active again, due at `now`. Returns how many watches changed state. An account not stored
    /// changes nothing (0).
    @discardableResult
    func setAuthorization(_ status: Account.Authorization.Status, of accountID: String, reason: String?, now: Int64)
        async throws -> Int

    /// The account's watches by shown state (stalled ones as ``Watch/State/stalled``).
    func watchCounts(accountID: String) async throws -> [Watch.State: Int]

    /// Up to `limit` watches of the account in `state`, by id.
    func watches(accountID: String, state: Watch.State, limit: Int) async throws -> [Watch]
}
