import CertWatchCore
import DouyinOpenAPI
import Foundation
import Hummingbird

/// `/v1/watches`: register watches (one or a batch, idempotent by order id or encrypted code),
/// list and show them with their certificates, remove one, poll one now.
struct WatchesAPI: Sendable {
    let store: any WatchRegistry & PollSchedule
    /// Registration times and first polls.
    let clock: any WallClock
    /// When a new watch is first polled.
    let policy: PollPolicy
    /// Largest request body, bytes.
    let bodyLimit: Int

    /// The routes, relative to `/v1/watches`.
    var routes: RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .post(use: register)
            .post("batch", use: registerBatch)
            .get(use: list)
            .get("{id}", use: show)
            .delete("{id}", use: remove)
            .post("{id}/poll", use: poll)
    }

    /// A watch with its certificates' current state (personal data masked).
    struct WatchDetail: ResponseEncodable {
        var watch: Watch
        var certificates: [CertificateSnapshot]?
    }

    /// `POST /v1/watches`: 201 with the new watch, 200 when it was already registered.
    @Sendable func register(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<WatchDetail> {
        let registration = try await decodeBody(WatchRegistration.self, request, limit: bodyLimit)
        let now = clock.unixNow
        let (watch, created) = try await store.register(registration, now: now, firstPollAt: policy.firstPoll(now: now))
        return EditedResponse(status: created ? .created : .ok, response: WatchDetail(watch: watch))
    }

    struct BatchRequest: Decodable { var items: [JSONValue] }
    struct BatchResult: Encodable {
        var index: Int
        var status: Int
        var watch: Watch?
        var error: APIError?
    }
    struct BatchResponse: ResponseEncodable { var results: [BatchResult] }

    /// `POST /v1/watches/batch`: up to 1,000 registrations, each answered with its own status.
    @Sendable func registerBatch(_ request: Request, context: APIRequestContext) async throws -> BatchResponse {
        let batch = try decodeJSON(BatchRequest.self, try await readBody(request, limit: bodyLimit))
        guard batch.items.count <= 1_000 else {
            throw APIError.invalid("at most 1000 items per batch, got \(batch.items.count)", field: "items")
        }
        var registrations: [(index: Int, registration: WatchRegistration)] = []
        var results: [BatchResult] = []
        for (index, item) in batch.items.enumerated() {
            do {
                registrations.append((index, try DouyinJSON.decode(WatchRegistration.self, from: item)))
            } catch {
                results.append(
                    BatchResult(index: index, status: 422, error: .invalid(error.message, field: "items[\(index)]" + (error.path.isEmpty ? "" : ".\(error.path)"))))
            }
        }
        let now = clock.unixNow
        let outcomes = try await store.registerMany(
            registrations.map(\.registration), now: now, firstPollAt: policy.firstPoll(now: now))
        for (item, outcome) in zip(registrations, outcomes) {
            switch outcome {
            case .success(let result):
                results.append(BatchResult(index: item.index, status: result.created ? 201 : 200, watch: result.watch))
            case .failure(let error):
                results.append(
                    BatchResult(index: item.index, status: 422, error: .invalid(error.message, field: "items[\(item.index)].\(error.field ?? "")")))
            }
        }
        return BatchResponse(results: results.sorted { $0.index < $1.index })
    }

    struct Page: ResponseEncodable {
        var watches: [Watch]
        var nextCursor: String?
        enum CodingKeys: String, CodingKey { case watches, nextCursor = "next_cursor" }
    }

    /// `GET /v1/watches`: a page of watches by id, filtered by state, labels and `account_id`; an
    /// unknown query parameter is 400 naming it.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Page {
        try AccountsAPI.rejectParameters(request, allowed: ["state", "label", "account_id", "cursor", "limit"])
        let query = request.uri.queryParameters
        var state: Watch.State?
        if let text = query["state"].map(String.init) {
            guard let parsed = Watch.State(rawValue: text) else {
                throw APIError.invalid("state must be one of " + Watch.State.allCases.map(\.rawValue).joined(separator: ", "), field: "state")
            }
            state = parsed
        }
        var labels: [String: String] = [:]
        for pair in query.getAll("label") {
            guard let (key, value) = Watch.labelPair(pair) else {
                throw APIError.invalid("label filters are key:value (or key=value)", field: "label")
            }
            labels[key] = value
        }
        let limit = try request.limitParameter(default: 100, maximum: 1_000)
        let cursor = query["cursor"].map(String.init)
        if let cursor, !Watch.isID(cursor) {
            throw APIError.invalid("cursor must be a watch id (w_ and 16 hex digits), as next_cursor gives it", field: "cursor")
        }
        let accountID = query["account_id"].map(String.init)
        if let accountID, !AccountSettings.isDouyinID(accountID) {
            throw APIError.invalid("account_id must be 1–32 decimal digits, found \(accountID.debugDescription)", field: "account_id")
        }
        let watches = try await store.watches(state: state, labels: labels, accountID: accountID, after: cursor, limit: limit)
        return Page(watches: watches, nextCursor: watches.count == limit ? watches.last?.id : nil)
    }

    /// `GET /v1/watches/{id}`: the watch with its certificates.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> WatchDetail {
        let id = context.parameters.get("id") ?? ""
        guard let watch = try await store.watch(id: id) else { throw APIError.notFound("no watch \(id)") }
        let certificates = try await store.snapshots(watchID: id).values.map { $0.masked() }
            .sorted { $0.certificateID < $1.certificateID }
        return WatchDetail(watch: watch, certificates: certificates)
    }

    /// `DELETE /v1/watches/{id}`: the watch, now removed.
    @Sendable func remove(_ request: Request, context: APIRequestContext) async throws -> WatchDetail {
        let id = context.parameters.get("id") ?? ""
        guard try await store.remove(id: id, now: clock.unixNow), let watch = try await store.watch(id: id) else {
            throw APIError.notFound("no watch \(id)")
        }
        return WatchDetail(watch: watch)
    }

    /// `POST /v1/watches/{id}/poll`: 202, the watch is due now (409 unless active or stalled).
    @Sendable func poll(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<WatchDetail> {
        let id = context.parameters.get("id") ?? ""
        guard let watch = try await store.watch(id: id) else { throw APIError.notFound("no watch \(id)") }
        guard watch.isPolled, try await store.pollSoon(id: id, at: clock.unixNow) else {
            throw APIError(409, "conflict", "watch \(id) is \(watch.state.rawValue); only active and stalled watches are polled")
        }
        return EditedResponse(status: .accepted, response: WatchDetail(watch: try await store.watch(id: id) ?? watch))
    }
}
