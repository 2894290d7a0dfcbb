import Foundation
import GRDB

extension Store {
    /// See ``AccountRegistry/saveAccount(_:source:now:)``: one write transaction.
    package func saveAccount(_ settings: AccountSettings, source: AccountSettings.Source, now: Int64) async throws
        -> (account: Account, created: Bool)
    {
        try settings.validate()
        return try await writer.write { db in
            let stored = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE account_id = ?", arguments: [settings.accountID])
                .map { try Account(row: $0) }
            let account = Account.saving(settings, source: source, now: now, over: stored)
            try Self.write(account, db: db)
            return (account, stored == nil)
        }
    }

    /// See ``AccountRegistry/account(id:)``.
    package func account(id: String) async throws -> Account? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE account_id = ?", arguments: [id]).map { try Account(row: $0) }
        }
    }

    /// See ``AccountRegistry/accounts()``.
    package func accounts() async throws -> [Account] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY account_id").map { try Account(row: $0) }
        }
    }

    /// See ``AccountRegistry/removeAccount(id:now:)``.
    package func removeAccount(id: String, now: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM accounts WHERE account_id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            // No account, no one to resume them: its paused watches are polled again, due now.
            try db.execute(
                sql: AccountRow.sql(AccountRow.resumeWatches, mark: { _ in "?" }), arguments: [now, id])
            return true
        }
    }

    /// See ``AccountRegistry/recordDetector(_:of:state:)``.
    package func recordDetector(_ detector: AccountDetector, of accountID: String, state: DetectorState) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE accounts SET \(detector.rawValue)_state = ? WHERE account_id = ?", arguments: [storedJSON(state), accountID])
        }
    }

    /// See ``AccountRegistry/setAuthorization(_:of:reason:now:)``: one write transaction.
    package func setAuthorization(_ status: Account.Authorization.Status, of accountID: String, reason: String?, now: Int64)
        async throws -> Int
    {
        try await writer.write { db in
            guard
                let stored = try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE account_id = ?", arguments: [accountID])
                    .map({ try Account(row: $0) })
            else { return 0 }
            try Self.write(stored.authorized(status, reason: reason, now: now), db: db)
            let mark: (Int) -> String = { _ in "?" }
            switch status {
            case .unauthorized: try db.execute(sql: AccountRow.sql(AccountRow.pauseWatches, mark: mark), arguments: [accountID])
            case .authorized:
                // {1} account, {2} due: SQLite binds by position of appearance.
                try db.execute(
                    sql: AccountRow.sql(AccountRow.resumeWatches, mark: mark), arguments: [now, accountID])
            }
            return db.changesCount
        }
    }

    /// See ``AccountRegistry/watchCounts(accountID:)``.
    package func watchCounts(accountID: String) async throws -> [Watch.State: Int] {
        try await writer.read { db in
            var counts: [Watch.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: AccountRow.sql(AccountRow.watchCounts, mark: { _ in "?" }), arguments: [accountID]) {
                counts[try row.decodedValue(Watch.State.self, "shown", table: "watches")] = row["n"]
            }
            return counts
        }
    }

    /// See ``AccountRegistry/watches(accountID:state:limit:)``.
    package func watches(accountID: String, state: Watch.State, limit: Int) async throws -> [Watch] {
        try await writer.read { db in
            let stalled = state == .stalled ? "AND stalled_since IS NOT NULL" : state == .active ? "AND stalled_since IS NULL" : ""
            return try Row.fetchAll(
                db, sql: "SELECT * FROM watches WHERE account_id = ? AND state = ? \(stalled) ORDER BY id LIMIT ?",
                arguments: [accountID, state.stored, limit]
            ).map(Self.watch(from:))
        }
    }

    private static func write(_ account: Account, db: Database) throws {
        let arguments = StatementArguments(
            AccountRow.values(account).map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .text(let text): text
                case .integer(let number): number
                }
            })
        try db.execute(sql: AccountRow.upsert(mark: { _ in "?" }), arguments: arguments)
    }
}
