import CertWatchCore
import DouyinOpenAPI
import Foundation
import GRDB

/// The console's and the backfill's reads (issue 15): events by window with their delivery to one
/// sink, events newest first, events per hour, deliveries by event.
extension Store {
    /// See ``DeliveryQueue/backfillCandidates(sink:since:type:orderID:after:limit:)``: pages by
    /// sequence; the `UNIQUE (event_id, sink)` index answers whether the sink has the event.
    package func backfillCandidates(
        sink: String, since: Int64, type: EventType?, orderID: String?, after sequence: Int64, limit: Int
    ) async throws -> [BackfillCandidate] {
        var sql = """
            SELECT e.sequence, e.body, EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.sink = ?) AS delivered
            FROM events e WHERE e.sequence > ? AND e.time >= ?
            """
        var arguments: StatementArguments = [sink, sequence, since]
        if let type {
            sql += " AND e.type = ?"
            arguments += [type.rawValue]
        }
        if let orderID {
            sql += " AND e.order_id = ?"
            arguments += [orderID]
        }
        sql += " ORDER BY e.sequence LIMIT ?"
        arguments += [limit]
        let (finalSQL, finalArguments) = (sql, arguments)
        return try await writer.read { db in
            try Row.fetchAll(db, sql: finalSQL, arguments: finalArguments).map { row in
                BackfillCandidate(event: try Self.event(from: row), hasDelivery: row["delivered"])
            }
        }
    }

    /// See ``EventLog/eventsNewestFirst(before:type:orderID:watchID:limit:)``.
    package func eventsNewestFirst(before: Int64?, type: EventType?, orderID: String?, watchID: String?, limit: Int)
        async throws -> [CertWatchEvent]
    {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let before {
            clauses.append("sequence < ?")
            arguments += [before]
        }
        if let type {
            clauses.append("type = ?")
            arguments += [type.rawValue]
        }
        if let orderID {
            clauses.append("order_id = ?")
            arguments += [orderID]
        }
        if let watchID {
            clauses.append("watch_id = ?")
            arguments += [watchID]
        }
        arguments += [limit]
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let finalArguments = arguments
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sequence, body FROM events \(filter) ORDER BY sequence DESC LIMIT ?", arguments: finalArguments
            ).map(Self.event(from:))
        }
    }

    /// See ``EventLog/eventCountsByHour(since:)``.
    package func eventCountsByHour(since: Int64) async throws -> [Int64: Int] {
        try await writer.read { db in
            var counts: [Int64: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT (time / 3600) * 3600 AS hour, COUNT(*) AS n FROM events WHERE time >= ? GROUP BY hour",
                arguments: [since])
            {
                counts[row["hour"]] = row["n"]
            }
            return counts
        }
    }

    /// See ``DeliveryHistory/deliveries(eventIDs:)``.
    package func deliveries(eventIDs: [String]) async throws -> [Delivery] {
        guard !eventIDs.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: eventIDs.count).joined(separator: ",")
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM deliveries WHERE event_id IN (\(marks)) ORDER BY id", arguments: StatementArguments(eventIDs)
            ).map(Self.delivery(from:))
        }
    }
}
