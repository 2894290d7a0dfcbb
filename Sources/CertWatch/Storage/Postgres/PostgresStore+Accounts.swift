import Foundation
import PostgresNIO

extension PostgresStore {
    /// See ``AccountRegistry/saveAccount(_:source:now:)``: one transaction; the stored row is locked
    /// (`FOR UPDATE`) so two replicas saving the file's accounts at start merge, not race.
    package func saveAccount(_ settings: AccountSettings, source: AccountSettings.Source, now: Int64) async throws
        -> (account: Account, created: Bool)
    {
        try settings.validate()
        return try await transaction { connection in
            let stored = try await connection.rows(
                "SELECT * FROM accounts WHERE account_id = \(settings.accountID) FOR UPDATE", logger: self.logger
            ).first.map { try Account(row: $0) }
            let account = Account.saving(settings, source: source, now: now, over: stored)
            try await self.write(account, on: connection)
            return (account, stored == nil)
        }
    }

    /// See ``AccountRegistry/account(id:)``.
    package func account(id: String) async throws -> Account? {
        try await rows("SELECT * FROM accounts WHERE account_id = \(id)").first.map { try Account(row: $0) }
    }

    /// See ``AccountRegistry/accounts()``.
    package func accounts() async throws -> [Account] {
        try await rows("SELECT * FROM accounts ORDER BY account_id").map { try Account(row: $0) }
    }

    /// See ``AccountRegistry/removeAccount(id:now:)``.
    package func removeAccount(id: String, now: Int64) async throws -> Bool {
        try await transaction { connection in
            guard try await connection.count("DELETE FROM accounts WHERE account_id = \(id) RETURNING account_id", logger: self.logger) > 0
            else { return false }
            // No account, no one to resume them: its paused watches are polled again, due now.
            var binds = PostgresBindings()
            binds.append(id)
            binds.append(now)
            try await connection.query(
                PostgresQuery(unsafeSQL: AccountRow.sql(AccountRow.resumeWatches, mark: { "$\($0)" }), binds: binds), logger: self.logger)
            return true
        }
    }

    /// See ``AccountRegistry/recordDetector(_:of:state:)``.
    package func recordDetector(_ detector: AccountDetector, of accountID: String, state: DetectorState) async throws {
        var query = SQLBuilder("UPDATE accounts SET \(detector.rawValue)_state = ")
        query.sql += query.bind(storedJSON(state))
        query.sql += " WHERE account_id = " + query.bind(accountID)
        _ = try await rows(query.query)
    }

    /// See ``AccountRegistry/setAuthorization(_:of:reason:now:)``: one transaction, the account row locked.
    package func setAuthorization(_ status: Account.Authorization.Status, of accountID: String, reason: String?, now: Int64)
        async throws -> Int
    {
        try await transaction { connection in
            guard
                let stored = try await connection.rows(
                    "SELECT * FROM accounts WHERE account_id = \(accountID) FOR UPDATE", logger: self.logger
                ).first.map({ try Account(row: $0) })
            else { return 0 }
            try await self.write(stored.authorized(status, reason: reason, now: now), on: connection)
            var binds = PostgresBindings()
            binds.append(accountID)
            let statement: String
            switch status {
            case .unauthorized: statement = AccountRow.pauseWatches
            case .authorized:
                statement = AccountRow.resumeWatches
                binds.append(now)
            }
            return try await connection.count(
                PostgresQuery(unsafeSQL: AccountRow.sql(statement, mark: { "$\($0)" }) + " RETURNING id", binds: binds),
                logger: self.logger)
        }
    }

    /// See ``AccountRegistry/watchCounts(accountID:)``.
    package func watchCounts(accountID: String) async throws -> [Watch.State: Int] {
        var binds = PostgresBindings()
        binds.append(accountID)
        var counts: [Watch.State: Int] = [:]
        for row in try await rows(PostgresQuery(unsafeSQL: AccountRow.sql(AccountRow.watchCounts, mark: { "$\($0)" }), binds: binds)) {
            counts[try row.decodedValue(Watch.State.self, "shown", table: "watches")] = Int(try row.int64("n"))
        }
        return counts
    }

    /// See ``AccountRegistry/watches(accountID:state:limit:)``.
    package func watches(accountID: String, state: Watch.State, limit: Int) async throws -> [Watch] {
        let stalled = state == .stalled ? "AND stalled_since IS NOT NULL" : state == .active ? "AND stalled_since IS NULL" : ""
        var query = SQLBuilder("SELECT * FROM watches WHERE account_id = ")
        query.sql += query.bind(accountID)
        query.sql += " AND state = " + query.bind(state.stored) + " \(stalled) ORDER BY id LIMIT " + query.bind(limit)
        return try await rows(query.query).map(Self.watch(from:))
    }

    private func write(_ account: Account, on connection: PostgresConnection) async throws {
        var binds = PostgresBindings()
        for value in AccountRow.values(account) {
            switch value {
            case .text(let text): binds.append(text)
            case .integer(let number): binds.append(number)
            }
        }
        try await connection.query(PostgresQuery(unsafeSQL: AccountRow.upsert(mark: { "$\($0)" }), binds: binds), logger: logger)
    }
}
