import CertWatchCore
import DouyinOpenAPI
import Foundation

/// How both backends write what they store as JSON text: an event's body and a watch's labels.
enum StoredEvent {
    /// Events without a sequence, each with its stored body (the CloudEvents JSON, ids as strings,
    /// keys sorted: ``CertWatchEvent/jsonData()``).
    static func encoded(_ events: [CertWatchEvent]) -> [(event: CertWatchEvent, body: String)] {
        events.map { event in
            var event = event
            event.sequence = nil
            return (event, String(decoding: event.jsonData(), as: UTF8.self))
        }
    }

    /// A watch's labels as stored in `watches.labels`: a JSON object of strings.
    static func labelsJSON(_ labels: [String: String]) -> String {
        String(decoding: JSONValue.object(labels.mapValues(JSONValue.string)).encoded(), as: UTF8.self)
    }

    /// The one mapping of an `events` row (its `body` and `sequence`), for both backends. Throws
    /// ``DouyinDecodingError`` naming the JSON path of a body that is not an event.
    static func event(row: some StorageRow) throws -> CertWatchEvent {
        var event = try DouyinJSON.decode(CertWatchEvent.self, from: Data(try row.string("body").utf8))
        event.sequence = try row.int64("sequence")
        return event
    }
}

extension Delivery {
    /// The one mapping of a `deliveries` row, for both backends. Throws ``StorageError`` for a
    /// state certwatch does not know.
    init(row: some StorageRow) throws {
        self.init(
            id: try row.int64("id"), eventID: try row.string("event_id"), eventSequence: try row.int64("event_sequence"),
            eventType: try row.string("event_type"), subject: try row.string("subject"), sink: try row.string("sink"),
            rule: try row.optionalString("rule"), body: try row.optionalString("body"),
            state: try row.decodedValue(DeliveryState.self, "state", table: "deliveries"), attempts: Int(try row.int64("attempts")),
            nextAttemptAt: try row.optionalDouble("next_attempt_at"), createdAt: try row.double("created_at"),
            updatedAt: try row.double("updated_at"), lastStatus: try row.optionalInt64("last_status").map(Int.init),
            lastError: try row.optionalString("last_error"))
    }
}
