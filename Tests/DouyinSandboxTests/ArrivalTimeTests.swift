import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// The request log and the QPS bucket take a request at its arrival (``ArrivalStamp``), not when a
/// busy thread pool got round to handling it.
@Suite("Request arrival times") struct ArrivalTimeTests {
    @Test("a request handled late is logged at its arrival; the arrival is stamped by the server, not the client")
    func loggedAtArrival() async throws {
        let sandbox = DouyinSandbox(clock: .system(speed: 10))
        let realNow = Date().timeIntervalSince1970
        _ = await sandbox.handle(DouyinRequest(endpoint: .query(.compreRetail), arrivedAt: realNow - 0.8))
        let logged = try #require(await sandbox.requests(since: 0, limit: 10).last)
        // The sandbox clock started at real time now: 0.8 real seconds earlier is 8 sandbox seconds at speed 10.
        #expect(abs(logged.time - (realNow - 8)) < 0.5)

        try await SandboxHarness.run(clock: .system()) { harness in
            let sent = Date().timeIntervalSince1970
            _ = try await harness.raw(
                .GET, CertificateAPI.fulfilment.queryPath + "?order_id=1", headers: [("x-sandbox-arrival", "1000")])
            let entry = try #require(await harness.sandbox.requests(since: 0, limit: 10).last)
            #expect(entry.time >= sent - 0.5 && entry.time <= Date().timeIntervalSince1970 + 0.5)
        }
    }

    @Test("a manual clock reads the same however late the request is handled")
    func manualClockIgnoresLag() async throws {
        let sandbox = DouyinSandbox(clock: .manual(at: 1_734_169_082))
        _ = await sandbox.handle(DouyinRequest(endpoint: .query(.compreRetail), arrivedAt: Date().timeIntervalSince1970 - 5))
        let logged = try #require(await sandbox.requests(since: 0, limit: 10).last)
        #expect(logged.time == 1_734_169_082)
    }
}
