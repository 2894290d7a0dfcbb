import CertWatchCore
import DouyinOpenAPI
import Foundation
import PostgresNIO

/// Watches, scheduling (claims with `FOR UPDATE SKIP LOCKED`), push hints, polls and events.
extension PostgresStore {
    // MARK: Watches

    /// See ``CertWatchStorage/register(_:now:firstPollAt:)``: one transaction.
    public func register(_ registration: WatchRegistration, now: Int64, firstPollAt: Int64) async throws -> (watch: Watch, created: Bool) {
        let registration = try registration.validated()
        return try await transaction { connection in
            try await self.register(registration, on: connection, now: now, firstPollAt: firstPollAt)
        }
    }

    /// See ``CertWatchStorage/registerMany(_:now:firstPollAt:)``: one transaction.
    public func registerMany(_ registrations: [WatchRegistration], now: Int64, firstPollAt: Int64) async throws
        -> [Result<(watch: Watch, created: Bool), ValidationError>]
    {
        try await transaction { connection in
            var results: [Result<(watch: Watch, created: Bool), ValidationError>] = []
            for registration in registrations {
                let valid: WatchRegistration
                do {
                    valid = try registration.validated()
                } catch let error as ValidationError {
                    results.append(.failure(error))
                    continue
                } catch {
                    results.append(.failure(ValidationError(message: "\(error)")))
                    continue
                }
                results.append(.success(try await self.register(valid, on: connection, now: now, firstPollAt: firstPollAt)))
            }
            return results
        }
    }

    /// Registers in the caller's transaction. A registration racing another replica's for the same
    /// target (the unique index refuses the second insert) returns the watch the other one made.
    private func register(_ registration: WatchRegistration, on connection: PostgresConnection, now: Int64, firstPollAt: Int64)
        async throws -> (watch: Watch, created: Bool)
    {
        let api = registration.api ?? .compreRetail
        if let existing = try await connection.rows(
            """
            SELECT * FROM watches WHERE api = \(api.rawValue) AND (order_id = \(registration.orderID) OR encrypted_code = \(registration.encryptedCode))
            LIMIT 1 FOR UPDATE
            """, logger: logger
        ).first {
            var watch = try Self.watch(from: existing)
            watch.labels.merge(registration.labels ?? [:]) { $1 }
            if let accountID = registration.accountID { watch.accountID = accountID }
            if watch.state == .removed || watch.state == .failed {
                // Asked for again: polled again, from a clean failure count.
                watch.state = .active
                watch.consecutiveFailures = 0
                watch.nextPollAt = firstPollAt
            }
            try await connection.query(
                """
                UPDATE watches SET labels = \(Self.json(watch.labels)), account_id = \(watch.accountID), state = \(watch.state.stored),
                    next_poll_at = \(watch.nextPollAt), consecutive_failures = \(watch.consecutiveFailures), updated_at = \(now)
                WHERE id = \(watch.id)
                """, logger: logger)
            return (watch, false)
        }
        let watch = Watch(
            id: "w_" + randomHex(8), orderID: registration.orderID, encryptedCode: registration.encryptedCode, api: api,
            accountID: registration.accountID, labels: registration.labels ?? [:], state: .active, createdAt: now,
            nextPollAt: firstPollAt, lastPolledAt: nil, pollCount: 0, consecutiveFailures: 0, lastError: nil)
        let inserted = try await connection.count(
            """
            INSERT INTO watches (id, order_id, encrypted_code, api, account_id, labels, state, created_at, updated_at, next_poll_at)
            VALUES (\(watch.id), \(watch.orderID), \(watch.encryptedCode), \(api.rawValue), \(watch.accountID),
                    \(Self.json(watch.labels)), \(Watch.State.active.rawValue), \(now), \(now), \(firstPollAt))
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger)
        if inserted == 0 { return try await register(registration, on: connection, now: now, firstPollAt: firstPollAt) }
        return (watch, true)
    }

    /// See ``CertWatchStorage/watch(id:)``.
    public func watch(id: String) async throws -> Watch? {
        try await rows("SELECT * FROM watches WHERE id = \(id)").first.map(Self.watch(from:))
    }

    /// See ``CertWatchStorage/watches(matching:)``.
    public func watches(matching reference: String) async throws -> [Watch] {
        try await client.withConnection { connection in
            var ids = try await self.watchIDs(
                naming: HintTargets(orderIDs: [reference], certificateIDs: [reference], encryptedCodes: [reference]), on: connection)
            ids.insert(reference)
            return try await connection.rows("SELECT * FROM watches WHERE id = ANY(\(Array(ids))) ORDER BY id", logger: self.logger)
                .map(Self.watch(from:))
        }
    }

    /// See ``CertWatchStorage/watches(state:labels:after:limit:)``.
    public func watches(state: Watch.State?, labels: [String: String], after: String?, limit: Int) async throws -> [Watch] {
        var query = SQLBuilder("SELECT * FROM watches")
        var clauses: [String] = []
        switch state {
        case .stalled?: clauses.append("state = 'active' AND stalled_since IS NOT NULL")
        case .active?: clauses.append("state = 'active' AND stalled_since IS NULL")
        case let state?: clauses.append("state = \(query.bind(state.stored))")
        case nil: break
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            clauses.append("(labels::jsonb ->> \(query.bind(key))) = \(query.bind(value))")
        }
        if let after { clauses.append("id > \(query.bind(after))") }
        if !clauses.isEmpty { query.sql += " WHERE " + clauses.joined(separator: " AND ") }
        let limitMark = query.bind(limit)
        query.sql += " ORDER BY id LIMIT " + limitMark
        return try await rows(query.query).map(Self.watch(from:))
    }

    /// See ``CertWatchStorage/watchCounts()``.
    public func watchCounts() async throws -> [Watch.State: Int] {
        var counts: [Watch.State: Int] = [:]
        for row in try await rows(
            """
            SELECT CASE WHEN state = 'active' AND stalled_since IS NOT NULL THEN 'stalled' ELSE state END AS shown, COUNT(*) AS n
            FROM watches GROUP BY shown
            """)
        {
            counts[try row.decoded(Watch.State.self, "shown", table: "watches", reportedAs: "state")] = Int(try row.int64("n"))
        }
        return counts
    }

    /// See ``CertWatchStorage/activeWatchCount()``.
    public func activeWatchCount() async throws -> Int {
        Int(try await rows("SELECT COUNT(*) AS n FROM watches WHERE state = 'active'").first?.int64("n") ?? 0)
    }

    /// See ``CertWatchStorage/remove(id:now:)``.
    public func remove(id: String, now: Int64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.count(
                "UPDATE watches SET state = 'removed', next_poll_at = NULL, updated_at = \(now) WHERE id = \(id) RETURNING id",
                logger: self.logger) > 0
        }
    }

    /// See ``CertWatchStorage/pollSoon(id:at:)``.
    public func pollSoon(id: String, at: Int64) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.count(
                """
                UPDATE watches SET next_poll_at = LEAST(COALESCE(next_poll_at, \(at)), \(at))
                WHERE id = \(id) AND state = 'active' RETURNING id
                """, logger: self.logger) > 0
        }
    }

    // MARK: Scheduling

    /// See ``CertWatchStorage/claimDue(now:limit:lease:targetedLead:)``: one transaction; the rows are
    /// locked with `FOR UPDATE SKIP LOCKED`, so a claim running at the same time (another worker,
    /// another replica) takes other watches instead of waiting or taking the same ones.
    public func claimDue(now: Int64, limit: Int, lease: Int64, targetedLead: Int64) async throws -> [Watch] {
        try await transaction { connection in
            let hinted = try await self.claimHinted(on: connection, now: now, limit: limit, lease: lease)
            guard hinted.count < limit else { return hinted }
            let remaining = limit - hinted.count
            func due(targeted: Bool) async throws -> [Watch] {
                try await connection.rows(
                    """
                    SELECT * FROM watches
                    WHERE state = 'active' AND next_poll_targeted = \(targeted) AND next_poll_at <= \(now)
                      AND (leased_until IS NULL OR leased_until <= \(now))
                    ORDER BY next_poll_at LIMIT \(remaining) FOR UPDATE SKIP LOCKED
                    """, logger: self.logger
                ).map { row in
                    var watch = try Self.watch(from: row)
                    watch.hintedAt = nil
                    return watch
                }
            }
            let merged = ClaimOrder.merge(
                targeted: try await due(targeted: true), routine: try await due(targeted: false), limit: remaining,
                targetedLead: targetedLead, now: now)
            if !merged.isEmpty {
                try await connection.query(
                    "UPDATE watches SET leased_until = \(now + lease), leased_by = \(self.instanceID) WHERE id = ANY(\(merged.map(\.id)))",
                    logger: self.logger)
            }
            return hinted + merged
        }
    }

    /// See ``CertWatchStorage/claimHinted(now:limit:lease:)``: one transaction, `FOR UPDATE SKIP LOCKED`.
    public func claimHinted(now: Int64, limit: Int, lease: Int64) async throws -> [Watch] {
        guard limit > 0 else { return [] }
        return try await transaction { connection in try await self.claimHinted(on: connection, now: now, limit: limit, lease: lease) }
    }

    private func claimHinted(on connection: PostgresConnection, now: Int64, limit: Int, lease: Int64) async throws -> [Watch] {
        guard limit > 0 else { return [] }
        let watches = try await connection.rows(
            """
            SELECT * FROM watches
            WHERE state = 'active' AND hinted_at IS NOT NULL AND hinted_at <= \(now) AND (leased_until IS NULL OR leased_until <= \(now))
            ORDER BY hinted_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """, logger: logger
        ).map(Self.watch(from:))
        if !watches.isEmpty {
            try await connection.query(
                "UPDATE watches SET leased_until = \(now + lease), leased_by = \(instanceID), hinted_at = NULL WHERE id = ANY(\(watches.map(\.id)))",
                logger: logger)
        }
        return watches
    }

    /// See ``CertWatchStorage/releaseLeases(watchIDs:)``.
    public func releaseLeases(watchIDs: [String]) async throws {
        guard !watchIDs.isEmpty else { return }
        _ = try await rows("UPDATE watches SET leased_until = NULL, leased_by = NULL WHERE id = ANY(\(watchIDs)) RETURNING id")
    }

    /// See ``CertWatchStorage/nextDue(now:)``.
    public func nextDue(now: Int64) async throws -> Int64? {
        try await rows(
            """
            SELECT MIN(at) AS at FROM (
                SELECT MIN(next_poll_at) AS at FROM watches
                WHERE state = 'active' AND (leased_until IS NULL OR leased_until <= \(now))
                UNION ALL
                SELECT MIN(hinted_at) FROM watches
                WHERE state = 'active' AND hinted_at IS NOT NULL AND (leased_until IS NULL OR leased_until <= \(now))
            ) due
            """
        ).first?.optionalInt64("at")
    }

    /// See ``CertWatchStorage/nextHint(now:)``.
    public func nextHint(now: Int64) async throws -> Int64? {
        try await rows(
            """
            SELECT MIN(hinted_at) AS at FROM watches
            WHERE state = 'active' AND hinted_at IS NOT NULL AND (leased_until IS NULL OR leased_until <= \(now))
            """
        ).first?.optionalInt64("at")
    }

    // MARK: Hints

    /// See ``CertWatchStorage/hint(_:now:)``: one transaction, the same rules as ``Store/hint(_:now:)``.
    public func hint(_ targets: HintTargets, now: Int64) async throws -> [String] {
        guard !targets.isEmpty else { return [] }
        let hinted = try await transaction { connection -> [String] in
            let ids = try await self.watchIDs(naming: targets, on: connection)
            guard !ids.isEmpty else { return [] }
            // Due now, or in the next second when the watch was polled this second or has a poll in flight.
            let due = "(CASE WHEN leased_until > $1 OR last_polled_at >= $1 THEN $1 + 1 ELSE $1 END)"
            var binds = PostgresBindings()
            binds.append(now)
            binds.append(ids.sorted())
            return try await connection.rows(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE watches SET
                            state = 'active',
                            hinted_at = LEAST(COALESCE(hinted_at, \(due)), \(due)),
                            next_poll_at = LEAST(COALESCE(next_poll_at, \(due)), \(due)),
                            updated_at = $1
                        WHERE id = ANY($2) AND state IN ('active', 'done')
                        RETURNING id
                        """, binds: binds), logger: self.logger
            ).map { try $0.string("id") }.sorted()
        }
        if !hinted.isEmpty { hintSignal.signal() }
        return hinted
    }

    /// The ids of the watches `targets` name: by order id, by the watch's encrypted code, and by a
    /// certificate id or encrypted code seen in a watch's stored snapshots.
    private func watchIDs(naming targets: HintTargets, on connection: PostgresConnection) async throws -> Set<String> {
        var ids = Set<String>()
        func collect(_ query: PostgresQuery, when values: [String]) async throws {
            guard !values.isEmpty else { return }
            ids.formUnion(try await connection.rows(query, logger: logger).map { try $0.string("id") })
        }
        try await collect("SELECT id FROM watches WHERE order_id = ANY(\(targets.orderIDs))", when: targets.orderIDs)
        try await collect("SELECT id FROM watches WHERE encrypted_code = ANY(\(targets.encryptedCodes))", when: targets.encryptedCodes)
        try await collect(
            "SELECT watch_id AS id FROM certificates WHERE certificate_id = ANY(\(targets.certificateIDs))", when: targets.certificateIDs)
        try await collect(
            "SELECT watch_id AS id FROM certificates WHERE ((snapshot::jsonb) ->> 'encrypted_code') = ANY(\(targets.encryptedCodes))",
            when: targets.encryptedCodes)
        return ids
    }

    /// See ``CertWatchStorage/hintGeneration``.
    public var hintGeneration: UInt64 { hintSignal.generation }

    /// See ``CertWatchStorage/waitForHint(after:)`` (hints taken by this process).
    public func waitForHint(after generation: UInt64) async {
        await hintSignal.wait(after: generation)
    }

    // MARK: Polls

    /// See ``CertWatchStorage/snapshots(watchIDs:)``.
    public func snapshots(watchIDs: [String]) async throws -> [String: [String: CertificateSnapshot]] {
        guard !watchIDs.isEmpty else { return [:] }
        var result: [String: [String: CertificateSnapshot]] = [:]
        for row in try await rows("SELECT watch_id, snapshot FROM certificates WHERE watch_id = ANY(\(watchIDs))") {
            let snapshot = try DouyinJSON.decode(CertificateSnapshot.self, from: Data(try row.string("snapshot").utf8))
            result[try row.string("watch_id"), default: [:]][snapshot.certificateID] = snapshot
        }
        return result
    }

    /// See ``CertWatchStorage/commitPoll(_:route:)``: one transaction. A poll with events takes the
    /// events lock first (sequences in commit order).
    @discardableResult
    public func commitPoll(_ poll: PollCommit, route: EventRouter?) async throws -> [CertWatchEvent] {
        let texts = try poll.certificates.map { certificate in
            (
                snapshot: String(decoding: try DouyinJSON.normalizedEncoded(certificate.snapshot), as: UTF8.self),
                raw: String(decoding: certificate.raw.encoded(), as: UTF8.self)
            )
        }
        let events = Store.encoded(poll.events)
        return try await transaction { connection in
            if !events.isEmpty { try await Self.lock("certwatch.events", on: connection, logger: self.logger) }
            for (certificate, text) in zip(poll.certificates, texts) {
                let snapshot = certificate.snapshot
                try await connection.query(
                    """
                    INSERT INTO certificates (watch_id, certificate_id, state, status, expire_time, snapshot, raw, observed_at)
                    VALUES (\(poll.watchID), \(snapshot.certificateID), \(snapshot.state.rawValue), \(snapshot.status),
                            \(snapshot.expireTime), \(text.snapshot), \(text.raw), \(snapshot.observedAt))
                    ON CONFLICT (watch_id, certificate_id) DO UPDATE SET
                        state = excluded.state, status = excluded.status, expire_time = excluded.expire_time,
                        snapshot = excluded.snapshot, raw = excluded.raw, observed_at = excluded.observed_at
                    WHERE excluded.observed_at > certificates.observed_at
                    """, logger: self.logger)
            }
            let appended = try await self.append(events, on: connection, detectedBy: poll.detectedBy)
            let state: Watch.State = poll.nextPollAt == nil ? poll.finalState : .active
            try await connection.query(
                """
                UPDATE watches SET state = \(state.stored), next_poll_at = \(poll.nextPollAt), next_poll_targeted = \(poll.nextPollTargeted),
                    leased_until = NULL, leased_by = NULL, last_polled_at = \(poll.polledAt), poll_count = poll_count + 1,
                    consecutive_failures = \(poll.consecutiveFailures), last_error = \(poll.lastError), updated_at = \(poll.polledAt),
                    failing_since = \(poll.failingSince), stalled_since = \(poll.stalledSince)
                WHERE id = \(poll.watchID) AND state = 'active'
                """, logger: self.logger)
            if let route, !appended.isEmpty { try await self.write(route(appended), on: connection) }
            return appended
        }
    }

    /// See ``CertWatchStorage/append(_:route:)``: one transaction, under the events lock.
    @discardableResult
    public func append(_ events: [CertWatchEvent], route: EventRouter?) async throws -> [CertWatchEvent] {
        guard !events.isEmpty else { return [] }
        let encoded = Store.encoded(events)
        return try await transaction { connection in
            try await Self.lock("certwatch.events", on: connection, logger: self.logger)
            let appended = try await self.append(encoded, on: connection)
            if let route, !appended.isEmpty { try await self.write(route(appended), on: connection) }
            return appended
        }
    }

    /// Appends encoded events in the caller's transaction (which holds the events lock), skipping
    /// ids already stored; returns the appended ones with their sequence.
    private func append(_ events: [(event: CertWatchEvent, body: String)], on connection: PostgresConnection, detectedBy: Detection? = nil)
        async throws -> [CertWatchEvent]
    {
        var appended: [CertWatchEvent] = []
        for (var event, body) in events {
            let rows = try await connection.rows(
                """
                INSERT INTO events (id, type, subject, watch_id, order_id, time, body, detected_by)
                VALUES (\(event.id), \(event.type.rawValue), \(event.subject), \(event.data.watch.id), \(event.data.watch.orderID),
                        \(event.time), \(body), \(detectedBy?.rawValue))
                ON CONFLICT (id) DO NOTHING RETURNING sequence
                """, logger: logger)
            if let row = rows.first {
                event.sequence = try row.int64("sequence")
                appended.append(event)
            }
        }
        return appended
    }

    // MARK: Events

    /// See ``CertWatchStorage/events(after:type:orderID:limit:)``.
    public func events(after sequence: Int64, type: EventType?, orderID: String?, limit: Int) async throws -> [CertWatchEvent] {
        var query = SQLBuilder("")
        var clauses = ["sequence > " + query.bind(sequence)]
        if let type { clauses.append("type = " + query.bind(type.rawValue)) }
        if let orderID { clauses.append("order_id = " + query.bind(orderID)) }
        let limitMark = query.bind(limit)
        query.sql = "SELECT sequence, body FROM events WHERE " + clauses.joined(separator: " AND ") + " ORDER BY sequence LIMIT " + limitMark
        return try await rows(query.query).map { row in
            var event = try DouyinJSON.decode(CertWatchEvent.self, from: Data(try row.string("body").utf8))
            event.sequence = try row.int64("sequence")
            return event
        }
    }

    /// See ``CertWatchStorage/lastSequence()``.
    public func lastSequence() async throws -> Int64 {
        try await rows("SELECT COALESCE(MAX(sequence), 0) AS n FROM events").first?.int64("n") ?? 0
    }

    /// See ``CertWatchStorage/detections(after:limit:)``.
    public func detections(after sequence: Int64, limit: Int) async throws -> [EventDetection] {
        try await rows(
            "SELECT sequence, type, subject, time, detected_by FROM events WHERE sequence > \(sequence) ORDER BY sequence LIMIT \(limit)"
        ).map { row in
            EventDetection(
                sequence: try row.int64("sequence"), type: try row.string("type"), subject: try row.string("subject"),
                time: try row.int64("time"), detectedBy: try row.decodedIfPresent(Detection.self, "detected_by", table: "events"))
        }
    }

    /// See ``CertWatchStorage/eventCountsByType()``.
    public func eventCountsByType() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await rows("SELECT type, COUNT(*) AS n FROM events GROUP BY type") {
            counts[try row.string("type")] = Int(try row.int64("n"))
        }
        return counts
    }

    // MARK: Rows

    static func watch(from row: PGRow) throws -> Watch {
        var labels: [String: String] = [:]
        if case .object(let members) = try? JSONValue(parsing: Data(try row.string("labels").utf8)) {
            for (key, value) in members {
                if case .string(let text) = value { labels[key] = text }
            }
        }
        let stalledSince = try row.optionalInt64("stalled_since")
        var state = try row.decoded(Watch.State.self, "state", table: "watches")
        if state == .active, stalledSince != nil { state = .stalled }
        return Watch(
            id: try row.string("id"), orderID: try row.optionalString("order_id"), encryptedCode: try row.optionalString("encrypted_code"),
            api: try row.decoded(CertificateAPI.self, "api", table: "watches"), accountID: try row.optionalString("account_id"),
            labels: labels, state: state, createdAt: try row.int64("created_at"), nextPollAt: try row.optionalInt64("next_poll_at"),
            lastPolledAt: try row.optionalInt64("last_polled_at"), pollCount: try row.int64("poll_count"),
            consecutiveFailures: try row.int64("consecutive_failures"), lastError: try row.optionalString("last_error"),
            failingSince: try row.optionalInt64("failing_since"), stalledSince: stalledSince, hintedAt: try row.optionalInt64("hinted_at"),
            targeted: try row.value("next_poll_targeted", as: Bool.self))
    }

    static func json(_ labels: [String: String]) -> String { Store.json(labels) }
}
