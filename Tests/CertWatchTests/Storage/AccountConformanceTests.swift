@testable import CertWatch
import CertWatchCore
import Foundation
import Testing

/// The accounts role (``AccountRegistry``), the hint's source and the stored-event lookup, on
/// every backend (``StorageBackend/all``).
@Suite("Storage conformance: accounts")
struct AccountConformanceTests {
    private func register(_ storage: any CertWatchStorage, _ orderID: String, account: String?, dueAt: Int64 = 10) async throws -> Watch {
        try await storage.register(WatchRegistration(orderID: orderID, accountID: account), now: 0, firstPollAt: dueAt).watch
    }

    @Test("an account is created, updated with its state kept, listed, removed", arguments: StorageBackend.all)
    func saveAndRead(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        var settings = AccountSettings(accountID: "7100000000000000001", name: "总店", poiIDs: ["7100000000000000101"])
        let created = try await storage.saveAccount(settings, source: .file, now: 100)
        #expect(created.created)
        #expect(created.account.authorization.status == .authorized)
        #expect(created.account.feedState.status == .idle)
        #expect(try await storage.account(id: "7100000000000000001") == created.account)

        var state = DetectorState(status: .notPermitted, lastRunAt: 150, highWater: 150, lastError: "code 2190004", lastErrorCode: 2_190_004, runs: 3)
        try await storage.recordDetector(.feed, of: "7100000000000000001", state: state)
        state.status = .ok
        try await storage.recordDetector(.sweep, of: "7100000000000000001", state: state)

        settings.name = "总店二"
        settings.sweep.interval = 600
        let updated = try await storage.saveAccount(settings, source: .api, now: 200)
        #expect(!updated.created)
        #expect(updated.account.settings == settings)
        #expect(updated.account.createdAt == 100 && updated.account.updatedAt == 200)
        #expect(updated.account.source == .api)
        // Saving again retries a not_permitted detector; the rest of the state is kept.
        #expect(updated.account.feedState.status == .idle)
        #expect(updated.account.feedState.highWater == 150 && updated.account.feedState.runs == 3)
        #expect(updated.account.sweepState.status == .ok)
        #expect(try await storage.account(id: "7100000000000000001") == updated.account)

        _ = try await storage.saveAccount(AccountSettings(accountID: "7100000000000000002"), source: .api, now: 300)
        #expect(try await storage.accounts().map(\.accountID) == ["7100000000000000001", "7100000000000000002"])
        #expect(try await storage.removeAccount(id: "7100000000000000001", now: 400))
        #expect(!(try await storage.removeAccount(id: "7100000000000000001", now: 400)))
        #expect(try await storage.account(id: "7100000000000000001") == nil)
    }

    @Test("bad settings are refused naming the field", arguments: StorageBackend.all)
    func invalidSettings(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        await #expect(throws: ValidationError.self) {
            _ = try await storage.saveAccount(AccountSettings(accountID: "abc"), source: .api, now: 0)
        }
        do {
            _ = try await storage.saveAccount(AccountSettings(accountID: "1", poiIDs: ["1", "x"]), source: .api, now: 0)
            Issue.record("accepted a poi_id that is not digits")
        } catch let error as ValidationError {
            #expect(error.field == "poi_ids[1]")
        }
        #expect(try await storage.accounts().isEmpty)
    }

    @Test("2119005 pauses every active watch of the account, not others; authorization resumes them due now", arguments: StorageBackend.all)
    func pauseAndResume(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        _ = try await storage.saveAccount(AccountSettings(accountID: "7001"), source: .api, now: 0)
        let a = try await register(storage, "1", account: "7001", dueAt: 5_000)
        let b = try await register(storage, "2", account: "7001", dueAt: 6_000)
        let other = try await register(storage, "3", account: "7002")
        let removed = try await register(storage, "4", account: "7001")
        _ = try await storage.remove(id: removed.id, now: 1)

        #expect(try await storage.setAuthorization(.unauthorized, of: "7001", reason: "code 2119005, logid L1", now: 100) == 2)
        let account = try #require(try await storage.account(id: "7001"))
        #expect(account.authorization == Account.Authorization(status: .unauthorized, since: 100, reason: "code 2119005, logid L1"))
        #expect(try await storage.watch(id: a.id)?.state == .paused)
        #expect(try await storage.watch(id: other.id)?.state == .active)
        #expect(try await storage.watch(id: removed.id)?.state == .removed)
        #expect(try await storage.watchCounts(accountID: "7001") == [.paused: 2, .removed: 1])
        #expect(try await storage.watches(accountID: "7001", state: .paused, limit: 10).map(\.id) == [a.id, b.id].sorted())
        // Paused watches are not claimed.
        #expect(try await storage.claimDue(now: 10_000, limit: 10, lease: 60).map(\.id) == [other.id])
        // Again: still unauthorized since 100.
        #expect(try await storage.setAuthorization(.unauthorized, of: "7001", reason: nil, now: 200) == 0)
        #expect(try await storage.account(id: "7001")?.authorization.since == 100)

        #expect(try await storage.setAuthorization(.authorized, of: "7001", reason: nil, now: 300) == 2)
        #expect(try await storage.account(id: "7001")?.authorization == .authorized)
        let resumed = try #require(try await storage.watch(id: b.id))
        #expect(resumed.state == .active && resumed.nextPollAt == 300)
        #expect(Set(try await storage.claimDue(now: 300, limit: 10, lease: 60).map(\.id)) == [a.id, b.id])
        // An account not stored changes nothing.
        #expect(try await storage.setAuthorization(.unauthorized, of: "7002", reason: nil, now: 400) == 0)
        #expect(try await storage.watch(id: other.id)?.state == .active)
    }

    @Test("a hint remembers who gave it; the first source is kept; stored event ids are found", arguments: StorageBackend.all)
    func hintSourceAndStoredIDs(backend: StorageBackend) async throws {
        let storage = try await backend.make()
        let watch = try await register(storage, "9", account: nil, dueAt: 5_000)
        #expect(try await storage.hint(HintTargets(orderIDs: ["9"], source: .feed), now: 100) == [watch.id])
        #expect(try await storage.hint(HintTargets(orderIDs: ["9"], source: .push), now: 100) == [watch.id])
        let claimed = try await storage.claimHinted(now: 100, limit: 1, lease: 60)
        #expect(claimed.map(\.hintedBy) == [.feed])
        let info = watch.info
        let event = CertWatchEvent(
            id: CertWatchEvent.eventID(subject: "c1", type: .verified, discriminator: "v1"), source: CertWatchEvent.source(of: info),
            type: .verified, subject: "c1", time: 100, data: EventData(watch: info, detectedBy: .sweep))
        _ = try await storage.append([event])
        #expect(try await storage.storedEventIDs(among: [event.id, "evt_nope"]) == [event.id])
        #expect(try await storage.storedEventIDs(among: []) == [])
        #expect(try await storage.detections(after: 0, limit: 10).map(\.detectedBy) == [.sweep])
    }
}
