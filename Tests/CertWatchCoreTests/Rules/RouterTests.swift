import CertWatchCore
import DouyinModels
import Foundation
import Testing

func ruleSet(_ yaml: String, sinks: Set<String>? = nil) throws(RuleLoadErrors) -> RuleSet {
    try RuleSet.parse(sources: [(file: "test.yaml", text: yaml)], knownSinks: sinks)
}

func event(_ type: EventType, id: String = "evt_1", store: String? = "sh-01", env: String? = nil, pay: Int64 = 9900, time: Int64 = 1_734_169_100) -> CertWatchEvent {
    var e = RuleTestRunner.baseEvent(type: type, time: time)
    e.id = id
    e.data.watch.labels = [:]
    if let store { e.data.watch.labels["store"] = store }
    if let env { e.data.watch.labels["env"] = env }
    e.data.certificate?.amount?.payAmount = pay
    return e
}

func loadErrors(_ yaml: String, sinks: Set<String>? = nil) -> [String] {
    do {
        _ = try ruleSet(yaml, sinks: sinks)
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

@Suite("Router")
struct RouterTests {
    let yaml = """
        default:
          deliver: [fallback]
        rules:
          - name: drop-test
            on: ["*"]
            when: data.watch.labels.env == "test"
            drop: true
          - name: big
            on: [certificate.verified]
            when: data.certificate.amount.pay_amount >= 10000
            deliver: [erp, chat]
          - name: all-certificate
            on: ["certificate.*"]
            deliver: [chat, log]
          - name: after
            on: [certificate.verified]
            deliver: [log2]
        """

    @Test("every matching rule applies in order; first rule naming a sink wins")
    func ordering() throws {
        let set = try ruleSet(yaml)
        let decisions = set.route(event(.verified, pay: 20000), now: 0)
        #expect(decisions.map(\.sink) == ["erp", "chat", "log", "log2"])
        #expect(decisions.map(\.rule) == ["big", "big", "all-certificate", "after"])
        let outcome = set.evaluate(event(.verified, pay: 100), now: 0)
        #expect(outcome.matchedRules == ["all-certificate", "after"])
        #expect(!outcome.unmatched)
    }

    @Test("drop stops later rules and is not unmatched")
    func drop() throws {
        let outcome = try ruleSet(yaml).evaluate(event(.verified, env: "test", pay: 20000), now: 0)
        #expect(outcome.decisions.isEmpty)
        #expect(outcome.droppedBy == "drop-test")
        #expect(outcome.matchedRules == ["drop-test"])
        #expect(!outcome.unmatched)
    }

    @Test("unmatched events take the default route and are reported")
    func defaultRoute() throws {
        let outcome = try ruleSet(yaml).evaluate(event(.watchFailed), now: 0)
        #expect(outcome.unmatched)
        #expect(outcome.decisions == [RouteDecision(sink: "fallback", rule: nil)])
        let noDefault = try ruleSet("rules:\n  - {name: a, on: [certificate.verified], deliver: [x]}\n")
        let none = noDefault.evaluate(event(.refunded), now: 0)
        #expect(none.unmatched && none.decisions.isEmpty)
    }

    @Test("prefix and wildcard patterns")
    func prefixes() throws {
        #expect(EventPattern("certificate.*")?.matches(.verified) == true)
        #expect(EventPattern("certificate.*")?.matches(.watchFailed) == false)
        #expect(EventPattern("watch.*")?.matches(.watchFailed) == true)
        #expect(EventPattern("*")?.matches(.refunded) == true)
        #expect(EventPattern("cert.*") == nil)
        #expect(EventPattern("certificate.verifyed") == nil)
    }

    @Test("now is the routing time")
    func now() throws {
        let set = try ruleSet("rules:\n  - {name: fresh, on: ['*'], when: 'now - timeunix < 1h', deliver: [x]}\n")
        #expect(set.route(event(.verified, time: 1000), now: 1000 + 3599).count == 1)
        #expect(set.route(event(.verified, time: 1000), now: 1000 + 3600).isEmpty)
    }

    @Test("templates render per event with helpers; no HTML escaping")
    func templates() throws {
        let set = try ruleSet("""
            rules:
              - name: chat
                on: [certificate.verified]
                deliver: [chat]
                time_zone: UTC
                body: "{{rule}} <{{subject}}> ¥{{yuan(data.certificate.amount.pay_amount)}} {{local_time(timeunix)}} {{local_date(timeunix)}} {{#data.certificate.reserve_users}}{{mask_phone(phone)}}{{/data.certificate.reserve_users}}{{#data.certificate.verifications}} poi={{poi_id}}{{/data.certificate.verifications}}"
            """)
        let body = set.route(event(.verified, pay: 12345), now: 0).first?.body
        #expect(body == "chat <7301234567890123456> ¥123.45 2024-12-14 09:38:20 2024-12-14 138****5678 poi=6601234567890123456")
    }

    @Test("list helpers and JSON escaping")
    func listHelpers() throws {
        let set = try ruleSet("""
            rules:
              - name: lists
                on: [certificate.verified]
                deliver: [x]
                body: "{{% CONTENT_TYPE: JSON}}{{count(data.certificate.verifications)}} {{#first(data.certificate.verifications)}}{{verify_id}}{{/first(data.certificate.verifications)}} {{data.certificate.sku.title}}"
            """)
        var e = event(.verified)
        e.data.certificate?.sku?.title = "a\"b"
        #expect(set.route(e, now: 0).first?.body == "1 7212345678901234567 a\\\"b")
    }

    @Test("yuan uses exact integer arithmetic")
    func yuan() {
        #expect(RuleTemplate.yuan(0) == "0.00")
        #expect(RuleTemplate.yuan(5) == "0.05")
        #expect(RuleTemplate.yuan(-5) == "-0.05")
        #expect(RuleTemplate.yuan(123_456_789_012_345_678) == "1234567890123456.78")
        #expect(RuleTemplate.yuan(Int64.min) == "-92233720368547758.08")
    }

    @Test("local time defaults to Asia/Shanghai")
    func localTime() {
        #expect(RuleTemplate.localTime(1_734_169_082, zone: RuleSet.shanghai) == "2024-12-14 17:38:02")
    }

    @Test("load errors: several at once, with positions", arguments: [
        ("rules:\n  - name: a\n    on: [certificate.verified]\n", ["test.yaml:2:5: rule \"a\" needs \"deliver: [sinks]\" or \"drop: true\""]),
        ("rules:\n  - {name: a, on: ['*'], deliver: [x]}\n  - {name: a, on: ['*'], deliver: [x]}\n", ["test.yaml:3:5: duplicate rule name \"a\" (first at test.yaml:2:5)"]),
        ("rules:\n  - {name: a, on: ['*'], deliver: [x], drop: true}\n", ["test.yaml:2:35: a rule cannot both drop and deliver"]),
        ("rules:\n  - {name: a, on: ['*'], deliver: [x], group: {by: [data.watch.labels], wait: soon}}\n", [
            "test.yaml:2:53: group.by data.watch.labels is map<string, string>; group by a string, int or bool field",
            "test.yaml:2:79: group.wait must be a duration like 30s, 5m, 1h (got \"soon\")",
        ]),
        ("rules:\n  - {name: a, on: ['*'], deliver: [x], body: '{{#events}}{{/events}}'}\n", ["test.yaml:2:47: unknown field \"events\" in {{#events}}"]),
        ("rules:\n  - {name: a, on: ['*'], deliver: [x], body: '{{json(data.changes)}}'}\n", ["test.yaml:2:47: json() takes an object or scalar, but data.changes is list<object> in {{json(data.changes)}}"]),
        ("rulez: []\n", ["test.yaml:1:1: unknown key \"rulez\" in a rule file (did you mean \"rules\"?); allowed: rules, default, time_zone", "test.yaml:1:1: missing \"rules:\""]),
        ("rules:\n  - {name: a, on: ['*'], deliver: [x], time_zone: Mars/Base}\n", ["test.yaml:2:51: unknown time zone \"Mars/Base\" (use an IANA name like Asia/Shanghai)"]),
    ])
    func loadErrorPositions(yaml: String, expected: [String]) {
        #expect(loadErrors(yaml) == expected)
    }

    @Test("sink names are checked only when known")
    func sinks() {
        let yaml = "rules:\n  - {name: a, on: ['*'], deliver: [erp, chta]}\n"
        #expect(loadErrors(yaml).isEmpty)
        #expect(loadErrors(yaml, sinks: ["erp", "chat"]) == [
            "test.yaml:2:41: unknown sink \"chta\" (did you mean \"chat\"?); configured sinks: chat, erp"
        ])
    }

    @Test("a broken file never crashes the loader", arguments: ["", "- 1\n- 2\n", "rules: 5\n", "rules:\n  - 5\n", "rules: [{name: [1]}]\n", "\t\u{0}", "rules:\n  - {name: a, on: [], deliver: []}\n", "a: &x [*x]\n"])
    func garbage(yaml: String) {
        #expect(!loadErrors(yaml).isEmpty)
    }
}
