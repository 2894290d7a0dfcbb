import CertWatch
import CertWatchCore
import DouyinOpenAPI
import DouyinSandbox
import Foundation
import Testing

/// Douyin's word on a merchant account, on the sandbox's manual clock: 2119005 pauses the account's
/// watches (never fails them one by one) and a later successful call resumes them; 2190004 stops a
/// detector while certificate polling goes on.
@Suite("Accounts: authorization and scope")
struct AccountAuthorizationTests {
    static let account = "7100000000000000001"

    /// Three orders of the account, registered with it and polled once (discovered).
    private func setUp(_ h: Harness) async throws -> [Watch] {
        var watches: [Watch] = []
        for _ in 0..<3 {
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], accountID: Self.account))
            let now = h.clock.unixNow
            watches.append(
                try await h.store.register(WatchRegistration(orderID: order.orderID, accountID: Self.account), now: now, firstPollAt: now).watch)
        }
        _ = try await h.store.saveAccount(AccountSettings(accountID: Self.account), source: .api, now: h.clock.unixNow)
        _ = try await h.run(for: 5)
        return watches
    }

    @Test("2119005 on a poll pauses every watch of the account, none fails; the feed succeeding after the merchant authorizes resumes them")
    func pauseAndResume() async throws {
        try await Harness.with { h in
            let watches = try await setUp(h)
            try await h.sandbox.deauthorize(accountID: Self.account)
            #expect(try await h.store.pollSoon(id: watches[0].id, at: h.clock.unixNow))
            let outcomes = try await h.watcher.pollDue()
            #expect(outcomes.contains { if case .paused = $0 { true } else { false } })
            #expect(try await h.store.watchCounts(accountID: Self.account) == [.paused: 3])
            var account = try #require(try await h.store.account(id: Self.account))
            #expect(account.authorization.status == .unauthorized)
            #expect(account.authorization.reason?.contains("2119005") == true)
            #expect(try await h.store.events(after: 0, type: .watchFailed, orderID: nil, limit: 10).isEmpty)
            // Paused watches are not polled, whatever time passes.
            try await h.advance(3_600)
            #expect(try await h.watcher.pollDue().isEmpty)

            // The feed and the sweep also meet 2119005 while the merchant has not authorized the app.
            try await h.services.accounts.runDue()
            account = try #require(try await h.store.account(id: Self.account))
            #expect(account.feedState.status == .unauthorized)
            #expect(account.feedState.lastErrorCode == 2_119_005)
            #expect(account.feedState.lastLogid != nil)

            // The merchant authorizes the app again: the next feed run succeeds, the watches resume, due now.
            try await h.sandbox.authorize(accountID: Self.account)
            try await h.advance(Double(AccountSettings.defaultFeedInterval))
            try await h.services.accounts.runDue()
            account = try #require(try await h.store.account(id: Self.account))
            #expect(account.authorization == .authorized)
            #expect(account.feedState.status == .ok)
            #expect(try await h.store.watchCounts(accountID: Self.account) == [.active: 3])
            let polled = try await h.watcher.pollDue()
            #expect(polled.count == 3)
        }
    }

    @Test("2190004 on the order query marks the feed and the sweep not_permitted and stops calling; polling goes on; saving the account retries")
    func notPermitted() async throws {
        try await Harness.with { h in
            let watches = try await setUp(h)
            await h.sandbox.revokeScope(.orderQuery)
            try await h.services.accounts.runDue()
            var account = try #require(try await h.store.account(id: Self.account))
            #expect(account.feedState.status == .notPermitted)
            #expect(account.sweepState.status == .notPermitted)
            #expect(account.authorization == .authorized)
            let listed = { await h.sandbox.requests(since: 0, limit: 100_000).filter { $0.api == .orderQuery }.count }
            let before = await listed()
            try await h.advance(600)
            try await h.services.accounts.runDue()
            #expect(await listed() == before, "a not_permitted detector was called again")
            // Certificate polling goes on.
            #expect(try await h.store.pollSoon(id: watches[0].id, at: h.clock.unixNow))
            #expect(try await h.watcher.pollDue().contains { if case .polled = $0 { true } else { false } })
            // Saving the account again is the operator's "try again".
            await h.sandbox.grantScope(.orderQuery)
            _ = try await h.store.saveAccount(AccountSettings(accountID: Self.account), source: .api, now: h.clock.unixNow)
            try await h.services.accounts.runDue()
            account = try #require(try await h.store.account(id: Self.account))
            #expect(account.feedState.status == .ok)
            #expect(await listed() > before)
        }
    }

    @Test("a sweep catching up reads the history window by window: 300 verifications over 5 hours, all checked in one run")
    func sweepCatchesUp() async throws {
        try await Harness.with { h in
            var certificates: [String] = []
            for _ in 0..<300 {
                let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], accountID: Self.account))
                _ = try await h.sandbox.verify(certificateID: order.certificates[0].certificateID)
                certificates.append(order.certificates[0].certificateID)
                try await h.advance(60)
            }
            _ = try await h.store.saveAccount(
                AccountSettings(accountID: Self.account, feed: .init(enabled: false, interval: 15)), source: .api, now: h.clock.unixNow)
            let start = h.clock.unixNow
            try await h.services.accounts.runDue()
            let sweep = try #require(try await h.store.account(id: Self.account)).sweepState
            #expect(sweep.status == .ok, "\(sweep.lastError ?? "") \(sweep)")
            #expect(sweep.verifyHighWater == start)
            #expect(sweep.seen >= 600)  // 300 orders created, 300 verify records
            // Every verification's order is watched now (registered by the sweep, once: a record is
            // hinted by its order, not registered again by its encrypted code).
            let watched = try await h.store.watches(state: .active, labels: ["source": "sweep"], after: nil, limit: 1_000)
            #expect(watched.count == 300)
        }
    }

    @Test("2119005 for a watch of no stored account: it retries (never watch.failed) and polls again once the merchant authorizes")
    func withoutAccountRetries() async throws {
        try await Harness.with { h in
            let order = try await h.sandbox.createOrder(OrderSpec(certificates: [.init(kind: .voucher)], accountID: Self.account))
            let now = h.clock.unixNow
            let watch = try await h.store.register(
                WatchRegistration(orderID: order.orderID, accountID: Self.account), now: now, firstPollAt: now).watch
            try await h.sandbox.deauthorize(accountID: Self.account)
            let outcomes = try await h.watcher.pollDue()
            #expect(outcomes.contains { if case .retrying(let error, _) = $0 { error.code == 2_119_005 } else { false } }, "\(outcomes)")
            #expect(try await h.store.watch(id: watch.id)?.state == .active)
            #expect(try await h.store.events(after: 0, type: .watchFailed, orderID: nil, limit: 10).isEmpty)
            try await h.sandbox.authorize(accountID: Self.account)
            _ = try await h.run(for: 1_200)
            #expect(try await h.store.events(after: 0, type: .discovered, orderID: order.orderID, limit: 10).count == 1)
        }
    }

    @Test("removing an account resumes its paused watches; saving it changes only what the save names")
    func removeResumesAndSavesMerge() async throws {
        try await Harness.with { h in
            let watches = try await setUp(h)
            _ = try await h.store.saveAccount(
                AccountSettings(accountID: Self.account, name: "总店", poiIDs: ["7100000000000000101"], feed: .init(enabled: true, interval: 30)),
                source: .api, now: h.clock.unixNow)
            _ = try await h.store.setAuthorization(.unauthorized, of: Self.account, reason: "code 2119005", now: h.clock.unixNow)
            #expect(try await h.store.watchCounts(accountID: Self.account) == [.paused: 3])
            #expect(try await h.store.removeAccount(id: Self.account, now: h.clock.unixNow))
            #expect(try await h.store.watchCounts(accountID: Self.account) == [.active: 3])
            #expect(try await h.store.watch(id: watches[0].id)?.nextPollAt == h.clock.unixNow)
        }
    }
}
