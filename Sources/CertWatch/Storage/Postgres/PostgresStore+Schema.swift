import PostgresNIO

/// Size and removal of a store's schema (benchmarks and tooling that work on throwaway schemas).
extension PostgresStore {
    /// The on-disk size of certwatch's tables in this store's schema (the current schema when
    /// ``schema`` is `nil`), indexes and TOAST included, in bytes (`pg_total_relation_size`).
    package func storageBytes() async throws -> Int64 {
        try await rows(
            """
            SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = COALESCE(\(schema)::text, current_schema()::text) AND c.relkind = 'r'
            """
        ).first?.int64("bytes") ?? 0
    }

    /// Runs `ANALYZE` on certwatch's tables in this store's schema (the current one when
    /// ``schema`` is `nil`), as autovacuum does after many changes (within a minute or so by
    /// default). Until then the planner has no statistics for rows just bulk-loaded, and a claim
    /// sorts every due watch instead of reading the due index in order: benchmarks call this after
    /// registering, to measure the steady state. Throws PostgresNIO's errors.
    package func analyze() async throws {
        for table in ["watches", "certificates", "events", "deliveries"] {
            _ = try await rows(PostgresQuery(unsafeSQL: "ANALYZE \(table)"))
        }
    }

    /// Drops this store's schema with everything in it (`DROP SCHEMA … CASCADE`) and closes the
    /// store. Only for a store connected with a `schema:` of its own; throws
    /// ``PostgresStoreError`` when ``schema`` is `nil` (the default schema is never dropped), and
    /// PostgresNIO's errors when the server refuses.
    package func dropSchema() async throws {
        guard let schema else { throw PostgresStoreError.usage("dropSchema needs a store connected with a schema of its own") }
        // `schema` was checked at connect: letters, digits and _ only.
        _ = try await rows(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE"))
        try await close()
    }
}
