import CertWatchCore
import DouyinOpenAPI
import Foundation
import Hummingbird

/// `/v1/accounts`: the merchant accounts (``Account``) — list, show (with its watches by state and
/// the first paused ones), create or update, delete.
struct AccountsAPI: Sendable {
    let store: any AccountRegistry
    let clock: any WallClock
    /// Largest request body, bytes.
    let bodyLimit: Int
    /// Called after an account was saved or removed (the detectors look again at once).
    let onChange: @Sendable () -> Void

    /// The routes, relative to `/v1/accounts`.
    var routes: RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .get(use: list)
            .post(use: save)
            .get("{account_id}", use: show)
            .delete("{account_id}", use: remove)
    }

    /// `GET /v1/accounts`: `{"accounts": [AccountView]}`, by `account_id`. No query parameters (an
    /// unknown one is 400).
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> AccountList {
        try Self.rejectParameters(request, allowed: [])
        var views: [AccountView] = []
        for account in try await store.accounts() {
            views.append(AccountView(account, watches: try await store.watchCounts(accountID: account.accountID)))
        }
        return AccountList(accounts: views)
    }

    /// `GET /v1/accounts/{account_id}`: the ``AccountView`` with the first 20 paused watch ids; 404
    /// for an account not stored.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> AccountView {
        try Self.rejectParameters(request, allowed: [])
        let id = try Self.accountID(context)
        guard let account = try await store.account(id: id) else { throw APIError.notFound("no account \(id)") }
        var view = AccountView(account, watches: try await store.watchCounts(accountID: id))
        view.pausedWatches = try await store.watches(accountID: id, state: .paused, limit: 20).map(\.id)
        return view
    }

    /// `POST /v1/accounts` with ``AccountBody``: 201 with the ``AccountView`` when created, 200
    /// when updated (the state is kept). 422 naming the field for a bad or unknown field.
    @Sendable func save(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<AccountView> {
        let data = try await readBody(request, limit: bodyLimit)
        let body = try AccountBody.checked(data)
        let settings = try body.settings(over: try await store.account(id: body.accountID)?.settings)
        let saved: (account: Account, created: Bool)
        do {
            saved = try await store.saveAccount(settings, source: .api, now: clock.unixNow)
        } catch let error as ValidationError {
            throw APIError.invalid(error.message, field: error.field)
        }
        onChange()
        let view = AccountView(saved.account, watches: try await store.watchCounts(accountID: saved.account.accountID))
        return EditedResponse(status: saved.created ? .created : .ok, response: view)
    }

    /// `DELETE /v1/accounts/{account_id}`: `{"account_id", "status": "removed"}`; 404 when not
    /// stored. Its watches stay.
    @Sendable func remove(_ request: Request, context: APIRequestContext) async throws -> [String: String] {
        try Self.rejectParameters(request, allowed: [])
        let id = try Self.accountID(context)
        guard try await store.removeAccount(id: id, now: clock.unixNow) else { throw APIError.notFound("no account \(id)") }
        onChange()
        return ["account_id": id, "status": "removed"]
    }

    /// The `account_id` of the path. Throws ``APIError`` 422 naming it when it is not 1–32 digits.
    static func accountID(_ context: APIRequestContext) throws(APIError) -> String {
        let id = context.parameters.get("account_id") ?? ""
        guard AccountSettings.isDouyinID(id) else {
            throw APIError.invalid("account_id must be 1–32 decimal digits, found \(id.debugDescription)", field: "account_id")
        }
        return id
    }

    /// Throws ``APIError`` 400 naming the first query parameter not in `allowed`.
    static func rejectParameters(_ request: Request, allowed: Set<String>) throws(APIError) {
        for (name, _) in request.uri.queryParameters where !allowed.contains(String(name)) {
            throw APIError.badRequest("unknown query parameter \(String(name).debugDescription)", field: String(name))
        }
    }
}

/// The body of `POST /v1/accounts`: `{"account_id", "name"?, "poi_ids"?, "app"?, "feed"?, "feed_interval"?,
/// "sweep"?, "sweep_interval"?}` (intervals in seconds). A field left out keeps the stored account's
/// value (a new account's defaults: every store, feed and sweep on, every 15 and 300 s). An unknown
/// field is an error.
struct AccountBody: Decodable {
    var accountID: String
    var name: String?
    var poiIDs: [String]?
    var app: String?
    var feed: Bool?
    var feedInterval: Int64?
    var sweep: Bool?
    var sweepInterval: Int64?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case accountID = "account_id", name, poiIDs = "poi_ids", app, feed, feedInterval = "feed_interval", sweep
        case sweepInterval = "sweep_interval"
    }

    /// The body `data` holds. Throws ``APIError`` 400 for a body that is not a JSON object, 422
    /// naming an unknown or malformed field.
    static func checked(_ data: Data) throws(APIError) -> AccountBody {
        guard case .object(let members)? = try? JSONValue(parsing: data) else {
            throw .badRequest("the body must be a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalid("unknown field \(unknown.debugDescription); fields: \(known.sorted().joined(separator: ", "))", field: unknown)
        }
        // JSON types as the document states them (the API is not Douyin: no drift is read here).
        for key in members.keys.sorted() {
            let value = members[key] ?? .null
            let expected: String? =
                switch (key, value) {
                case (_, .null): "a value (leave it out for the default), not null"
                case ("feed", .bool), ("sweep", .bool): nil
                case ("feed", _), ("sweep", _): "true or false"
                case ("feed_interval", .int), ("sweep_interval", .int), ("feed_interval", .uint), ("sweep_interval", .uint): nil
                case ("feed_interval", _), ("sweep_interval", _): "an integer number of seconds"
                case ("poi_ids", .array(let items)) where items.allSatisfy({ if case .string = $0 { true } else { false } }): nil
                case ("poi_ids", _): "an array of strings"
                case (_, .string): nil
                default: "a string"
                }
            if let expected { throw .invalid("\(key) must be \(expected)", field: key) }
        }
        let body = try decodeJSON(AccountBody.self, data)
        guard AccountSettings.isDouyinID(body.accountID) else {
            throw .invalid("account_id must be 1–32 decimal digits, found \(body.accountID.debugDescription)", field: "account_id")
        }
        return body
    }

    /// The settings this body asks for over `stored` (`nil`: a new account's defaults). Throws
    /// ``APIError`` 422 naming the field for settings that do not validate.
    func settings(over stored: AccountSettings?) throws(APIError) -> AccountSettings {
        var settings = stored ?? AccountSettings(accountID: accountID)
        if let name { settings.name = name }
        if let poiIDs { settings.poiIDs = poiIDs }
        if let app { settings.app = app }
        if let feed { settings.feed.enabled = feed }
        if let feedInterval { settings.feed.interval = feedInterval }
        if let sweep { settings.sweep.enabled = sweep }
        if let sweepInterval { settings.sweep.interval = sweepInterval }
        do {
            try settings.validate()
        } catch {
            throw .invalid(error.message, field: error.field)
        }
        return settings
    }
}

/// `{"accounts": [...]}`.
struct AccountList: ResponseEncodable {
    var accounts: [AccountView]
}

/// An account as the API, the CLI and the console show it (snake_case, times in Unix seconds).
package struct AccountView: ResponseEncodable, Sendable {
    var accountID: String
    var name: String?
    var poiIDs: [String]
    var app: String?
    var source: String
    var createdAt: Int64
    var updatedAt: Int64
    var authorization: Account.Authorization
    var feed: Detector
    var sweep: Detector
    /// The account's watches by state.
    var watches: [String: Int]
    /// The first paused watch ids (show only).
    var pausedWatches: [String]?

    /// A detector's settings and state.
    struct Detector: Encodable, Sendable {
        var enabled: Bool
        var interval: Int64
        var state: DetectorState
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(enabled, forKey: .enabled)
            try container.encode(interval, forKey: .interval)
            try container.encode(state.status.rawValue, forKey: .status)
            try container.encodeIfPresent(state.lastRunAt, forKey: .lastRunAt)
            try container.encodeIfPresent(state.lastSuccessAt, forKey: .lastSuccessAt)
            try container.encodeIfPresent(state.highWater, forKey: .highWater)
            try container.encodeIfPresent(state.verifyHighWater, forKey: .verifyHighWater)
            try container.encodeIfPresent(state.lastError, forKey: .lastError)
            try container.encodeIfPresent(state.lastErrorCode, forKey: .lastErrorCode)
            try container.encodeIfPresent(state.lastLogid, forKey: .logid)
            try container.encode(state.runs, forKey: .runs)
            try container.encode(state.seen, forKey: .seen)
            try container.encode(state.hinted, forKey: .hinted)
        }
        enum Keys: String, CodingKey {
            case enabled, interval, status, lastRunAt = "last_run_at", lastSuccessAt = "last_success_at", highWater = "high_water"
            case verifyHighWater = "verify_high_water", lastError = "last_error", lastErrorCode = "last_error_code", logid, runs, seen
            case hinted
        }
    }

    package init(_ account: Account, watches: [Watch.State: Int]) {
        accountID = account.accountID
        name = account.settings.name
        poiIDs = account.settings.poiIDs
        app = account.settings.app
        source = account.source.rawValue
        createdAt = account.createdAt
        updatedAt = account.updatedAt
        authorization = account.authorization
        feed = Detector(enabled: account.settings.feed.enabled, interval: account.settings.feed.interval, state: account.feedState)
        sweep = Detector(enabled: account.settings.sweep.enabled, interval: account.settings.sweep.interval, state: account.sweepState)
        self.watches = Dictionary(uniqueKeysWithValues: watches.map { ($0.key.rawValue, $0.value) })
    }

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id", name, poiIDs = "poi_ids", app, source, createdAt = "created_at", updatedAt = "updated_at"
        case authorization, feed, sweep, watches, pausedWatches = "paused_watches"
    }
}
