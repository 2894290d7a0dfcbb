import DouyinModels

/// A parsed `when` expression: a tree of ``Expression/Kind`` nodes, each with its character range
/// in the source text (for error positions). Equality and hashing ignore ranges, so a printed and
/// re-parsed expression equals the original.
package struct Expression: Sendable, Hashable, CustomStringConvertible {
    /// The node.
    package var kind: Kind
    /// Character offsets of the node in the text it was parsed from.
    package var range: Range<Int>

    package init(_ kind: Kind, range: Range<Int> = 0..<0) {
        self.kind = kind
        self.range = range
    }

    package static func == (lhs: Expression, rhs: Expression) -> Bool { lhs.kind == rhs.kind }
    package func hash(into hasher: inout Hasher) { hasher.combine(kind) }

    /// The node kinds.
    package indirect enum Kind: Sendable, Hashable {
        /// `42`
        case int(Int64)
        /// `"text"`
        case string(String)
        /// `true`, `false`
        case bool(Bool)
        /// `null`
        case null
        /// `1h30m` or `duration("1h30m")`: seconds.
        case duration(Int64)
        /// `[a, b]`
        case list([Expression])
        /// `data.watch.labels["store-id"]`, `data.certificate.verifications[0].poi_id`
        case path(FieldPath)
        /// `now`: the routing time, Unix seconds.
        case now
        /// `!x`, `-x`
        case unary(UnaryOperator, Expression)
        /// `a && b`, `a == b`, `a in b`, `a + b`, …
        case binary(BinaryOperator, Expression, Expression)
        /// `has(path)`
        case has(Expression)
        /// `size(x)`
        case size(Expression)
        /// `s.startsWith(x)`, `s.endsWith(x)`, `s.contains(x)`, `s.matches("re")`
        case method(Method, Expression, Expression)
    }

    /// Unary operators.
    package enum UnaryOperator: String, Sendable, Hashable, CaseIterable {
        case not = "!"
        case negate = "-"
    }

    /// Binary operators, loosest first: `||`, `&&`, comparisons and `in`, `+ -`.
    package enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
        case or = "||"
        case and = "&&"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case `in` = "in"
        case plus = "+"
        case minus = "-"

        /// Binding strength: higher binds tighter.
        package var precedence: Int {
            switch self {
            case .or: return 1
            case .and: return 2
            case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual, .in: return 3
            case .plus, .minus: return 4
            }
        }

        /// Comparisons do not chain (`a < b < c` is an error).
        var isComparison: Bool { precedence == 3 }
    }

    /// String (and list) methods.
    package enum Method: String, Sendable, Hashable, CaseIterable {
        case startsWith, endsWith, contains, matches
    }

    static let unaryPrecedence = 5
    static let postfixPrecedence = 6

    var precedence: Int {
        switch kind {
        case .binary(let op, _, _): return op.precedence
        case .unary: return Self.unaryPrecedence
        default: return Self.postfixPrecedence
        }
    }

    /// Canonical text with the fewest parentheses; parsing it yields an equal expression.
    package var description: String {
        switch kind {
        case .int(let value): return String(value)
        case .string(let value): return Self.quote(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .duration(let seconds):
            return seconds >= 0 ? DurationText.format(seconds) : "duration(\(Self.quote(String(seconds))))"
        case .list(let elements): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .path(let path): return path.description
        case .now: return "now"
        case .unary(let op, let operand):
            let inner = operand.precedence >= Self.unaryPrecedence ? operand.description : "(\(operand))"
            // `- -1` and `--1` differ only in spacing; keep a space so `-` never touches a `-`.
            if op == .negate, inner.hasPrefix("-") { return "- " + inner }
            return op.rawValue + inner
        case .binary(let op, let left, let right):
            let leftNeedsParens = op.isComparison ? left.precedence <= op.precedence : left.precedence < op.precedence
            let rightNeedsParens = right.precedence <= op.precedence
            let l = leftNeedsParens ? "(\(left))" : left.description
            let r = rightNeedsParens ? "(\(right))" : right.description
            return "\(l) \(op.rawValue) \(r)"
        case .has(let path): return "has(\(path))"
        case .size(let operand): return "size(\(operand))"
        case .method(let method, let receiver, let argument):
            let r = receiver.precedence >= Self.postfixPrecedence ? receiver.description : "(\(receiver))"
            return "\(r).\(method.rawValue)(\(argument))"
        }
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// A path into the event's JSON: `data.watch.labels.store`, `data.watch.labels["store-id"]`,
/// `data.certificate.verifications[0].poi_id`.
package struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    package enum Component: Sendable, Hashable {
        /// `.name`
        case field(String)
        /// `["key"]`: a member or map key that is not an identifier.
        case key(String)
        /// `[0]`: a list element.
        case index(Int)
    }

    /// The steps; the first is always a ``Component/field(_:)``.
    package var components: [Component]

    package init(_ components: [Component]) {
        self.components = components
    }

    /// Parses the dotted form (`data.watch.labels.store`); no brackets.
    package init(dotted: String) {
        components = dotted.split(separator: ".", omittingEmptySubsequences: false).map { .field(String($0)) }
    }

    package var description: String {
        var text = ""
        for (i, component) in components.enumerated() {
            switch component {
            case .field(let name):
                if i > 0 { text += "." }
                text += name
            case .key(let key): text += "[" + Expression.quote(key) + "]"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// The value at this path in `root`; `.null` when any step is missing.
    package func lookup(in root: JSONValue) -> JSONValue {
        var current = root
        for component in components {
            switch component {
            case .field(let name), .key(let name):
                guard case .object(let members) = current, let next = members[name] else { return .null }
                current = next
            case .index(let index):
                guard case .array(let elements) = current, elements.indices.contains(index) else { return .null }
                current = elements[index]
            }
        }
        return current
    }
}
