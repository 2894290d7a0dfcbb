import CertWatchCore
import DouyinModels
import Foundation
import Testing

@Suite("Grouping with an injected clock")
struct GroupingTests {
    let policy = GroupPolicy(by: ["data.watch.labels.store"], wait: 30, interval: 300, max: 2)
    let key = GroupKey(rule: "summary", values: ["sh-01"])

    func add(_ state: inout GroupingState, _ id: String, at time: Int64, pay: Int64 = 100) {
        state.add(event(.verified, id: id, pay: pay, time: time), key: key, policy: policy, sinks: ["chat"], now: time)
    }

    @Test("wait before the first summary")
    func wait() {
        var state = GroupingState()
        add(&state, "a", at: 1000)
        #expect(state.nextDue() == 1030)
        #expect(state.flush(now: 1029).isEmpty)
        add(&state, "b", at: 1010)
        let summaries = state.flush(now: 1030)
        #expect(summaries.count == 1)
        #expect(summaries.first?.count == 2)
        #expect(summaries.first?.payAmountTotal == 200)
        #expect(summaries.first?.types == ["certificate.verified": 2])
        #expect(summaries.first?.sinks == ["chat"])
        #expect(state.nextDue() == nil)
    }

    @Test("interval between updates; idle groups are forgotten")
    func interval() {
        var state = GroupingState()
        add(&state, "a", at: 1000)
        #expect(state.flush(now: 1030).map(\.count) == [1])
        add(&state, "b", at: 1100)
        #expect(state.nextDue() == 1330)
        #expect(state.flush(now: 1329).isEmpty)
        let second = state.flush(now: 1330)
        #expect(second.map(\.messageNumber) == [2])
        // Nothing for a whole interval: the group is forgotten, the next event waits `wait` again.
        #expect(state.flush(now: 1630).isEmpty)
        #expect(state.groupCount == 0)
        add(&state, "c", at: 2000)
        #expect(state.nextDue() == 2030)
    }

    @Test("max events listed, all counted; duplicates counted once")
    func max() {
        var state = GroupingState()
        for (i, id) in ["a", "b", "c", "a"].enumerated() { add(&state, id, at: 1000 + Int64(i)) }
        let summary = state.flush(now: 1030).first
        #expect(summary?.count == 3)
        #expect(summary?.events.map(\.id) == ["a", "b"])
        #expect(summary?.plainText(timeZone: RuleSet.shanghai).contains("… and 1 more") == true)
    }

    @Test("restart in the middle: state round-trips through JSON and nothing is lost or repeated")
    func restart() throws {
        func run(restartAt: Int?) throws -> [GroupSummary] {
            var state = GroupingState()
            var out: [GroupSummary] = []
            let times: [Int64] = [1000, 1010, 1040, 1200, 1500, 1900]
            for (i, t) in times.enumerated() {
                if i == restartAt {
                    let saved = try JSONEncoder().encode(state)
                    state = try JSONDecoder().decode(GroupingState.self, from: saved)
                }
                while let due = state.nextDue(), due <= t { out += state.flush(now: due) }
                add(&state, "e\(i)", at: t)
            }
            while let due = state.nextDue() { out += state.flush(now: due) }
            return out
        }
        let uninterrupted = try run(restartAt: nil)
        #expect(uninterrupted.map(\.count) == [2, 2, 1, 1])
        #expect(Set(uninterrupted.map(\.id)).count == 4)
        for point in 1..<6 {
            #expect(try run(restartAt: point) == uninterrupted)
        }
    }

    @Test("router feeds groups; summaries render with the rule's template")
    func routed() throws {
        let set = try ruleSet("""
            rules:
              - name: summary
                on: [certificate.verified]
                group: {by: [data.watch.labels.store], wait: 30s, interval: 5m, max: 10}
                deliver: [chat]
                body: "{{group.key}} {{group.count}} ¥{{yuan(group.pay_amount_total)}}{{#group.types}} {{type}}={{count}}{{/group.types}}"
            """)
        var state = GroupingState()
        for (i, store) in ["sh-01", "bj-02", "sh-01"].enumerated() {
            let e = event(.verified, id: "evt_\(i)", store: store, pay: 1050, time: 1000 + Int64(i))
            let decisions = set.route(e, now: e.time)
            #expect(decisions.map(\.group) == [GroupKey(rule: "summary", values: [store])])
            set.group(e, decisions: decisions, into: &state, now: e.time)
        }
        let bodies = state.flush(now: 1031).map(set.render)
        #expect(bodies == ["bj-02 1 ¥10.50 certificate.verified=1", "sh-01 2 ¥21.00 certificate.verified=2"])
    }
}
