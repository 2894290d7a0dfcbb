import CertWatchCore
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// `/v1/events`: the event log by sequence, as pages and as a Server-Sent Events stream.
struct EventsAPI: Sendable {
    let store: any EventLog
    /// Wakes streams when the watcher commits.
    let bus: EventBus
    /// Seconds between SSE heartbeat comments.
    let heartbeat: Double

    /// The routes, relative to `/v1/events`.
    var routes: RouteCollection<APIRequestContext> {
        RouteCollection(context: APIRequestContext.self)
            .get(use: list)
            .get("stream", use: stream)
    }

    struct Page: ResponseEncodable {
        var events: [CertWatchEvent]
        var nextAfter: Int64
        enum CodingKeys: String, CodingKey { case events, nextAfter = "next_after" }
    }

    /// `GET /v1/events`: events after a sequence, filtered by type and order id. Throws ``APIError``
    /// 422 for an unknown `type` or an `order_id` that is not 1–32 digits.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Page {
        let query = request.uri.queryParameters
        let after = try request.integerParameter("after") ?? 0
        var type: EventType?
        if let text = query["type"].map(String.init) {
            guard let parsed = EventType(rawValue: text) else { throw APIError.invalid("unknown event type \(text)", field: "type") }
            type = parsed
        }
        let orderID = query["order_id"].map(String.init)
        if let orderID, !WatchRegistration.isDouyinID(orderID) {
            throw APIError.invalid(WatchRegistration.orderIDMessage(orderID), field: "order_id")
        }
        let limit = try request.limitParameter(default: 100, maximum: 1_000)
        let events = try await store.events(after: after, type: type, orderID: orderID, limit: limit)
        return Page(events: events, nextAfter: events.last?.sequence ?? after)
    }

    /// `GET /v1/events/stream`: Server-Sent Events, `id:` = sequence. Resumes after `Last-Event-ID`
    /// or `?after=`; without either, starts at the newest event. Heartbeat comments every
    /// ``heartbeat`` seconds. Events come from the store, so a reconnect neither misses nor repeats one.
    @Sendable func stream(_ request: Request, context: APIRequestContext) async throws -> Response {
        let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
        let start: Int64
        if let resume = try lastEventID ?? request.integerParameter("after") {
            start = resume
        } else {
            start = try await store.lastSequence()
        }
        let store = self.store
        let bus = self.bus
        let heartbeat = self.heartbeat
        let body = ResponseBody { writer in
            var cursor = start
            let wakeups = bus.subscribe()
            try await writer.write(ByteBuffer(string: ": certwatch event stream, after \(start)\n\n"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ticks, tick) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(1))
                group.addTask {
                    for await _ in wakeups { tick.yield(false) }
                }
                group.addTask {
                    // Also look at the store every second: events may be appended by another process.
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        tick.yield(true)
                    }
                }
                var quiet = 0.0
                tick.yield(false)
                for await isTimer in ticks.cancelOnGracefulShutdown() {  // the server stops first at shutdown: end streams
                    while true {
                        let events = try await store.events(after: cursor, type: nil, orderID: nil, limit: 500)
                        for event in events {
                            let text = "id: \(event.sequence ?? 0)\nevent: \(event.type.rawValue)\ndata: \(String(decoding: event.jsonData(), as: UTF8.self))\n\n"
                            try await writer.write(ByteBuffer(string: text))
                            cursor = event.sequence ?? cursor
                            quiet = 0
                        }
                        if events.count < 500 { break }
                    }
                    if isTimer {
                        quiet += 1
                        if quiet >= heartbeat {
                            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                            quiet = 0
                        }
                    }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }
}
