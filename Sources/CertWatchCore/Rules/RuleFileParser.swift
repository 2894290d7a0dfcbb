import DouyinModels
import Foundation
import Yams

/// Parses one rule file (YAML, through Yams' node API for positions) into checked rules,
/// collecting every problem as `file:line:col: message`.
struct RuleFileParser {
    let file: String
    let text: String
    let knownSinks: Set<String>?
    let defaultTimeZone: TimeZone
    var diagnostics: [RuleDiagnostic] = []
    var rules: [Rule] = []
    var defaultRoute: (sinks: [String], position: SourcePosition)?
    private let lines: [[Unicode.Scalar]]

    static let topKeys = ["rules", "default", "time_zone"]
    static let ruleKeys = ["name", "description", "on", "when", "deliver", "drop", "template", "body", "group", "time_zone"]
    static let groupKeys = ["by", "wait", "interval", "max"]
    static let defaultKeys = ["deliver"]

    init(file: String, text: String, knownSinks: Set<String>?, defaultTimeZone: TimeZone) {
        self.file = file
        self.text = text
        self.knownSinks = knownSinks
        self.defaultTimeZone = defaultTimeZone
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
    }

    func position(_ node: Node?) -> SourcePosition {
        let mark = node?.mark
        return SourcePosition(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func error(_ node: Node?, _ message: String) {
        diagnostics.append(RuleDiagnostic(position(node), message))
    }

    /// The file position of character `offset` inside a scalar's value.
    func position(inScalar node: Node, offset: Int) -> SourcePosition {
        let base = position(node)
        guard case .scalar(let scalar) = node else { return base }
        let value = Array(scalar.string.unicodeScalars)
        let clamped = min(max(offset, 0), value.count)
        let valueLines = scalar.string.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        var lineIndex = 0
        var column = clamped
        for (k, valueLine) in valueLines.enumerated() {
            if column <= valueLine.count { lineIndex = k; break }
            column -= valueLine.count + 1
            lineIndex = k + 1
        }
        switch scalar.style {
        case .plain, .singleQuoted, .doubleQuoted, .any:
            if valueLines.count == 1 {
                let quote = scalar.style == .singleQuoted || scalar.style == .doubleQuoted ? 1 : 0
                return SourcePosition(file: file, line: base.line, column: base.column + quote + clamped)
            }
        default: break
        }
        // Multi-line (block) scalars: find the value line in the source at or after the mark.
        guard lineIndex < valueLines.count else { return base }
        let needle = valueLines[lineIndex]
        var sourceLine = base.line - 1 + lineIndex
        while sourceLine < lines.count {
            if let start = Self.find(needle, in: lines[sourceLine]), needle.count > 0 || lines[sourceLine].isEmpty {
                return SourcePosition(file: file, line: sourceLine + 1, column: start + column + 1)
            }
            sourceLine += 1
        }
        return base
    }

    static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        if needle.isEmpty { return 0 }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<(start + needle.count)]) == needle {
            return start
        }
        return nil
    }

    // MARK: Parsing

    mutating func parse() {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let yamlError as YamlError {
            diagnostics.append(Self.diagnostic(of: yamlError, file: file))
            return
        } catch {
            diagnostics.append(RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "not YAML: \(error)"))
            return
        }
        guard let root else {
            diagnostics.append(RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "empty rule file (expected a mapping with \"rules:\")"))
            return
        }
        guard let top = mapping(root, "a rule file", keys: Self.topKeys) else { return }
        var fileZone = defaultTimeZone
        if let zoneNode = top["time_zone"], let zone = timeZone(zoneNode) { fileZone = zone }
        if let defaultNode = top["default"], let defaultMap = mapping(defaultNode, "the default route", keys: Self.defaultKeys) {
            let sinks = defaultMap["deliver"].map { sinkList($0) } ?? []
            defaultRoute = (sinks, position(defaultNode))
        }
        guard let rulesNode = top["rules"] else {
            if top["default"] == nil { error(root, "missing \"rules:\"") }
            return
        }
        guard case .sequence(let sequence) = rulesNode else {
            error(rulesNode, "\"rules\" must be a list of rules")
            return
        }
        var seen: [String: SourcePosition] = [:]
        for ruleNode in sequence {
            guard let rule = parseRule(ruleNode, zone: fileZone) else { continue }
            if let first = seen[rule.name] {
                diagnostics.append(RuleDiagnostic(rule.position, "duplicate rule name \"\(rule.name)\" (first at \(first))"))
            }
            seen[rule.name] = rule.position
            rules.append(rule)
        }
    }

    static func diagnostic(of error: YamlError, file: String) -> RuleDiagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let message = "invalid YAML: " + problem + (context.map { " (\($0.text))" } ?? "")
            return RuleDiagnostic(SourcePosition(file: file, line: mark.line, column: mark.column), message)
        case .reader(let problem, _, _, _):
            return RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return RuleDiagnostic(SourcePosition(file: file, line: context.mark.line, column: context.mark.column),
                "duplicate keys: " + duplicates.joined(separator: ", "))
        default:
            return RuleDiagnostic(SourcePosition(file: file, line: 1, column: 1), "invalid YAML: \(error)")
        }
    }

    /// A mapping's members by key; unknown keys and duplicates are errors.
    mutating func mapping(_ node: Node, _ what: String, keys: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            error(node, "\(what) must be a mapping")
            return nil
        }
        var members: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                error(key, "keys must be strings")
                continue
            }
            guard keys.contains(name) else {
                error(key, "unknown key \"\(name)\" in \(what)" + Spelling.hint(for: name, among: keys) + "; allowed: " + keys.joined(separator: ", "))
                continue
            }
            if members[name] != nil {
                error(key, "duplicate key \"\(name)\"")
                continue
            }
            members[name] = value
        }
        return members
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node, node.null == nil || scalar.style != .plain else {
            error(node, "\(what) must be a string")
            return nil
        }
        return scalar.string
    }

    /// A string or a list of strings, with their nodes.
    mutating func stringList(_ node: Node, _ what: String) -> [(String, Node)] {
        switch node {
        case .scalar:
            return string(node, what).map { [($0, node)] } ?? []
        case .sequence(let sequence):
            return sequence.compactMap { item in string(item, "each entry of \(what)").map { ($0, item) } }
        default:
            error(node, "\(what) must be a string or a list of strings")
            return []
        }
    }

    mutating func sinkList(_ node: Node) -> [String] {
        let entries = stringList(node, "deliver")
        if entries.isEmpty, case .sequence = node { error(node, "deliver is empty (name at least one sink, or use drop: true)") }
        for (name, item) in entries where knownSinks.map({ !$0.contains(name) }) ?? false {
            error(item, "unknown sink \"\(name)\"" + Spelling.hint(for: name, among: knownSinks ?? []) + "; configured sinks: "
                + (knownSinks ?? []).sorted().joined(separator: ", "))
        }
        return entries.map(\.0)
    }

    mutating func timeZone(_ node: Node) -> TimeZone? {
        guard let name = string(node, "time_zone") else { return nil }
        guard let zone = TimeZone(identifier: name) else {
            error(node, "unknown time zone \"\(name)\" (use an IANA name like Asia/Shanghai)")
            return nil
        }
        return zone
    }

    mutating func duration(_ node: Node, _ what: String) -> Int64? {
        guard let text = string(node, what) else { return nil }
        guard let seconds = DurationText.seconds(text), seconds >= 0 else {
            error(node, "\(what) must be a duration like 30s, 5m, 1h (got \"\(text)\")")
            return nil
        }
        return seconds
    }

    mutating func parseRule(_ node: Node, zone fileZone: TimeZone) -> Rule? {
        let start = diagnostics.count
        guard let members = mapping(node, "a rule", keys: Self.ruleKeys) else { return nil }
        var name = ""
        if let nameNode = members["name"] {
            name = string(nameNode, "name") ?? ""
            if name.isEmpty { error(nameNode, "name must not be empty") }
        } else {
            error(node, "rule without \"name\"")
        }
        var patterns: [EventPattern] = []
        if let onNode = members["on"] {
            let entries = stringList(onNode, "on")
            if entries.isEmpty { error(onNode, "on must name at least one event type (or \"*\")") }
            for (text, item) in entries {
                if let pattern = EventPattern(text) {
                    patterns.append(pattern)
                } else {
                    let known = EventType.allCases.map(\.rawValue) + ["certificate.*", "watch.*", "*"]
                    error(item, "unknown event type \"\(text)\"" + Spelling.hint(for: text, among: known) + "; known: " + EventType.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
        } else {
            error(node, "rule \"\(name)\" has no \"on\" (use on: [\"*\"] for every event)")
        }
        var condition: Expression?
        var conditionText: String?
        var regexes: [String: CompiledRegex] = [:]
        if let whenNode = members["when"], let text = string(whenNode, "when") {
            conditionText = text
            do {
                let expression = try ExpressionParser.parse(text)
                switch TypeChecker().checkCondition(expression) {
                case .success(let checked):
                    condition = checked.expression
                    regexes = checked.regexes
                case .failure(let errors):
                    for e in errors.errors { diagnostics.append(RuleDiagnostic(position(inScalar: whenNode, offset: e.offset), e.message)) }
                }
            } catch {
                diagnostics.append(RuleDiagnostic(position(inScalar: whenNode, offset: error.offset), error.message))
            }
        }
        var drop = false
        if let dropNode = members["drop"] {
            if let value = dropNode.bool { drop = value } else { error(dropNode, "drop must be true or false") }
        }
        let deliver = members["deliver"].map { sinkList($0) } ?? []
        if drop, let deliverNode = members["deliver"] { error(deliverNode, "a rule cannot both drop and deliver") }
        if !drop, members["deliver"] == nil { error(node, "rule \"\(name)\" needs \"deliver: [sinks]\" or \"drop: true\"") }
        var ruleZone = fileZone
        if let zoneNode = members["time_zone"], let zone = timeZone(zoneNode) { ruleZone = zone }

        var group: GroupPolicy?
        if let groupNode = members["group"] {
            if drop { error(groupNode, "a dropping rule cannot group") }
            if let g = mapping(groupNode, "group", keys: Self.groupKeys) {
                var policy = GroupPolicy()
                if let byNode = g["by"] {
                    for (path, item) in stringList(byNode, "group.by") {
                        checkGroupPath(path, item)
                        policy.by.append(path)
                    }
                }
                if let n = g["wait"], let v = duration(n, "group.wait") { policy.wait = v }
                if let n = g["interval"], let v = duration(n, "group.interval") {
                    policy.interval = v
                    if v == 0 { error(n, "group.interval must be more than 0s") }
                }
                if let n = g["max"] {
                    if let v = n.int, v >= 1 { policy.max = v } else { error(n, "group.max must be a whole number of at least 1") }
                }
                group = policy
            }
        }

        var template: RuleTemplate?
        let schema = group == nil ? TemplateSchemas.event : TemplateSchemas.group
        if members["template"] != nil, members["body"] != nil { error(members["body"], "use either template: (a file) or body: (inline), not both") }
        if let templateNode = members["template"], let path = string(templateNode, "template") {
            if drop { error(templateNode, "a dropping rule has no body") }
            let resolved = Self.resolve(path, relativeTo: file)
            if let data = FileManager.default.contents(atPath: resolved), let text = String(data: data, encoding: .utf8) {
                do {
                    template = try RuleTemplate(text: text, file: resolved, schema: schema, timeZone: ruleZone)
                } catch {
                    let templateLines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
                    for e in error.errors {
                        let (line, column) = Self.lineColumn(of: e.offset, in: templateLines)
                        diagnostics.append(RuleDiagnostic(SourcePosition(file: resolved, line: line, column: column), e.message))
                    }
                    self.error(templateNode, "template \(path) has errors")
                }
            } else {
                error(templateNode, "cannot read template \(path) (looked at \(resolved))")
            }
        }
        if let bodyNode = members["body"], let text = string(bodyNode, "body") {
            if drop { error(bodyNode, "a dropping rule has no body") }
            do {
                template = try RuleTemplate(text: text, file: file, schema: schema, timeZone: ruleZone)
            } catch {
                for e in error.errors { diagnostics.append(RuleDiagnostic(position(inScalar: bodyNode, offset: e.offset), e.message)) }
            }
        }
        guard diagnostics.count == start else { return nil }
        return Rule(
            name: name, on: patterns, condition: condition, conditionText: conditionText, regexes: regexes, deliver: deliver,
            drop: drop, template: template, group: group, position: position(node))
    }

    mutating func checkGroupPath(_ path: String, _ node: Node) {
        do {
            let expression = try ExpressionParser.parse(path)
            guard case .path(let fieldPath) = expression.kind else {
                error(node, "group.by entries are field paths, like data.watch.labels.store")
                return
            }
            switch TypeChecker().resolve(fieldPath, at: 0) {
            case .success(let typed):
                if ![.string, .int, .bool, .any].contains(typed.type) {
                    error(node, "group.by \(path) is \(typed.type); group by a string, int or bool field")
                }
            case .failure(let e): diagnostics.append(RuleDiagnostic(position(inScalar: node, offset: e.offset), e.message))
            }
        } catch {
            diagnostics.append(RuleDiagnostic(position(inScalar: node, offset: error.offset), error.message))
        }
    }

    static func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }

    static func lineColumn(of offset: Int, in lines: [[Unicode.Scalar]]) -> (Int, Int) {
        var rest = offset
        for (index, line) in lines.enumerated() {
            if rest <= line.count { return (index + 1, rest + 1) }
            rest -= line.count + 1
        }
        return (max(lines.count, 1), 1)
    }
}
