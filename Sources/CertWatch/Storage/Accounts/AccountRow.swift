import Foundation

/// The `accounts` row of an ``Account``, as both backends write it: the column names and values in
/// one order, and the statements over them with the backend's placeholders (`?` for SQLite,
/// `$1…` for PostgreSQL). ``Account/init(row:)`` reads it back.
struct AccountRow {
    /// A column's value: text or integer, either NULL.
    enum Value {
        case text(String?)
        case integer(Int64?)
    }

    /// The columns, in the order of ``values``.
    static let columns = [
        "account_id", "name", "poi_ids", "app", "feed_enabled", "feed_interval", "sweep_enabled", "sweep_interval", "source",
        "created_at", "updated_at", "authorization_status", "unauthorized_since", "authorization_reason", "feed_state",
        "sweep_state",
    ]

    /// The values of `account`, in the order of ``columns``.
    static func values(_ account: Account) -> [Value] {
        let settings = account.settings
        return [
            .text(settings.accountID), .text(settings.name), .text(settings.poiIDsJSON), .text(settings.app),
            .integer(settings.feed.enabled ? 1 : 0), .integer(settings.feed.interval), .integer(settings.sweep.enabled ? 1 : 0),
            .integer(settings.sweep.interval), .text(account.source.rawValue), .integer(account.createdAt), .integer(account.updatedAt),
            .text(account.authorization.status.rawValue), .integer(account.authorization.since), .text(account.authorization.reason),
            .text(storedJSON(account.feedState)), .text(storedJSON(account.sweepState)),
        ]
    }

    /// Writes a whole row: inserted, or every column but `account_id` replaced.
    static func upsert(mark: (Int) -> String) -> String {
        let marks = columns.indices.map { mark($0 + 1) }.joined(separator: ", ")
        let updates = columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO accounts (\(columns.joined(separator: ", "))) VALUES (\(marks)) ON CONFLICT (account_id) DO UPDATE SET \(updates)"
    }

    /// Pauses the active watches of an account (`$1`/`?`: its id): the states come from ``Watch/State``.
    static let pauseWatches =
        "UPDATE watches SET state = '\(Watch.State.paused.rawValue)', hinted_at = NULL WHERE account_id = {1} AND state = '\(Watch.State.active.rawValue)'"

    /// Resumes the paused watches of an account (`{1}`: its id), due at `{2}`.
    static let resumeWatches =
        "UPDATE watches SET state = '\(Watch.State.active.rawValue)', next_poll_at = {2}, next_poll_targeted = FALSE, consecutive_failures = 0 WHERE account_id = {1} AND state = '\(Watch.State.paused.rawValue)'"

    /// Counts an account's watches by shown state (`{1}`: its id).
    static let watchCounts = """
        SELECT CASE WHEN state = '\(Watch.State.active.rawValue)' AND stalled_since IS NOT NULL THEN '\(Watch.State.stalled.rawValue)' ELSE state END AS shown,
               COUNT(*) AS n
        FROM watches WHERE account_id = {1} GROUP BY shown
        """

    /// `sql` with its `{n}` marks written by `mark`.
    static func sql(_ sql: String, mark: (Int) -> String) -> String {
        var text = sql
        for index in (1...9).reversed() { text = text.replacingOccurrences(of: "{\(index)}", with: mark(index)) }
        return text
    }
}

extension Account {
    /// The account after saving `settings` from `source` at `now` over `stored` (`nil`: a new one,
    /// authorized, its detectors idle). A detector that was `not_permitted` is idle again: saving is
    /// how an operator says "try again".
    static func saving(_ settings: AccountSettings, source: AccountSettings.Source, now: Int64, over stored: Account?) -> Account {
        guard var account = stored else {
            return Account(
                settings: settings, source: source, createdAt: now, updatedAt: now, authorization: .authorized,
                feedState: DetectorState(), sweepState: DetectorState())
        }
        if account.settings != settings || account.source != source { account.updatedAt = now }
        account.settings = settings
        account.source = source
        if account.feedState.status == .notPermitted { account.feedState.status = .idle }
        if account.sweepState.status == .notPermitted { account.sweepState.status = .idle }
        return account
    }

    /// The account after Douyin's word `status` on its authorization at `now`.
    func authorized(_ status: Authorization.Status, reason: String?, now: Int64) -> Account {
        var account = self
        switch status {
        case .authorized: account.authorization = .authorized
        case .unauthorized:
            account.authorization = Authorization(
                status: .unauthorized, since: authorization.status == .unauthorized ? authorization.since ?? now : now,
                reason: reason ?? authorization.reason)
        }
        return account
    }
}
