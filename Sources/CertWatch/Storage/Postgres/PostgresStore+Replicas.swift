import Foundation
import PostgresNIO

extension PostgresStore {
    // MARK: Replicas

    /// See ``ReplicaRegistry/heartbeat(now:staleAfter:slowedAt:)``: one transaction. Two replicas
    /// reaping the same dead one at once both end its leases; doing it twice is harmless.
    package func heartbeat(now: Double, staleAfter: Double, slowedAt: Double?) async throws -> ReplicaMembership {
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO instances (id, started_at, heartbeat_at, slowed_at) VALUES (\(self.instanceID), \(now), \(now), \(slowedAt))
                ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, slowed_at = excluded.slowed_at
                """, logger: self.logger)
            let reaped = try await connection.rows(
                "DELETE FROM instances WHERE heartbeat_at < \(now - staleAfter) AND id <> \(self.instanceID) RETURNING id",
                logger: self.logger
            ).map { try $0.string("id") }
            if !reaped.isEmpty {
                try await connection.query(
                    "UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE leased_by = ANY(\(reaped))", logger: self.logger)
                try await connection.query(
                    "UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE leased_by = ANY(\(reaped))", logger: self.logger)
            }
            let row = try await connection.rows(
                """
                SELECT COUNT(*) AS live, MAX(CASE WHEN id <> \(self.instanceID) THEN slowed_at END) AS slowed FROM instances
                """, logger: self.logger
            ).first
            return ReplicaMembership(
                live: Int(try row?.int64("live") ?? 1), othersSlowedAt: try row?.value("slowed", as: Double?.self), reaped: reaped)
        }
    }

    /// See ``ReplicaRegistry/leave()``.
    package func leave() async throws {
        try await transaction { connection in
            try await connection.query(
                "UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE leased_by = \(self.instanceID)", logger: self.logger)
            try await connection.query(
                "UPDATE deliveries SET leased_until = NULL, leased_by = NULL WHERE leased_by = \(self.instanceID)", logger: self.logger)
            try await connection.query("DELETE FROM instances WHERE id = \(self.instanceID)", logger: self.logger)
        }
    }

    // MARK: Push messages

    /// See ``PushMessageLog/pushMessageSeen(_:)``.
    package func pushMessageSeen(_ messageID: String) async throws -> Bool {
        try await !rows("SELECT 1 AS seen FROM push_messages WHERE msg_id = \(messageID)").isEmpty
    }

    /// See ``PushMessageLog/rememberPushMessage(_:at:)``.
    package func rememberPushMessage(_ messageID: String, at: Double) async throws {
        _ = try await rows(
            "INSERT INTO push_messages (msg_id, handled_at) VALUES (\(messageID), \(at)) ON CONFLICT (msg_id) DO NOTHING RETURNING msg_id")
    }

    /// See ``PushMessageLog/prunePushMessages(before:)``.
    package func prunePushMessages(before cutoff: Double) async throws -> Int {
        try await rows("DELETE FROM push_messages WHERE handled_at < \(cutoff) RETURNING msg_id").count
    }
}
