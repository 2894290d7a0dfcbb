import DouyinModels
import Foundation

/// The schemas templates are checked against.
public enum TemplateSchemas {
    /// A per-event body: the event envelope plus `rule` (the rule's name).
    package static let event: SchemaNode = {
        guard case .object(var fields) = EventSchema.event else { return EventSchema.event }
        fields["rule"] = SchemaField(.string)
        return .object(fields)
    }()

    /// A group summary body: `rule`, `group` (see ``GroupSummary``) and `events` (the listed events).
    package static let group: SchemaNode = .object([
        "rule": SchemaField(.string),
        "group": SchemaField(.object([
            "id": SchemaField(.string),
            "key": SchemaField(.string),
            "by": SchemaField(.list(.object(["field": SchemaField(.string), "value": SchemaField(.string)]))),
            "count": SchemaField(.int),
            "listed": SchemaField(.int),
            "truncated": SchemaField(.int),
            "is_truncated": SchemaField(.bool),
            "types": SchemaField(.list(.object(["type": SchemaField(.string(enumValues: EventType.allCases.map(\.rawValue))), "count": SchemaField(.int)]))),
            "pay_amount_total": SchemaField(.int),
            "first_time": SchemaField(.int),
            "last_time": SchemaField(.int),
            "message_number": SchemaField(.int),
        ])),
        "events": SchemaField(.list(EventSchema.event)),
    ])
}

/// What routing decided for one sink.
public struct RouteDecision: Sendable, Hashable {
    /// The sink to deliver to.
    public var sink: String
    /// The rule that decided; `nil` for the default route.
    public var rule: String?
    /// The rendered body, when the rule has a template (sinks use their default format otherwise).
    public var body: String?
    /// When set, the event joins this group instead of being delivered now: feed it to
    /// ``GroupingState/add(_:key:policy:sinks:now:)`` and deliver the summaries ``GroupingState/flush(now:)`` returns.
    package var group: GroupKey?

    package init(sink: String, rule: String?, body: String? = nil, group: GroupKey? = nil) {
        self.sink = sink
        self.rule = rule
        self.body = body
        self.group = group
    }
}

/// The full result of routing one event.
public struct RouteOutcome: Sendable, Hashable {
    /// Deliveries and group memberships, in rule order; at most one direct delivery per sink.
    public var decisions: [RouteDecision]
    /// Names of the rules that matched (including a dropping one).
    public var matchedRules: [String]
    /// The rule that dropped the event, if any.
    public var droppedBy: String?
    /// No rule matched: the event went to the default route (if any). Callers count these.
    public var unmatched: Bool
}

/// A loaded, checked set of rules: an immutable value a reloader can swap atomically.
///
/// Semantics: rules apply in file-name order, then file order; every matching rule applies; a
/// matching `drop: true` rule stops later rules; an event no rule matches goes to the default
/// route (`default: {deliver: [...]}` in a rule file; none by default) and is reported unmatched.
/// A sink gets at most one direct delivery per event (the first rule that names it wins).
public struct RuleSet: Sendable {
    /// The rules in order.
    public var rules: [Rule]
    /// Sinks of the default route.
    public var defaultSinks: [String]
    /// The files loaded, in order.
    public var files: [String]

    public init(rules: [Rule] = [], defaultSinks: [String] = [], files: [String] = []) {
        self.rules = rules
        self.defaultSinks = defaultSinks
        self.files = files
    }

    /// The rule files named by `paths`: files as given, directories as their `*.yaml`/`*.yml` files
    /// (not recursive), all in name order.
    public static func files(in paths: [String]) throws(RuleLoadErrors) -> [String] {
        var result: [String] = []
        var errors: [RuleDiagnostic] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                errors.append(RuleDiagnostic(SourcePosition(file: path, line: 1, column: 1), "no such file or directory"))
                continue
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                result += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                result.append(path)
            }
        }
        if !errors.isEmpty { throw RuleLoadErrors(errors) }
        return result
    }

    /// Loads and checks rule files (see ``files(in:)``). `knownSinks` nil skips the sink check.
    /// Throws every problem found, across all files.
    public static func load(
        paths: [String], knownSinks: Set<String>?, defaultTimeZone: TimeZone = RuleSet.shanghai
    ) throws(RuleLoadErrors) -> RuleSet {
        let files = try files(in: paths)
        var sources: [(String, String)] = []
        var errors: [RuleDiagnostic] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                errors.append(RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "cannot read file"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                errors.append(RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "not UTF-8 text"))
                continue
            }
            sources.append((file, text))
        }
        do {
            return try parse(sources: sources, knownSinks: knownSinks, defaultTimeZone: defaultTimeZone, priorErrors: errors)
        } catch {
            throw error
        }
    }

    /// Parses rule files from memory: `(file name, YAML text)` in order.
    public static func parse(
        sources: [(file: String, text: String)], knownSinks: Set<String>?, defaultTimeZone: TimeZone = RuleSet.shanghai,
        priorErrors: [RuleDiagnostic] = []
    ) throws(RuleLoadErrors) -> RuleSet {
        var errors = priorErrors
        var set = RuleSet()
        var seen: [String: SourcePosition] = [:]
        var defaultPosition: SourcePosition?
        for (file, text) in sources {
            var parser = RuleFileParser(file: file, text: text, knownSinks: knownSinks, defaultTimeZone: defaultTimeZone)
            parser.parse()
            errors += parser.diagnostics
            for rule in parser.rules {
                if let first = seen[rule.name], first.file != rule.position.file {
                    errors.append(RuleDiagnostic(rule.position, "duplicate rule name \"\(rule.name)\" (first at \(first))"))
                }
                seen[rule.name] = seen[rule.name] ?? rule.position
                set.rules.append(rule)
            }
            if let route = parser.defaultRoute {
                if let first = defaultPosition {
                    errors.append(RuleDiagnostic(route.position, "a default route is already set at \(first)"))
                }
                defaultPosition = route.position
                set.defaultSinks = route.sinks
            }
            set.files.append(file)
        }
        if !errors.isEmpty { throw RuleLoadErrors(errors) }
        return set
    }

    /// Asia/Shanghai, the default zone of templates.
    public static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!

    /// The rule named `name`.
    public func rule(named name: String) -> Rule? { rules.first { $0.name == name } }

    /// Where `event` goes at `now` (Unix seconds; the value of `now` in conditions).
    public func route(_ event: CertWatchEvent, now: Int64) -> [RouteDecision] {
        evaluate(event, now: now).decisions
    }

    /// Routes `event` and says which rules matched, whether it was dropped, and whether it was unmatched.
    public func evaluate(_ event: CertWatchEvent, now: Int64) -> RouteOutcome {
        var cachedTree: JSONValue?
        func tree() -> JSONValue {
            if let cachedTree { return cachedTree }
            let built = EventSchema.tree(of: event)
            cachedTree = built
            return built
        }
        var outcome = RouteOutcome(decisions: [], matchedRules: [], droppedBy: nil, unmatched: false)
        var directSinks: Set<String> = []
        for index in rules.indices where rules[index].matches(type: event.type, tree: tree(), now: now) {
            let rule = rules[index]
            outcome.matchedRules.append(rule.name)
            if rule.drop {
                outcome.droppedBy = rule.name
                break
            }
            if let policy = rule.group {
                let key = GroupKey(rule: rule.name, values: policy.by.map { GroupKey.text(of: FieldPath(dotted: $0).lookup(in: tree())) })
                for sink in rule.deliver {
                    outcome.decisions.append(RouteDecision(sink: sink, rule: rule.name, group: key))
                }
                continue
            }
            let body = rule.template.map { template -> String in
                var context = tree()
                if case .object(var members) = context {
                    members["rule"] = .string(rule.name)
                    context = .object(members)
                }
                return template.render(context)
            }
            for sink in rule.deliver where directSinks.insert(sink).inserted {
                outcome.decisions.append(RouteDecision(sink: sink, rule: rule.name, body: body))
            }
        }
        if outcome.matchedRules.isEmpty {
            outcome.unmatched = true
            outcome.decisions = defaultSinks.map { RouteDecision(sink: $0, rule: nil) }
        }
        return outcome
    }

    /// Adds `event` to the groups its decisions name (once per group key).
    package func group(_ event: CertWatchEvent, decisions: [RouteDecision], into state: inout GroupingState, now: Int64) {
        var done: Set<GroupKey> = []
        for decision in decisions {
            guard let key = decision.group, done.insert(key).inserted, let rule = rule(named: key.rule), let policy = rule.group else { continue }
            state.add(event, key: key, policy: policy, sinks: rule.deliver, now: now)
        }
    }

    /// The body of a group summary: the rule's template over the summary, or a plain-text summary.
    /// (If the rule is gone after a reload, the plain-text summary.)
    package func render(_ summary: GroupSummary) -> String {
        let context = summary.context()
        if let template = rule(named: summary.key.rule)?.template { return template.render(context) }
        return summary.plainText(timeZone: Self.shanghai)
    }
}
