import CertWatchCore
import Foundation

/// The registry of watches: registration (one and many, idempotent), lookups, lists and counts,
/// removal and "poll soon". Used by the HTTP API's watch routes, the CLI, the push intake (auto
/// registration), the console, and the watcher (``activeWatchCount()`` for its metrics).
///
/// Times are Unix seconds. Implemented by both backends (``Store``, ``PostgresStore``) and checked
/// by one conformance suite (`Tests/CertWatchTests/Storage/StorageConformanceTests.swift`).
public protocol WatchRegistry: Sendable {
    /// Registers a watch, idempotently: the same `(api, order_id)` or `(api, encrypted_code)` returns
    /// the existing watch with the new labels merged in (a removed or failed watch becomes active again, due at
    /// `firstPollAt`, its failure count reset). Returns the watch and whether it was created. Throws ``ValidationError`` for bad input.
    func register(_ registration: WatchRegistration, now: Int64, firstPollAt: Int64) async throws -> (watch: Watch, created: Bool)

    /// Registers many watches in one transaction; each input gets its own result (invalid items fail alone).
    func registerMany(_ registrations: [WatchRegistration], now: Int64, firstPollAt: Int64) async throws
        -> [Result<(watch: Watch, created: Bool), ValidationError>]

    /// The watch with `id`, or `nil`.
    func watch(id: String) async throws -> Watch?

    /// The watches a person's reference names: the watch with that id (`w_…`), or else every watch
    /// of that `order_id` or `encrypted_code` (one per endpoint family), by id.
    func watches(matching reference: String) async throws -> [Watch]

    /// Watches ordered by id, filtered by state (``Watch/State/stalled`` and ``Watch/State/active``
    /// exclude each other), labels (all must match) and `account_id`, after the id `after`, at most `limit`.
    func watches(state: Watch.State?, labels: [String: String], accountID: String?, after: String?, limit: Int) async throws -> [Watch]

    /// Watches by shown state (stalled ones counted as ``Watch/State/stalled``, not active).
    func watchCounts() async throws -> [Watch.State: Int]

    /// The number of active (polled) watches, stalled ones included.
    func activeWatchCount() async throws -> Int

    /// Marks a watch removed (no longer polled; its certificates and events are kept). `false` when
    /// there is no such watch.
    func remove(id: String, now: Int64) async throws -> Bool

    /// Makes an active watch due at `at` at the latest. `false` when there is no such active watch.
    func pollSoon(id: String, at: Int64) async throws -> Bool
}
