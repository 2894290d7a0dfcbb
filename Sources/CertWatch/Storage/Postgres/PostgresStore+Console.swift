import CertWatchCore
import DouyinOpenAPI
import Foundation
import PostgresNIO

/// The console's and the backfill's reads (issue 15), as on SQLite (``Store``).
extension PostgresStore {
    /// See ``DeliveryQueue/backfillCandidates(sink:since:type:orderID:after:limit:)``.
    package func backfillCandidates(
        sink: String, since: Int64, type: EventType?, orderID: String?, after sequence: Int64, limit: Int
    ) async throws -> [BackfillCandidate] {
        var query = SQLBuilder("")
        let sinkMark = query.bind(sink)
        var clauses = ["e.sequence > " + query.bind(sequence), "e.time >= " + query.bind(since)]
        if let type { clauses.append("e.type = " + query.bind(type.rawValue)) }
        if let orderID { clauses.append("e.order_id = " + query.bind(orderID)) }
        let limitMark = query.bind(limit)
        query.sql = """
            SELECT e.sequence, e.body, EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.sink = \(sinkMark)) AS delivered
            FROM events e WHERE \(clauses.joined(separator: " AND ")) ORDER BY e.sequence LIMIT \(limitMark)
            """
        return try await rows(query.query).map { row in
            BackfillCandidate(event: try Self.event(from: row), hasDelivery: try row.value("delivered", as: Bool.self))
        }
    }

    /// See ``EventLog/eventsNewestFirst(before:type:orderID:watchID:limit:)``.
    package func eventsNewestFirst(before: Int64?, type: EventType?, orderID: String?, watchID: String?, limit: Int)
        async throws -> [CertWatchEvent]
    {
        var query = SQLBuilder("")
        var clauses: [String] = []
        if let before { clauses.append("sequence < " + query.bind(before)) }
        if let type { clauses.append("type = " + query.bind(type.rawValue)) }
        if let orderID { clauses.append("order_id = " + query.bind(orderID)) }
        if let watchID { clauses.append("watch_id = " + query.bind(watchID)) }
        let limitMark = query.bind(limit)
        let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        query.sql = "SELECT sequence, body FROM events\(filter) ORDER BY sequence DESC LIMIT \(limitMark)"
        return try await rows(query.query).map(Self.event(from:))
    }

    /// See ``EventLog/eventCountsByHour(since:)``.
    package func eventCountsByHour(since: Int64) async throws -> [Int64: Int] {
        var counts: [Int64: Int] = [:]
        for row in try await rows(
            "SELECT (time / 3600) * 3600 AS hour, COUNT(*) AS n FROM events WHERE time >= \(since) GROUP BY hour")
        {
            counts[try row.int64("hour")] = Int(try row.int64("n"))
        }
        return counts
    }

    /// See ``DeliveryHistory/deliveries(eventIDs:)``.
    package func deliveries(eventIDs: [String]) async throws -> [Delivery] {
        guard !eventIDs.isEmpty else { return [] }
        return try await rows("SELECT * FROM deliveries WHERE event_id = ANY(\(eventIDs)) ORDER BY id").map(Self.delivery(from:))
    }

    /// An event row (`sequence`, `body`).
    static func event(from row: PGRow) throws -> CertWatchEvent { try StoredEvent.event(row: row) }
}
