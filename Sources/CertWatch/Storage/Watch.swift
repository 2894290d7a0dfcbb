import CertWatchCore
import DouyinOpenAPI
import Foundation

/// A registration: "follow this order (or encrypted code)".
public struct Watch: Sendable, Hashable, Codable {
    /// The lifecycle of a watch.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Polled on its schedule.
        case active
        /// Active, but its polls keep failing (a `watch.stalled` event was emitted; `watch.recovered`
        /// follows the next successful poll). Stored as active with ``Watch/stalledSince``.
        case stalled
        /// Nothing can change any more; no longer polled.
        case done
        /// A permanent API error (see ``Watch/lastError``); no longer polled.
        case failed
        /// Unregistered by the user.
        case removed
        /// Its merchant account has not authorized the app (Douyin 2119005): not polled until a
        /// later call for the account succeeds (``AccountRegistry/setAuthorization(_:of:reason:now:)``).
        case paused

        /// The value of the `state` column (`stalled` is stored as `active`).
        var stored: String { self == .stalled ? State.active.rawValue : rawValue }
    }

    /// `w_` + 16 hex digits.
    public var id: String
    /// `order_id`, for order watches.
    public var orderID: String?
    /// `encrypted_code`, for code watches.
    public var encryptedCode: String?
    /// The endpoint family.
    public var api: CertificateAPI
    /// `account_id`, sent with every query.
    public var accountID: String?
    /// Labels (string map) carried in every event of the watch.
    public var labels: [String: String]
    /// The state.
    public var state: State
    /// Registration time, Unix seconds.
    public var createdAt: Int64
    /// When the next poll is due, Unix seconds; `nil` unless active.
    public var nextPollAt: Int64?
    /// When the last poll finished, Unix seconds.
    public var lastPolledAt: Int64?
    /// Polls so far.
    public var pollCount: Int64
    /// Transient failures in a row.
    public var consecutiveFailures: Int64
    /// The last error, e.g. `douyin retry error, code 2100004, logid …`.
    public var lastError: String?
    /// When the current run of failed polls began, Unix seconds; `nil` after a success.
    public var failingSince: Int64? = nil
    /// Set (to ``failingSince``) while the watch is ``State/stalled``, Unix seconds.
    public var stalledSince: Int64? = nil

    /// A label written `key:value` or `key=value` (split at the first of the two; the value may hold
    /// either), or `nil` when there is no key. The one form of the CLI's `--label` and HTTP's `label=`.
    public static func labelPair(_ text: String) -> (key: String, value: String)? {
        // By Unicode scalar, as the document's pattern reads it (a `:` followed by a combining mark
        // is one Character but still the separator).
        let scalars = text.unicodeScalars
        guard let separator = scalars.firstIndex(where: { $0 == ":" || $0 == "=" }), separator != scalars.startIndex else {
            return nil
        }
        return (String(scalars[..<separator]), String(scalars[scalars.index(after: separator)...]))
    }

    /// Whether `text` has the form of a watch id: `w_` and 16 lowercase hex digits.
    public static func isID(_ text: String) -> Bool {
        text.utf8.count == 18 && text.hasPrefix("w_")
            && text.utf8.dropFirst(2).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Whether it is polled: ``State/active`` or ``State/stalled``.
    public var isPolled: Bool { state == .active || state == .stalled }
    /// When a push hint made this watch due, Unix seconds: set on a watch handed out by
    /// ``PollSchedule/claimHinted(now:limit:lease:)`` (its poll is a hinted one), `nil` otherwise.
    public var hintedAt: Int64? = nil
    /// Who hinted it (``HintTargets/source``: push, feed or sweep), with ``hintedAt``.
    public var hintedBy: Detection? = nil
    /// Whether ``nextPollAt`` is a targeted poll (a cancel window or a deadline,
    /// ``PollPolicy/Plan/targeted``): claimed ahead of routine polls, with priority for the QPS budget.
    public var targeted: Bool = false

    /// The event-facing summary of the watch.
    public var info: WatchInfo {
        WatchInfo(
            id: id, orderID: orderID, encryptedCode: encryptedCode, api: api, accountID: accountID, labels: labels)
    }

    /// The Douyin query that polls this watch.
    public var query: CertificateQuery {
        CertificateQuery(api: api, orderID: orderID, encryptedCode: encryptedCode, accountID: accountID)
    }

    enum CodingKeys: String, CodingKey {
        case id, orderID = "order_id", encryptedCode = "encrypted_code", api, accountID = "account_id", labels, state
        case createdAt = "created_at", nextPollAt = "next_poll_at", lastPolledAt = "last_polled_at"
        case pollCount = "poll_count", consecutiveFailures = "consecutive_failures", lastError = "last_error"
        case failingSince = "failing_since", stalledSince = "stalled_since"
    }
}

/// What to register: an order id or an encrypted code, on an endpoint family.
public struct WatchRegistration: Sendable, Hashable, Codable {
    /// `order_id` (exactly one of `order_id` and `encrypted_code`).
    public var orderID: String?
    /// `encrypted_code`.
    public var encryptedCode: String?
    /// Endpoint family; default `compre_retail`.
    public var api: CertificateAPI?
    /// `account_id`.
    public var accountID: String?
    /// Labels to add (merged into an existing watch's labels).
    public var labels: [String: String]?

    public init(
        orderID: String? = nil, encryptedCode: String? = nil, api: CertificateAPI? = nil, accountID: String? = nil,
        labels: [String: String]? = nil
    ) {
        self.orderID = orderID
        self.encryptedCode = encryptedCode
        self.api = api
        self.accountID = accountID
        self.labels = labels
    }

    /// Decodes a registration; an id sent as a JSON number is refused with a message that says to
    /// send it as a string (Douyin's 19-digit ids exceed 2^53, where most JSON libraries round).
    /// Throws `DecodingError` naming the key.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func id(_ key: CodingKeys) throws -> String? {
            do {
                return try container.decodeIfPresent(String.self, forKey: key)
            } catch {
                guard (try? container.decodeIfPresent(Double.self, forKey: key)) != nil else { throw error }
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "send ids as JSON strings: numbers above 2^53 lose precision in most JSON libraries")
            }
        }
        self.init(
            orderID: try id(.orderID), encryptedCode: try id(.encryptedCode),
            api: try container.decodeIfPresent(CertificateAPI.self, forKey: .api), accountID: try id(.accountID),
            labels: try container.decodeIfPresent([String: String].self, forKey: .labels))
    }

    /// Longest `order_id` and `account_id` accepted, in digits (Douyin's are 19).
    public static let maximumIDDigits = 32
    /// Whether `text` has the form of a Douyin `order_id` (or `account_id`): 1–``maximumIDDigits``
    /// ASCII digits. Filters by order id (events, backfill) check it, so a typo is an error rather
    /// than an empty answer.
    public static func isDouyinID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= maximumIDDigits && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// The message for a filter's `order_id` that is not ``isDouyinID(_:)``.
    public static func orderIDMessage(_ text: String) -> String {
        "order_id must be 1–\(maximumIDDigits) digits (Douyin's order ids are numeric), got \(quoted(text))"
    }

    /// Longest `encrypted_code` accepted, in characters.
    public static let maximumEncryptedCodeLength = 512

    /// Checks the registration, exactly as `docs/openapi.yaml` states it (`WatchRegistration`):
    /// exactly one of `order_id` (1–32 ASCII digits) and `encrypted_code` (1–512 printable ASCII
    /// characters, no whitespace) — an id given as an empty string is wrong, not absent (JSON
    /// `null` is absent); `account_id` 0–32 ASCII digits (empty: none); label keys 1–63 Unicode
    /// scalars, values at most 255. Surrounding spaces (U+0020) are trimmed. Throws
    /// ``ValidationError`` naming the field.
    public func validated() throws(ValidationError) -> WatchRegistration {
        var copy = self
        copy.orderID = orderID.map(Self.trimmingSpaces)
        copy.encryptedCode = encryptedCode.map(Self.trimmingSpaces)
        copy.accountID = accountID.map(Self.trimmingSpaces)
        switch (copy.orderID != nil, copy.encryptedCode != nil) {
        case (true, true):
            throw ValidationError(field: "order_id", message: "give order_id or encrypted_code, not both")
        case (false, false):
            throw ValidationError(field: "order_id", message: "order_id or encrypted_code is required")
        default: break
        }
        if copy.accountID?.isEmpty == true { copy.accountID = nil }
        for (field, value) in [("order_id", copy.orderID), ("account_id", copy.accountID)] {
            guard let value else { continue }
            guard Self.isDouyinID(value) else {
                throw ValidationError(
                    field: field, message: "must be 1–\(Self.maximumIDDigits) digits, got \(Self.quoted(value))")
            }
        }
        if let code = copy.encryptedCode {
            guard !code.isEmpty, code.utf8.count <= Self.maximumEncryptedCodeLength, code.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw ValidationError(
                    field: "encrypted_code",
                    message: "must be 1–\(Self.maximumEncryptedCodeLength) printable ASCII characters without spaces, got \(Self.quoted(code))")
            }
        }
        for (key, value) in labels ?? [:] {
            // Counted in Unicode scalars, as JSON Schema's minLength/maxLength count.
            guard !key.isEmpty, key.unicodeScalars.count <= 63, value.unicodeScalars.count <= 255 else {
                throw ValidationError(field: "labels.\(key)", message: "label keys are 1–63 characters, values at most 255")
            }
        }
        return copy
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", encryptedCode = "encrypted_code", api, accountID = "account_id", labels
    }

    /// `text` without leading and trailing U+0020 spaces (the only whitespace an id may carry).
    static func trimmingSpaces(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " }), let last = scalars.lastIndex(where: { $0 != " " }) else {
            return ""
        }
        return String(scalars[first...last])
    }

    /// `value` in quotes for an error message, cut to 40 characters.
    static func quoted(_ value: String) -> String {
        value.count > 40 ? "\"\(value.prefix(40))…\" (\(value.count) characters)" : "\"\(value)\""
    }
}

/// Input that does not make sense, with the field it is about.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offending field (JSON name or path).
    public var field: String?
    /// What is wrong.
    public var message: String

    public init(field: String? = nil, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
