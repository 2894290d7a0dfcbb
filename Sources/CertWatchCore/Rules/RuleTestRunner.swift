import DouyinModels
import Foundation
import Yams

/// Runs rule unit tests (`certwatch rules test`), like `promtool test rules`: given input events
/// (inline, or saved Douyin responses run through the differ), expected deliveries per sink.
///
/// ```yaml
/// rule_files: [../examples/erp-webhook.yaml]
/// sinks: [erp]                      # optional: check sink names
/// tests:
///   - name: big verification goes to the ERP
///     events:
///       - type: certificate.verified          # merged over a complete sample event
///         at: 10s                             # offset from the test start (default 0s)
///         data: {certificate: {amount: {pay_amount: 12000}}}
///     expect:
///       erp:
///         - {type: certificate.verified, body: "..."}   # id, type, rule, body, group, count: each optional
///     unmatched: 0                            # optional
/// ```
package struct RuleTestRunner {
    /// The result of one test.
    package struct Outcome: Sendable {
        /// The test's name.
        package var name: String
        /// Where the test starts.
        package var position: SourcePosition
        /// Readable expected-vs-got lines; empty when the test passed.
        package var failures: [String]
        /// Whether it passed.
        package var passed: Bool { failures.isEmpty }
    }

    /// One delivery a test observed.
    package struct Delivery: Sendable, Hashable {
        package var sink: String
        package var rule: String?
        /// The event id, or the summary id for group summaries.
        package var id: String
        /// The event type, or `group` for a summary.
        package var type: String
        package var body: String?
        /// The group key text for summaries.
        package var group: String?
        /// Events in a summary.
        package var count: Int?
        /// When it was decided (test clock).
        package var at: Int64
    }

    /// Default test start: 2024-12-14T09:38:20Z.
    package static let defaultStart: Int64 = 1_734_169_100

    let file: String
    let text: String

    /// Runs every test of a test file; throws the file's load problems (its own and its rule files').
    package static func run(file: String) throws(RuleLoadErrors) -> [Outcome] {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw RuleLoadErrors([RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "cannot read file")])
        }
        return try RuleTestRunner(file: file, text: text).run()
    }

    func pos(_ node: Node?) -> SourcePosition {
        SourcePosition(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1)
    }

    func fail(_ node: Node?, _ message: String) -> RuleLoadErrors {
        RuleLoadErrors([RuleDiagnostic(pos(node), message)])
    }

    func run() throws(RuleLoadErrors) -> [Outcome] {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else { throw fail(nil, "empty test file") }
            root = composed
        } catch let error as YamlError {
            throw RuleLoadErrors([RuleFileParser.diagnostic(of: error, file: file)])
        } catch let error as RuleLoadErrors {
            throw error
        } catch {
            throw fail(nil, "invalid YAML: \(error)")
        }
        let top = try members(root, "a test file", ["rule_files", "sinks", "time_zone", "tests"])
        guard let ruleFilesNode = top["rule_files"] else { throw fail(root, "missing \"rule_files:\"") }
        let ruleFiles = try strings(ruleFilesNode, "rule_files").map { RuleFileParser.resolve($0, relativeTo: file) }
        var sinks: Set<String>?
        if let sinksNode = top["sinks"] { sinks = Set(try strings(sinksNode, "sinks")) }
        var zone = RuleSet.shanghai
        if let zoneNode = top["time_zone"] {
            guard let name = zoneNode.string, let z = TimeZone(identifier: name) else { throw fail(zoneNode, "unknown time zone") }
            zone = z
        }
        let ruleSet = try RuleSet.load(paths: ruleFiles, knownSinks: sinks, defaultTimeZone: zone)
        guard let testsNode = top["tests"], case .sequence(let tests) = testsNode else {
            throw fail(top["tests"] ?? root, "\"tests\" must be a list of tests")
        }
        var outcomes: [Outcome] = []
        for test in tests {
            outcomes.append(try runTest(test, ruleSet: ruleSet))
        }
        return outcomes
    }

    // MARK: One test

    func runTest(_ node: Node, ruleSet: RuleSet) throws(RuleLoadErrors) -> Outcome {
        let m = try members(node, "a test", ["name", "start", "events", "responses", "run_for", "expect", "unmatched"])
        let name = m["name"]?.string ?? "test at line \(pos(node).line)"
        var start = Self.defaultStart
        if let startNode = m["start"] { start = try time(startNode) }
        var inputs: [(event: CertWatchEvent, at: Int64)] = []
        if let eventsNode = m["events"] {
            guard case .sequence(let events) = eventsNode else { throw fail(eventsNode, "\"events\" must be a list") }
            for (index, eventNode) in events.enumerated() {
                inputs.append(try inlineEvent(eventNode, index: index, start: start))
            }
        }
        if let responsesNode = m["responses"] { inputs += try responseEvents(responsesNode, start: start) }
        var runFor: Int64?
        if let n = m["run_for"] {
            guard let text = n.string, let seconds = DurationText.seconds(text) else { throw fail(n, "run_for must be a duration") }
            runFor = seconds
        }
        let (got, unmatched) = Self.simulate(inputs, ruleSet: ruleSet, runFor: runFor)

        var failures: [String] = []
        let expectNode = m["expect"]
        var expected: [String: [(Node, [String: Node])]] = [:]
        if let expectNode {
            let sinks = try members(expectNode, "expect", nil)
            for (sink, listNode) in sinks {
                guard case .sequence(let items) = listNode else {
                    if listNode.null != nil { expected[sink] = []; continue }
                    throw fail(listNode, "expected deliveries of \(sink) must be a list (use [] for none)")
                }
                expected[sink] = try items.map { item throws(RuleLoadErrors) in
                    (item, try members(item, "an expected delivery", ["id", "type", "rule", "body", "group", "count"]))
                }
            }
        } else {
            throw fail(node, "test \"\(name)\" has no \"expect:\"")
        }
        let gotBySink = Dictionary(grouping: got, by: \.sink)
        for sink in Set(expected.keys).union(gotBySink.keys).sorted() {
            let want = expected[sink] ?? []
            let have = gotBySink[sink] ?? []
            var lines: [String] = []
            for i in 0..<max(want.count, have.count) {
                if i >= want.count {
                    lines.append("    unexpected delivery #\(i + 1): \(Self.describe(have[i]))")
                    continue
                }
                let (itemNode, fields) = want[i]
                guard i < have.count else {
                    lines.append("    missing delivery #\(i + 1) (\(pos(itemNode))): expected \(Self.describe(fields))")
                    continue
                }
                let d = have[i]
                for key in ["id", "type", "rule", "group", "count", "body"] {
                    guard let wantNode = fields[key] else { continue }
                    let wantText = wantNode.string ?? ""
                    let haveText: String
                    switch key {
                    case "id": haveText = d.id
                    case "type": haveText = d.type
                    case "rule": haveText = d.rule ?? "(default route)"
                    case "group": haveText = d.group ?? "(not a group summary)"
                    case "count": haveText = d.count.map(String.init) ?? "(not a group summary)"
                    default: haveText = d.body ?? "(no body)"
                    }
                    if key == "body" {
                        if Self.normalize(wantText) != Self.normalize(haveText) {
                            lines.append("    delivery #\(i + 1) body differs (\(pos(wantNode))):")
                            lines += Self.diff(expected: wantText, got: haveText).map { "      " + $0 }
                        }
                    } else if wantText != haveText {
                        lines.append("    delivery #\(i + 1) \(key): expected \(wantText), got \(haveText) (\(pos(wantNode)))")
                    }
                }
            }
            if !lines.isEmpty {
                failures.append("  sink \(sink): expected \(want.count) deliver\(want.count == 1 ? "y" : "ies"), got \(have.count)")
                failures += lines
            }
        }
        if let unmatchedNode = m["unmatched"] {
            guard let want = unmatchedNode.int else { throw fail(unmatchedNode, "unmatched must be a number") }
            if want != unmatched { failures.append("  unmatched events: expected \(want), got \(unmatched) (\(pos(unmatchedNode)))") }
        }
        return Outcome(name: name, position: pos(node), failures: failures)
    }

    /// Routes inputs in time order, driving grouping with the test clock; returns deliveries and the unmatched count.
    package static func simulate(
        _ inputs: [(event: CertWatchEvent, at: Int64)], ruleSet: RuleSet, runFor: Int64? = nil
    ) -> (deliveries: [Delivery], unmatched: Int) {
        var state = GroupingState()
        var deliveries: [Delivery] = []
        var unmatched = 0
        func flush(through time: Int64) {
            var guardCount = 0
            while let due = state.nextDue(), due <= time, guardCount < 100_000 {
                guardCount += 1
                for summary in state.flush(now: due) {
                    let body = ruleSet.render(summary)
                    for sink in summary.sinks {
                        deliveries.append(Delivery(
                            sink: sink, rule: summary.key.rule, id: summary.id, type: "group", body: body,
                            group: summary.key.values.joined(separator: ", "), count: summary.count, at: due))
                    }
                }
            }
        }
        let ordered = inputs.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        for (event, at) in ordered {
            flush(through: at)
            let outcome = ruleSet.evaluate(event, now: at)
            if outcome.unmatched { unmatched += 1 }
            for decision in outcome.decisions where decision.group == nil {
                deliveries.append(Delivery(
                    sink: decision.sink, rule: decision.rule, id: event.id, type: event.type.rawValue, body: decision.body, at: at))
            }
            ruleSet.group(event, decisions: outcome.decisions, into: &state, now: at)
        }
        let last = ordered.last?.at ?? defaultStart
        flush(through: runFor.map { last + $0 } ?? Int64.max)
        return (deliveries, unmatched)
    }

    // MARK: Inputs

    func inlineEvent(_ node: Node, index: Int, start: Int64) throws(RuleLoadErrors) -> (CertWatchEvent, Int64) {
        guard case .mapping = node else { throw fail(node, "an event must be a mapping (a partial CloudEvents envelope)") }
        var partial = Self.json(of: node)
        var at = start
        if case .object(var members) = partial, let atNode = node["at"] {
            at = start + (try offset(atNode))
            members["at"] = nil
            partial = .object(members)
        }
        var typeName = EventType.verified.rawValue
        if let typeNode = node["type"] {
            guard let text = typeNode.string, EventType(rawValue: text) != nil else {
                throw fail(typeNode, "unknown event type \(typeNode.string ?? "")" + Spelling.hint(for: typeNode.string ?? "", among: EventType.allCases.map(\.rawValue)))
            }
            typeName = text
        }
        let type = EventType(rawValue: typeName)!
        var base = EventSchema.tree(of: Self.baseEvent(type: type, time: at))
        if node["time"] != nil, case .object(var members) = base {
            members["timeunix"] = nil
            base = .object(members)
        }
        var merged = Self.overlay(base, partial)
        if node["id"] == nil, case .object(var members) = merged {
            let subject = members["subject"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
            members["id"] = .string(CertWatchEvent.eventID(subject: subject, type: type, discriminator: "test-\(index)"))
            merged = .object(members)
        }
        do {
            let event = try DouyinJSON.decode(CertWatchEvent.self, from: merged)
            return (event, at)
        } catch {
            throw fail(node, "not a valid event: \(error)")
        }
    }

    /// A realistic event of `type` at `time`: the complete sample, without the parts that type does not carry.
    package static func baseEvent(type: EventType, time: Int64) -> CertWatchEvent {
        var event = EventSchema.sampleEvent(type: type)
        event.time = time
        event.sequence = nil
        if type != .watchFailed { event.data.error = nil }
        if type != .expiringSoon { event.data.leadTime = nil }
        if ![.verified, .verifyCancelled, .cancelWindowClosed, .timesCardUsed].contains(type) { event.data.verification = nil }
        if type != .timesCardUsed { event.data.use = nil }
        if type != .statusChanged { event.data.changes = [] }
        if type == .watchFailed {
            event.data.certificate = nil
            event.subject = event.data.watch.id
        }
        return event
    }

    func responseEvents(_ node: Node, start: Int64) throws(RuleLoadErrors) -> [(CertWatchEvent, Int64)] {
        let m = try members(node, "responses", ["watch", "files", "expiring_lead_times"])
        guard let watchNode = m["watch"] else { throw fail(node, "responses need a \"watch:\" (id, order_id, labels)") }
        let watch: WatchInfo
        do {
            watch = try DouyinJSON.decode(WatchInfo.self, from: Self.json(of: watchNode))
        } catch {
            throw fail(watchNode, "not a valid watch: \(error)")
        }
        var differ = Differ()
        if let leadNode = m["expiring_lead_times"] {
            differ.expiringLeadTimes = try strings(leadNode, "expiring_lead_times").compactMap(DurationText.seconds)
        }
        guard let filesNode = m["files"], case .sequence(let files) = filesNode else {
            throw fail(m["files"] ?? node, "responses.files must be a list of {file, at}")
        }
        var previous: [String: CertificateSnapshot] = [:]
        var result: [(CertWatchEvent, Int64)] = []
        for (index, entry) in files.enumerated() {
            let e = try members(entry, "a response", ["file", "at"])
            guard let pathNode = e["file"], let path = pathNode.string else { throw fail(entry, "a response needs \"file:\"") }
            var at = start + Int64(index) * 60
            if let atNode = e["at"] { at = start + (try offset(atNode)) }
            let resolved = RuleFileParser.resolve(path, relativeTo: file)
            guard let body = FileManager.default.contents(atPath: resolved) else { throw fail(pathNode, "cannot read \(resolved)") }
            let certificates: [Certificate]
            do {
                certificates = try CertificateQueryResponse.decode(body).mergedCertificates()
            } catch {
                throw fail(pathNode, "cannot decode \(path): \(error)")
            }
            for certificate in certificates {
                let snapshot = differ.carried(
                    CertificateSnapshot(certificate, observedAt: at), from: previous[certificate.certificateID.value])
                for transition in differ.transitions(from: previous[snapshot.certificateID], to: snapshot, now: at) {
                    result.append((CertWatchEvent(transition: transition, snapshot: snapshot, watch: watch, time: at), at))
                }
                previous[snapshot.certificateID] = snapshot
            }
        }
        return result
    }

    // MARK: Helpers

    func members(_ node: Node, _ what: String, _ keys: [String]?) throws(RuleLoadErrors) -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw fail(node, "\(what) must be a mapping") }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, "keys must be strings") }
            if let keys, !keys.contains(name) {
                throw fail(key, "unknown key \"\(name)\" in \(what)" + Spelling.hint(for: name, among: keys) + "; allowed: " + keys.joined(separator: ", "))
            }
            result[name] = value
        }
        return result
    }

    func strings(_ node: Node, _ what: String) throws(RuleLoadErrors) -> [String] {
        if case .scalar = node, let s = node.string { return [s] }
        guard case .sequence(let items) = node else { throw fail(node, "\(what) must be a list of strings") }
        var result: [String] = []
        for item in items {
            guard let s = item.string else { throw fail(item, "\(what) entries must be strings") }
            result.append(s)
        }
        return result
    }

    func offset(_ node: Node) throws(RuleLoadErrors) -> Int64 {
        guard let text = node.string, let seconds = DurationText.seconds(text) else {
            throw fail(node, "expected an offset duration like 0s, 30s, 5m")
        }
        return seconds
    }

    func time(_ node: Node) throws(RuleLoadErrors) -> Int64 {
        if let text = node.string {
            if let unix = Int64(text) { return unix }
            if let parsed = UnixTime.parse(rfc3339: text) { return parsed }
        }
        throw fail(node, "expected an RFC 3339 time or Unix seconds")
    }

    /// YAML to JSON: plain scalars resolve to null, bool, int; everything else is a string.
    static func json(of node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain || scalar.style == .any {
                if node.null != nil { return .null }
                if let b = node.bool { return .bool(b) }
                if let i = Int64(scalar.string) { return .int(i) }
            }
            return .string(scalar.string)
        case .sequence(let items): return .array(items.map(json(of:)))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? ""] = json(of: value) }
            return .object(members)
        case .alias: return .null
        }
    }

    /// `patch` over `base`: objects merge recursively, `null` removes, other values replace.
    static func overlay(_ base: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(var members) = base, case .object(let patches) = patch else { return patch }
        for (key, value) in patches {
            if value == .null {
                members[key] = nil
            } else {
                members[key] = overlay(members[key] ?? .null, value)
            }
        }
        return .object(members)
    }

    static func normalize(_ body: String) -> String {
        body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A line diff: `- expected`, `+ got`, `  same`.
    static func diff(expected: String, got: String) -> [String] {
        let a = normalize(expected).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = normalize(got).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Longest common subsequence, small inputs.
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var lines: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                lines.append("  " + a[i]); i += 1; j += 1
            } else if j < b.count, i == a.count || table[i][j + 1] >= table[i + 1][j] {
                lines.append("+ " + b[j]); j += 1
            } else {
                lines.append("- " + a[i]); i += 1
            }
        }
        return lines
    }

    static func describe(_ d: Delivery) -> String {
        var parts = ["type: \(d.type)", "id: \(d.id)", "rule: \(d.rule ?? "(default route)")"]
        if let group = d.group { parts.append("group: \(group)") }
        if let count = d.count { parts.append("count: \(count)") }
        if let body = d.body { parts.append("body: \(Expression.quote(body))") }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    static func describe(_ fields: [String: Node]) -> String {
        "{" + fields.keys.sorted().map { "\($0): \(fields[$0]?.string ?? "…")" }.joined(separator: ", ") + "}"
    }
}
