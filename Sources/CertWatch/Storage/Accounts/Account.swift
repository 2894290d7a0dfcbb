import CertWatchCore
import Foundation

/// A merchant account (商家总店, Douyin's `account_id`) certwatch watches as a whole: its stores,
/// which Douyin app it belongs to, whether the change feed and the sweep run for it, and what
/// they and Douyin last said (``feedState``, ``sweepState``, ``authorization``).
///
/// Watches registered with its `account_id` belong to it. When Douyin answers 2119005 ("the
/// merchant has not authorized the app") for it, every active watch of the account is
/// ``Watch/State/paused`` — not failed one by one — and resumes, due at once, when a later call
/// for the account succeeds. Stored in the `accounts` table (``AccountRegistry``); the
/// configuration file's `accounts:` are saved at start.
public struct Account: Sendable, Hashable, Codable {
    /// What an operator sets: everything but the state.
    public var settings: AccountSettings
    /// Where it was defined: `file` (the configuration's `accounts:`) or `api` (HTTP or CLI).
    public var source: AccountSettings.Source
    /// When it was first saved, Unix seconds.
    public var createdAt: Int64
    /// When its settings last changed, Unix seconds.
    public var updatedAt: Int64
    /// Whether Douyin lets the app act for this account.
    public var authorization: Authorization
    /// The change feed's state (order query by `update_order_time`).
    public var feedState: DetectorState
    /// The sweep's state (orders created and verify records).
    public var sweepState: DetectorState

    /// `account_id`.
    public var accountID: String { settings.accountID }

    /// Whether the app may act for the account, as Douyin last answered.
    public struct Authorization: Sendable, Hashable, Codable {
        /// `authorized`, or `unauthorized` after a 2119005.
        public var status: Status
        /// Since when it is unauthorized, Unix seconds (`nil` while authorized).
        public var since: Int64?
        /// Douyin's answer that said so, e.g. `douyin permanent error, code 2119005, logid …`.
        public var reason: String?

        /// The two states.
        public enum Status: String, Sendable, Hashable, Codable {
            /// Calls for the account succeed (or none failed with 2119005).
            case authorized
            /// Douyin answered 2119005: the merchant has not authorized the app (or withdrew it).
            case unauthorized
        }

        /// Authorized.
        public static let authorized = Authorization(status: .authorized, since: nil, reason: nil)
    }
}

/// What an operator sets for a merchant account (configuration `accounts:`, `certwatch accounts
/// add`, `POST /v1/accounts`).
public struct AccountSettings: Sendable, Hashable, Codable {
    /// `account_id`: 1–32 decimal digits (Douyin's ids are 64-bit, kept as strings).
    public var accountID: String
    /// A name for people (the merchant's), optional.
    public var name: String?
    /// The stores (`poi_id`) certwatch looks at; empty: every store of the account.
    public var poiIDs: [String]
    /// The Douyin app (`client_key`) the account is served through; `nil`: the configured app.
    public var app: String?
    /// The change feed: every `interval` seconds, the account's orders updated since the last look.
    public var feed: Schedule
    /// The sweep: every `interval` seconds (and at start), the orders created and verifications
    /// recorded since the last look.
    public var sweep: Schedule

    /// Whether a detector runs and how often.
    public struct Schedule: Sendable, Hashable, Codable {
        /// On or off.
        public var enabled: Bool
        /// Seconds between runs.
        public var interval: Int64

        public init(enabled: Bool, interval: Int64) {
            self.enabled = enabled
            self.interval = interval
        }
    }

    /// Where an account was defined.
    public enum Source: String, Sendable, Hashable, Codable {
        /// The configuration file's `accounts:` (saved again at every start).
        case file
        /// `POST /v1/accounts` or `certwatch accounts add`.
        case api
    }

    /// The feed's default interval, seconds: 15.
    public static let defaultFeedInterval: Int64 = 15
    /// The sweep's default interval, seconds: 300.
    public static let defaultSweepInterval: Int64 = 300

    public init(
        accountID: String, name: String? = nil, poiIDs: [String] = [], app: String? = nil,
        feed: Schedule = Schedule(enabled: true, interval: AccountSettings.defaultFeedInterval),
        sweep: Schedule = Schedule(enabled: true, interval: AccountSettings.defaultSweepInterval)
    ) {
        self.accountID = accountID
        self.name = name
        self.poiIDs = poiIDs
        self.app = app
        self.feed = feed
        self.sweep = sweep
    }

    /// Whether `text` has the form of a Douyin id (`account_id`, `poi_id`): 1–32 decimal digits.
    public static func isDouyinID(_ text: String) -> Bool {
        (1...32).contains(text.utf8.count) && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// Checks the settings. Throws ``ValidationError`` naming the field: an `account_id` or `poi_id`
    /// that is not 1–32 digits, an interval under 1 s or over a day.
    public func validate() throws(ValidationError) {
        guard Self.isDouyinID(accountID) else {
            throw ValidationError(field: "account_id", message: "account_id must be 1–32 decimal digits, found \(accountID.debugDescription)")
        }
        for (field, value) in [("name", name), ("app", app)] {
            guard let value else { continue }
            guard value.unicodeScalars.count <= 200, !value.unicodeScalars.contains("\u{0}") else {
                throw ValidationError(field: field, message: "\(field) must be at most 200 characters without NUL")
            }
        }
        guard poiIDs.count <= 1_000 else { throw ValidationError(field: "poi_ids", message: "poi_ids holds at most 1000 stores") }
        for (index, poi) in poiIDs.enumerated() where !Self.isDouyinID(poi) {
            throw ValidationError(field: "poi_ids[\(index)]", message: "poi_ids[\(index)] must be 1–32 decimal digits, found \(poi.debugDescription)")
        }
        for (name, schedule) in [("feed", feed), ("sweep", sweep)] where !(1...86_400).contains(schedule.interval) {
            throw ValidationError(field: "\(name)_interval", message: "\(name)_interval must be 1–86400 seconds, found \(schedule.interval)")
        }
    }
}

/// The two per-account detectors.
public enum AccountDetector: String, Sendable, Hashable, Codable, CaseIterable {
    /// The change feed: 订单查询 by `update_order_start_time`/`update_order_end_time`.
    case feed
    /// The sweep: 订单查询 by creation time and 验券历史查询.
    case sweep
}

/// What a detector of an account last did (stored as JSON with the account).
public struct DetectorState: Sendable, Hashable, Codable {
    /// How it is doing.
    public var status: Status
    /// When it last ran, Unix seconds.
    public var lastRunAt: Int64?
    /// When it last succeeded, Unix seconds.
    public var lastSuccessAt: Int64?
    /// The end of the window covered so far (the high-water mark), Unix seconds: the next run
    /// asks from here, less an overlap.
    public var highWater: Int64?
    /// The verify records' high-water mark (sweep only), Unix seconds of `verify_time`.
    public var verifyHighWater: Int64?
    /// How many seconds past its high-water marks one sweep window reaches (``DetectorSchedule``):
    /// halved when a window held more pages than a run reads, doubled back after each success;
    /// `nil`: the full span.
    public var windowSpan: Int64? = nil
    /// The last error, e.g. `douyin permanent error, code 2190004, logid …`.
    public var lastError: String?
    /// Douyin's error code of the last error.
    public var lastErrorCode: Int?
    /// `extra.logid` of the last error (what Douyin support asks for).
    public var lastLogid: String?
    /// Runs so far.
    public var runs: Int64
    /// Orders (feed) or orders and records (sweep) read so far.
    public var seen: Int64
    /// Watches it made due or registered so far.
    public var hinted: Int64

    /// The states of a detector.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Not run yet (or turned off).
        case idle
        /// The last run succeeded.
        case ok
        /// The last run failed with a transient error; it is tried again at its next interval.
        case failing
        /// Douyin answered 2119005 for the account: see ``Account/authorization``.
        case unauthorized
        /// Douyin answered 2190004: the app has no scope for this API; not called again until
        /// the account is saved again or certwatch restarts.
        case notPermitted = "not_permitted"
    }

    public init(
        status: Status = .idle, lastRunAt: Int64? = nil, lastSuccessAt: Int64? = nil, highWater: Int64? = nil,
        verifyHighWater: Int64? = nil, lastError: String? = nil, lastErrorCode: Int? = nil, lastLogid: String? = nil,
        runs: Int64 = 0, seen: Int64 = 0, hinted: Int64 = 0
    ) {
        self.status = status
        self.lastRunAt = lastRunAt
        self.lastSuccessAt = lastSuccessAt
        self.highWater = highWater
        self.verifyHighWater = verifyHighWater
        self.lastError = lastError
        self.lastErrorCode = lastErrorCode
        self.lastLogid = lastLogid
        self.runs = runs
        self.seen = seen
        self.hinted = hinted
    }
}

extension Account {
    /// The one mapping of an `accounts` row, for both backends. Throws ``StorageError`` for a
    /// stored value certwatch cannot read.
    init(row: some StorageRow) throws {
        let table = "accounts"
        settings = AccountSettings(
            accountID: try row.string("account_id"), name: try row.optionalString("name"),
            poiIDs: try row.json([String].self, "poi_ids", table: table) ?? [], app: try row.optionalString("app"),
            feed: .init(enabled: try row.int64("feed_enabled") != 0, interval: try row.int64("feed_interval")),
            sweep: .init(enabled: try row.int64("sweep_enabled") != 0, interval: try row.int64("sweep_interval")))
        source = try row.decodedValue(AccountSettings.Source.self, "source", table: table)
        createdAt = try row.int64("created_at")
        updatedAt = try row.int64("updated_at")
        authorization = Authorization(
            status: try row.decodedValue(Authorization.Status.self, "authorization_status", table: table),
            since: try row.optionalInt64("unauthorized_since"), reason: try row.optionalString("authorization_reason"))
        feedState = try row.json(DetectorState.self, "feed_state", table: table) ?? DetectorState()
        sweepState = try row.json(DetectorState.self, "sweep_state", table: table) ?? DetectorState()
    }

    /// The state of one detector.
    public func state(of detector: AccountDetector) -> DetectorState {
        detector == .feed ? feedState : sweepState
    }
}

/// The columns both backends write for ``AccountSettings`` (in this order), so the two INSERTs
/// bind the same values.
extension AccountSettings {
    /// `poi_ids` as stored: a JSON array of strings.
    var poiIDsJSON: String { storedJSON(poiIDs) }
}
