@testable import CertWatch
import Testing

/// The account detectors' pure plan: what runs now, when the next run is, the window it asks for.
@Suite("Accounts: detector schedule")
struct DetectorScheduleTests {
    func account(_ id: String, feed: DetectorState = DetectorState(), sweep: DetectorState = DetectorState(), sweepOn: Bool = true) -> Account {
        Account(
            settings: AccountSettings(accountID: id, sweep: .init(enabled: sweepOn, interval: 300)), source: .api, createdAt: 0,
            updatedAt: 0, authorization: .authorized, feedState: feed, sweepState: sweep)
    }

    @Test("never run: due now; ran: due an interval later; off and not_permitted: never")
    func plan() {
        let schedule = DetectorSchedule()
        let accounts = [
            account("1"),
            account("2", feed: DetectorState(status: .ok, lastRunAt: 990), sweep: DetectorState(status: .notPermitted, lastRunAt: 0)),
            account("3", feed: DetectorState(status: .failing, lastRunAt: 985), sweepOn: false),
        ]
        let (due, next) = schedule.plan(accounts, now: 1_000)
        #expect(due.map { "\($0.accountID)/\($0.detector.rawValue)" } == ["1/feed", "1/sweep", "3/feed"])
        #expect(next == 1_005)  // account 2's feed: 990 + 15
        #expect(schedule.plan([account("2", feed: DetectorState(lastRunAt: 990), sweep: DetectorState(status: .notPermitted))], now: 1_000).due.isEmpty)
    }

    @Test("windows start at the high-water mark less the overlap, a first run reaches back its lookback, none beyond the longest")
    func windows() {
        let schedule = DetectorSchedule(overlap: 60, firstLookback: 86_400, maxLookback: 7 * 86_400)
        #expect(schedule.window(highWater: 10_000, now: 10_015) == (9_940, 10_015))
        #expect(schedule.window(highWater: nil, now: 100_000) == (13_600, 100_000))
        #expect(schedule.window(highWater: nil, now: 100_000, firstLookback: 75) == (99_925, 100_000))
        #expect(schedule.window(highWater: 0, now: 1_000_000) == (1_000_000 - 7 * 86_400 - 60, 1_000_000))
    }

    @Test("a sweep window reaches a span past its mark; too many pages halve the span, success doubles it back")
    func spans() {
        let schedule = DetectorSchedule(overlap: 60, firstLookback: 86_400, maxSpan: 3_600)
        #expect(schedule.window(highWater: 10_000, now: 20_000, span: 3_600) == (9_940, 13_600))
        #expect(schedule.window(highWater: 19_000, now: 20_000, span: 3_600) == (18_940, 20_000))
        #expect(schedule.window(highWater: nil, now: 100_000, span: 3_600) == (13_600, 17_200))
        #expect(schedule.window(highWater: 10_000, now: 20_000, span: 1) == (9_940, 10_060))
        #expect(schedule.nextSpan(after: 3_600, tooMany: true) == 1_800)
        #expect(schedule.nextSpan(after: 60, tooMany: true) == 60)
        #expect(schedule.nextSpan(after: 900, tooMany: false) == 1_800)
        #expect(schedule.nextSpan(after: 1_800, tooMany: false) == nil)
    }
}
