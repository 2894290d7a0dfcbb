import CertWatchCore
import Foundation

/// Retention, readiness and shutdown of the storage. Used by ``RetentionService``, `/readyz` and the
/// assembly.
public protocol StorageMaintenance: Sendable {
    /// Deletes up to `limit` delivery attempts that started before `cutoff` (Unix seconds). Returns how many.
    func pruneDeliveryAttempts(startedBefore cutoff: Double, limit: Int) async throws -> Int

    /// Deletes up to `limit` of the oldest events whose `time` is before `cutoff` (Unix seconds) and
    /// that have no open delivery, with their deliveries and those deliveries' attempts. Returns how
    /// many events.
    func pruneEvents(before cutoff: Int64, limit: Int) async throws -> Int

    /// Throws unless the database takes a write now (readiness).
    func checkWritable() async throws

    /// Releases the connections (PostgreSQL); the store must not be used afterwards. A no-op for SQLite.
    func close() async throws
}
