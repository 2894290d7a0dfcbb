import CertWatch
import CertWatchCore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Testing

@Suite("Graceful shutdown")
struct GracefulShutdownTests {
    @Test("a delivery in flight when shutdown starts completes and is recorded")
    func deliveryInFlight() async throws {
        let store = try temporaryStore()
        let clock = ManualWallClock()
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let router = Router()
        router.post("hook") { _, _ -> Response in
            arrival.yield()
            for await _ in released { break }  // hold the request until the test lets go
            return Response(status: .ok)
        }
        let (ports, port) = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let receiver = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { port.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { servers in
            servers.addTask { try await receiver.runService() }
            var portIterator = ports.makeAsyncIterator()
            let receiverPort = try #require(await portIterator.next())
            let sink = SinkConfiguration(
                name: "erp", kind: .webhook, url: "http://127.0.0.1:\(receiverPort)/hook",
                secrets: ["whsec_" + Data("k".utf8).base64EncodedString()], allowPrivate: true)
            let event = CertWatchEvent(
                id: "evt_1", source: "/douyin/compre_retail/orders/1", type: .verified, subject: "c1", time: clock.unixNow,
                data: EventData(watch: WatchInfo(id: "w_1", orderID: "1")))
            let appended = try await store.append([event])
            let now = clock.now()
            try await store.enqueue(
                Routing(now: now, deliveries: appended.map { PlannedDelivery(event: $0, decision: RouteDecision(sink: "erp", rule: "test")) }))
            let dispatcher = Dispatcher(store: store, sinks: SinkFactory.make([sink]), clock: clock, logger: quiet)
            let group = ServiceGroup(configuration: .init(services: [dispatcher], logger: quiet))
            try await withThrowingTaskGroup(of: Void.self) { running in
                running.addTask { try await group.run() }
                var arrivals = arrived.makeAsyncIterator()
                _ = await arrivals.next()  // the delivery is on the wire
                await group.triggerGracefulShutdown()
                release.yield()
                try await running.waitForAll()
            }
            let deliveries = try await store.deliveries()
            #expect(deliveries.map(\.state) == [.delivered])
            #expect(try await store.deliveryAttempts(deliveryID: deliveries[0].id).map(\.status) == [200])
            servers.cancelAll()
        }
    }
}
