import CertWatchCore
import DouyinOpenAPI
import Foundation

extension Watch {
    /// The one mapping of a `watches` row, for both backends (``StorageRow``): labels from their
    /// JSON object (a value that is not a string is skipped), `stalled` derived from an active
    /// watch with `stalled_since`. Throws ``StorageError`` for a state or API certwatch does not know.
    init(row: some StorageRow) throws {
        var labels: [String: String] = [:]
        if case .object(let members) = try? JSONValue(parsing: Data(try row.string("labels").utf8)) {
            for (key, value) in members {
                if case .string(let text) = value { labels[key] = text }
            }
        }
        let stalledSince = try row.optionalInt64("stalled_since")
        var state = try row.decodedValue(Watch.State.self, "state", table: "watches")
        if state == .active, stalledSince != nil { state = .stalled }
        self.init(
            id: try row.string("id"), orderID: try row.optionalString("order_id"), encryptedCode: try row.optionalString("encrypted_code"),
            api: try row.decodedValue(CertificateAPI.self, "api", table: "watches"), accountID: try row.optionalString("account_id"),
            labels: labels, state: state, createdAt: try row.int64("created_at"), nextPollAt: try row.optionalInt64("next_poll_at"),
            lastPolledAt: try row.optionalInt64("last_polled_at"), pollCount: try row.int64("poll_count"),
            consecutiveFailures: try row.int64("consecutive_failures"), lastError: try row.optionalString("last_error"),
            failingSince: try row.optionalInt64("failing_since"), stalledSince: stalledSince, hintedAt: try row.optionalInt64("hinted_at"),
            targeted: try row.bool("next_poll_targeted"))
        hintedBy = try row.optionalString("hinted_by").flatMap(Detection.init(rawValue:))
    }
}
