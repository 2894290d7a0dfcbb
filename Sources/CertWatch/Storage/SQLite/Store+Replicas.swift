import Foundation
import GRDB

extension Store {
    // MARK: Replicas

    /// See ``ReplicaRegistry/heartbeat(now:staleAfter:slowedAt:)``: one transaction. A SQLite file
    /// has one instance (``InstanceLock``), so this finds itself alone, unless a process that
    /// died without leaving is still inside `staleAfter`.
    package func heartbeat(now: Double, staleAfter: Double, slowedAt: Double?) async throws -> ReplicaMembership {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO instances (id, started_at, heartbeat_at, slowed_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, slowed_at = excluded.slowed_at
                    """, arguments: [self.instanceID, now, now, slowedAt])
            let reaped = try String.fetchAll(
                db, sql: "SELECT id FROM instances WHERE heartbeat_at < ? AND id <> ?", arguments: [now - staleAfter, self.instanceID])
            if !reaped.isEmpty {
                let marks = Array(repeating: "?", count: reaped.count).joined(separator: ",")
                let owners = StatementArguments(reaped)
                try db.execute(sql: "UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE leased_by IN (\(marks))", arguments: owners)
                try db.execute(sql: "UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE leased_by IN (\(marks))", arguments: owners)
                try db.execute(sql: "DELETE FROM instances WHERE id IN (\(marks))", arguments: owners)
            }
            let row = try Row.fetchOne(
                db,
                sql: "SELECT COUNT(*) AS live, MAX(CASE WHEN id <> ? THEN slowed_at END) AS slowed FROM instances",
                arguments: [self.instanceID])
            return ReplicaMembership(live: row?["live"] ?? 1, othersSlowedAt: row?["slowed"], reaped: reaped)
        }
    }

    /// See ``ReplicaRegistry/leave()``.
    package func leave() async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE leased_by = ?", arguments: [self.instanceID])
            try db.execute(sql: "UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE leased_by = ?", arguments: [self.instanceID])
            try db.execute(sql: "DELETE FROM instances WHERE id = ?", arguments: [self.instanceID])
        }
    }

    // MARK: Push messages

    /// See ``PushMessageLog/pushMessageSeen(_:)``.
    package func pushMessageSeen(_ messageID: String) async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM push_messages WHERE msg_id = ?)", arguments: [messageID]) ?? false
        }
    }

    /// See ``PushMessageLog/rememberPushMessage(_:at:)``.
    package func rememberPushMessage(_ messageID: String, at: Double) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO push_messages (msg_id, handled_at) VALUES (?, ?) ON CONFLICT (msg_id) DO NOTHING",
                arguments: [messageID, at])
        }
    }

    /// See ``PushMessageLog/prunePushMessages(before:)``.
    package func prunePushMessages(before cutoff: Double) async throws -> Int {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM push_messages WHERE handled_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }
}
