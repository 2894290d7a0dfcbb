import DouyinModels
import Foundation
import Mustache

/// A Mustache body template (swift-mustache), checked against a schema when loaded and rendered
/// over an event (or a group summary).
///
/// Helpers are written as transforms: `{{yuan(data.certificate.amount.pay_amount)}}` (fen → `99.00`,
/// exact integer arithmetic), `{{local_time(timeunix)}}` / `{{local_date(timeunix)}}` (in the rule's
/// time zone, default Asia/Shanghai), `{{mask(data.certificate.code)}}`, `{{mask_phone(…)}}`,
/// `{{mask_name(…)}}`, `{{uppercased(…)}}`, `{{lowercased(…)}}`, `{{json(…)}}` (an object or scalar as JSON
/// text), and for lists `count`, `empty`, `first`, `last`.
///
/// Output is not HTML-escaped (chat and webhook bodies are not HTML). A template may start with
/// `{{% CONTENT_TYPE: JSON}}` to escape values for a JSON string context, or `HTML`.
public struct RuleTemplate: Sendable {
    /// The template text.
    public let text: String
    /// Where it came from (a file, or the rule file for inline `body:`).
    public let file: String
    /// The zone of `local_time` and `local_date`.
    public let timeZone: TimeZone
    let template: MustacheTemplate

    /// Helper transforms and the types they take and give.
    static let helpers: [String: (input: String, output: SchemaNode)] = [
        "yuan": ("int", .string), "local_time": ("int", .string), "local_date": ("int", .string),
        "mask": ("string", .string), "mask_phone": ("string", .string), "mask_name": ("string", .string),
        "uppercased": ("string", .string), "lowercased": ("string", .string), "json": ("any", .string),
        "count": ("list", .int), "empty": ("list", .bool), "first": ("list", .any), "last": ("list", .any),
    ]

    static let contentTypesRegistered: Bool = {
        MustacheContentTypes.register(JSONStringContentType(), named: "JSON")
        return true
    }()

    /// Checks `text` against `schema` and compiles it; throws every problem with its offset in `text`.
    package init(text: String, file: String, schema: SchemaNode, timeZone: TimeZone) throws(OffsetErrors) {
        _ = Self.contentTypesRegistered
        let problems = TemplateChecker(schema: schema).check(text)
        guard problems.isEmpty else { throw OffsetErrors(problems) }
        let prefixed = text.contains("{{%") ? text : "{{% CONTENT_TYPE: TEXT}}" + text
        do {
            template = try MustacheTemplate(string: prefixed)
        } catch let error as MustacheTemplate.ParserError {
            throw OffsetErrors([OffsetError(0, "template does not parse: \(error.error) (line \(error.context.lineNumber), column \(error.context.columnNumber))")])
        } catch {
            throw OffsetErrors([OffsetError(0, "template does not parse: \(error)")])
        }
        self.text = text
        self.file = file
        self.timeZone = timeZone
    }

    /// Renders over a JSON context (an event tree with `rule` added, or a group summary tree).
    public func render(_ context: JSONValue) -> String {
        template.render(TemplateNode(value: context, timeZone: timeZone))
    }

    /// `9900` → `99.00`, `-5` → `-0.05`: fen to yuan with exact integer arithmetic.
    public static func yuan(_ fen: Int64) -> String {
        let negative = fen < 0
        let magnitude = fen.magnitude
        let cents = magnitude % 100
        return (negative ? "-" : "") + "\(magnitude / 100)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    /// `2024-12-14 17:38:02` in `zone`.
    public static func localTime(_ seconds: Int64, zone: TimeZone, dateOnly: Bool = false) -> String {
        guard seconds > -62_135_596_800, seconds < 253_402_300_800 else { return String(seconds) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func two(_ v: Int?) -> String { let v = v ?? 0; return v < 10 ? "0\(v)" : "\(v)" }
        let date = "\(c.year ?? 0)-\(two(c.month))-\(two(c.day))"
        return dateOnly ? date : date + " \(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }

    /// Keeps the first and last quarter of the characters (at most 4 each) and masks the rest.
    public static func mask(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count > 2 else { return String(repeating: "*", count: characters.count) }
        let keep = min(4, characters.count / 4)
        return String(characters.prefix(keep)) + String(repeating: "*", count: characters.count - 2 * keep)
            + String(characters.suffix(keep))
    }
}

/// Escapes values for the inside of a JSON string.
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        let quoted = Expression.quote(text)
        return String(quoted.dropFirst().dropLast())
    }
}

/// A JSON value as a Mustache context: objects are parents, lists are sequences, `null` is absent.
struct TemplateNode: MustacheParent, MustacheTransformable, MustacheCustomRenderable {
    let value: JSONValue
    let timeZone: TimeZone

    static func wrap(_ value: JSONValue, _ zone: TimeZone) -> Any? {
        switch value {
        case .null: return nil
        case .bool(let b): return b
        case .array(let elements): return elements.map { TemplateNode(value: $0, timeZone: zone) }
        default: return TemplateNode(value: value, timeZone: zone)
        }
    }

    func child(named name: String) -> Any? {
        guard case .object(let members) = value, let member = members[name] else { return nil }
        return Self.wrap(member, timeZone)
    }

    var renderText: String {
        switch value {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .int(let v): return String(v)
        case .uint(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let s): return s
        case .array, .object: return String(decoding: value.encoded(), as: UTF8.self)
        }
    }

    var isNull: Bool { value == .null }

    func transform(_ name: String) -> Any? {
        switch (name, value) {
        case ("yuan", .int(let fen)): return RuleTemplate.yuan(fen)
        case ("local_time", .int(let t)): return RuleTemplate.localTime(t, zone: timeZone)
        case ("local_date", .int(let t)): return RuleTemplate.localTime(t, zone: timeZone, dateOnly: true)
        case ("mask", .string(let s)): return RuleTemplate.mask(s)
        case ("mask_phone", .string(let s)): return Masking.phone(s)
        case ("mask_name", .string(let s)): return Masking.name(s)
        case ("uppercased", .string(let s)): return s.uppercased()
        case ("lowercased", .string(let s)): return s.lowercased()
        case ("json", _): return String(decoding: value.encoded(), as: UTF8.self)
        default: return nil
        }
    }
}

/// Statically checks the tags of a Mustache template against a schema: every name must resolve
/// (through the section stack, like Mustache lookup), helpers must exist and get the right type.
struct TemplateChecker {
    let schema: SchemaNode

    func check(_ text: String) -> [OffsetError] {
        let s = Array(text.unicodeScalars)
        var errors: [OffsetError] = []
        var stack: [SchemaNode] = [schema]
        var sections: [(name: String, offset: Int)] = []
        var i = 0
        func starts(_ p: String, at k: Int) -> Bool {
            let ps = Array(p.unicodeScalars)
            return k + ps.count <= s.count && Array(s[k..<(k + ps.count)]) == ps
        }
        while i < s.count {
            guard starts("{{", at: i) else { i += 1; continue }
            let open = i
            let triple = starts("{{{", at: i)
            let close = triple ? "}}}" : "}}"
            var j = i + (triple ? 3 : 2)
            while j < s.count, !starts(close, at: j) { j += 1 }
            guard j < s.count else {
                errors.append(OffsetError(open, "unclosed tag (missing \(close))"))
                break
            }
            var body = String(String.UnicodeScalarView(s[(i + (triple ? 3 : 2))..<j]))
            i = j + close.count
            var sigil: Character = " "
            if !triple, let first = body.first, "#^/&!>=%$<".contains(first) {
                sigil = first
                body.removeFirst()
            }
            let name = body.trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "!", "%": continue
            case ">", "<", "$": errors.append(OffsetError(open, "partials and blocks are not supported in certwatch templates")); continue
            case "=": errors.append(OffsetError(open, "changing delimiters is not supported in certwatch templates")); continue
            case "/":
                guard let last = sections.popLast() else {
                    errors.append(OffsetError(open, "closing tag {{/\(name)}} without an open section"))
                    continue
                }
                if last.name != name {
                    errors.append(OffsetError(open, "closing tag {{/\(name)}} does not match {{#\(last.name)}}"))
                }
                if stack.count > 1 { stack.removeLast() }
                continue
            default: break
            }
            let shown = "{{" + (sigil == " " ? "" : String(sigil)) + name + "}}"
            let resolved = resolve(name, shown: shown, stack: stack, at: open, errors: &errors)
            if sigil == "#" || sigil == "^" {
                sections.append((name, open))
                var pushed = resolved ?? .any
                if sigil == "#", case .list(let element) = pushed { pushed = element }
                stack.append(sigil == "#" ? pushed : stack.last!)
            }
        }
        for section in sections {
            errors.append(OffsetError(section.offset, "section {{#\(section.name)}} is never closed"))
        }
        return errors
    }

    /// The schema node of a tag name (with transforms), or nil after recording an error.
    func resolve(_ tag: String, shown: String, stack: [SchemaNode], at offset: Int, errors: inout [OffsetError]) -> SchemaNode? {
        var transforms: [String] = []
        var name = Substring(tag)
        while let paren = name.firstIndex(of: "(") {
            guard name.hasSuffix(")") else {
                errors.append(OffsetError(offset, "malformed helper call \(shown)"))
                return nil
            }
            transforms.append(String(name[..<paren]).trimmingCharacters(in: .whitespaces))
            name = name[name.index(after: paren)..<name.index(before: name.endIndex)]
        }
        let path = name.trimmingCharacters(in: .whitespaces)
        guard !path.isEmpty else {
            errors.append(OffsetError(offset, "empty tag"))
            return nil
        }
        var node: SchemaNode
        if path == "." {
            node = stack.last!
        } else {
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard let first = parts.first, !first.isEmpty || parts.count > 1 else { return nil }
            var found: SchemaNode?
            var start = 0
            if first.isEmpty {
                found = stack.last
                start = 1
            } else {
                for frame in stack.reversed() {
                    if let child = member(first, of: frame) { found = child; start = 1; break }
                }
            }
            guard var current = found else {
                let candidates = stack.flatMap { frame -> [String] in
                    if case .object(let fields) = frame { return Array(fields.keys) }
                    return []
                }
                errors.append(OffsetError(offset, "unknown field \"\(first)\" in \(shown)" + Spelling.hint(for: first, among: candidates)))
                return nil
            }
            var walked = first
            for part in parts[start...] {
                guard let child = member(part, of: current) else {
                    var candidates: [String] = []
                    if case .object(let fields) = current { candidates = Array(fields.keys) }
                    errors.append(OffsetError(offset, "unknown field \"\(part)\" in \(walked) of \(shown)" + Spelling.hint(for: part, among: candidates)))
                    return nil
                }
                current = child
                walked += "." + part
            }
            node = current
        }
        for transform in transforms.reversed() {
            guard let helper = RuleTemplate.helpers[transform] else {
                errors.append(OffsetError(offset, "unknown helper \"\(transform)\" in \(shown)" + Spelling.hint(for: transform, among: RuleTemplate.helpers.keys)
                    + "; helpers are " + RuleTemplate.helpers.keys.sorted().joined(separator: ", ")))
                return nil
            }
            let ok: Bool
            switch (helper.input, node) {
            case ("any", .list): ok = false  // lists render as Mustache sequences
            case ("any", _), (_, .any): ok = true
            case ("int", .int), ("string", .string), ("list", .list): ok = true
            default: ok = false
            }
            guard ok else {
                errors.append(OffsetError(offset, "\(transform)() takes \(["int": "an int", "any": "an object or scalar"][helper.input] ?? "a " + helper.input), but \(path) is \(ExprType(node: node)) in \(shown)"))
                return nil
            }
            if transform == "first" || transform == "last", case .list(let element) = node {
                node = element
            } else {
                node = helper.output
            }
        }
        return node
    }

    func member(_ name: String, of node: SchemaNode) -> SchemaNode? {
        switch node {
        case .object(let fields): return fields[name]?.node
        case .map(let value): return value
        case .any: return .any
        default: return nil
        }
    }
}
