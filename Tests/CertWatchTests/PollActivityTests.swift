import CertWatch
import DouyinOpenAPI
import Testing

@Suite("Poll activity (the console's budget and Douyin errors)")
struct PollActivityTests {
    @Test("queries per second over the last minute, the current second left out")
    func queryRate() {
        let activity = PollActivity()
        for second in Int64(1_000)..<1_060 {
            for _ in 0..<3 { activity.recordQuery(at: second) }
        }
        #expect(activity.queryRate(now: 1_060) == 3)
        activity.recordQuery(at: 1_060)  // the current second: not yet counted
        #expect(activity.queryRate(now: 1_060) == 3)
        // A minute later only the seconds since count; old slots are overwritten, not added.
        #expect(abs(activity.queryRate(now: 1_090) - 91.0 / 60) < 1e-9)  // 1,030…1,059 (3 each) and 1,060 (1)
        #expect(activity.queryRate(now: 2_000) == 0)
    }

    @Test("Douyin errors by code: count, the latest logid and watch, most recent first")
    func errorsByCode() {
        let activity = PollActivity()
        let busy = DouyinAPIError(errorClass: .retry, source: .business, code: 2_100_004, logid: "L1")
        activity.recordError(busy, watchID: "w_a", at: 100)
        activity.recordError(DouyinAPIError(errorClass: .retry, source: .business, code: 2_100_004, logid: "L2"), watchID: "w_b", at: 110)
        activity.recordError(DouyinAPIError(errorClass: .retry, source: .httpStatus(503), httpStatus: 503), watchID: "w_c", at: 105)
        let errors = activity.errors
        #expect(errors.map(\.code) == ["2100004", "HTTP 503"])
        #expect(errors[0].count == 2 && errors[0].lastLogid == "L2" && errors[0].lastWatchID == "w_b" && errors[0].lastAt == 110)
        #expect(errors[1].count == 1 && errors[1].errorClass == "retry")
    }
}
