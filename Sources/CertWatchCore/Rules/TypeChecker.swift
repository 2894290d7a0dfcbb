import Foundation

/// The static type of an expression.
package indirect enum ExprType: Sendable, Hashable, CustomStringConvertible {
    case int, string, bool, null, any, object
    case list(ExprType)
    case map(ExprType)

    init(node: SchemaNode) {
        switch node {
        case .int: self = .int
        case .bool: self = .bool
        case .string: self = .string
        case .list(let element): self = .list(ExprType(node: element))
        case .map(let value): self = .map(ExprType(node: value))
        case .object: self = .object
        case .any: self = .any
        }
    }

    package var description: String {
        switch self {
        case .int: return "int"
        case .string: return "string"
        case .bool: return "bool"
        case .null: return "null"
        case .any: return "any"
        case .object: return "object"
        case .list(let element): return "list<\(element)>"
        case .map(let value): return "map<string, \(value)>"
        }
    }

    /// Whether values of the two types can be compared with `==` (`any` and `null` compare with anything).
    func isComparable(with other: ExprType) -> Bool {
        switch (self, other) {
        case (.any, _), (_, .any), (.null, _), (_, .null): return true
        case (.list(let a), .list(let b)): return a.isComparable(with: b)
        case (.map(let a), .map(let b)): return a.isComparable(with: b)
        default: return self == other
        }
    }
}

/// A regular expression compiled at load time (`s.matches("…")`).
package struct CompiledRegex: @unchecked Sendable {
    /// The pattern text.
    package let pattern: String
    // NSRegularExpression is immutable and documented thread-safe.
    let regex: NSRegularExpression

    init(_ pattern: String) throws {
        self.pattern = pattern
        regex = try NSRegularExpression(pattern: pattern)
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// Type-checks expressions against a schema (normally ``EventSchema/event``): unknown field paths,
/// operand types, values of enum-like fields (`type == "certificate.verifyed"`), comparisons of
/// never-null fields with `null`, and regular expressions. Collects every error.
package struct TypeChecker: Sendable {
    /// The schema paths resolve against.
    package var schema: SchemaNode

    package init(schema: SchemaNode = EventSchema.event) {
        self.schema = schema
    }

    /// What the checker knows about a subexpression.
    struct Typed {
        var type: ExprType
        var nullable = false
        var enumValues: [String]? = nil
        var pathText: String? = nil
    }

    /// The result of checking a `when` expression.
    package struct Checked: Sendable {
        /// The expression.
        package var expression: Expression
        /// Regexes of `matches` calls, by the pattern text.
        package var regexes: [String: CompiledRegex]
    }

    /// Checks that `expression` is a boolean condition; returns it with its compiled regexes, or every error.
    package func checkCondition(_ expression: Expression) -> Result<Checked, OffsetErrors> {
        var errors: [OffsetError] = []
        var regexes: [String: CompiledRegex] = [:]
        if let typed = type(of: expression, errors: &errors, regexes: &regexes), typed.type != .bool, typed.type != .any {
            errors.append(OffsetError(expression.range.lowerBound, "condition must be a bool, but this is \(typed.type)"))
        }
        return errors.isEmpty ? .success(Checked(expression: expression, regexes: regexes)) : .failure(OffsetErrors(errors))
    }

    /// Resolves a field path in the schema: its type, nullability and known values, or an error at the bad step.
    func resolve(_ path: FieldPath, at offset: Int) -> Result<Typed, OffsetError> {
        var node = schema
        var nullable = false
        var walked = ""
        var text = ""
        for (i, component) in path.components.enumerated() {
            let stepText = FieldPath([component]).description
            switch component {
            case .field(let name), .key(let name):
                text += i == 0 ? name : (component == .field(name) ? "." + name : stepText)
                switch node {
                case .object(let fields):
                    guard let field = fields[name] else {
                        let location = walked.isEmpty ? "in the event" : "in \(walked)"
                        return .failure(OffsetError(offset + text.unicodeScalars.count - name.unicodeScalars.count,
                            "unknown field \"\(name)\" \(location)" + Spelling.hint(for: name, among: fields.keys.sorted())))
                    }
                    node = field.node
                    nullable = nullable || field.nullable
                case .map(let value):
                    node = value
                    nullable = true  // a key may be missing
                case .any:
                    nullable = true
                default:
                    return .failure(OffsetError(offset, "\(walked) is \(ExprType(node: node)), it has no field \"\(name)\""))
                }
            case .index:
                text += stepText
                switch node {
                case .list(let element):
                    node = element
                    nullable = true  // the index may be out of range
                case .any: nullable = true
                default:
                    return .failure(OffsetError(offset, "\(walked) is \(ExprType(node: node)), it cannot be indexed"))
                }
            }
            walked = text
        }
        var enumValues: [String]?
        if case .string(let values) = node { enumValues = values }
        return .success(Typed(type: ExprType(node: node), nullable: nullable, enumValues: enumValues, pathText: text))
    }

    private func type(of e: Expression, errors: inout [OffsetError], regexes: inout [String: CompiledRegex]) -> Typed? {
        func fail(_ message: String, at node: Expression? = nil) -> Typed? {
            errors.append(OffsetError((node ?? e).range.lowerBound, message))
            return nil
        }
        func sub(_ x: Expression) -> Typed? { type(of: x, errors: &errors, regexes: &regexes) }

        switch e.kind {
        case .int, .duration, .now: return Typed(type: .int)
        case .string: return Typed(type: .string)
        case .bool: return Typed(type: .bool)
        case .null: return Typed(type: .null, nullable: true)
        case .list(let elements):
            var elementType: ExprType?
            var ok = true
            for element in elements {
                guard let t = sub(element) else { ok = false; continue }
                if t.type == .null { continue }
                if let existing = elementType, existing != t.type, existing != .any, t.type != .any {
                    ok = false
                    errors.append(OffsetError(element.range.lowerBound, "list elements must have one type: \(existing) and \(t.type)"))
                } else if elementType == nil || elementType == .any {
                    elementType = t.type
                }
            }
            return ok ? Typed(type: .list(elementType ?? .any)) : nil
        case .path(let path):
            switch resolve(path, at: e.range.lowerBound) {
            case .success(let typed): return typed
            case .failure(let error):
                errors.append(error)
                return nil
            }
        case .has(let argument):
            guard case .path(let path) = argument.kind else { return fail("has() takes a field path") }
            if case .failure(let error) = resolve(path, at: argument.range.lowerBound) {
                errors.append(error)
                return nil
            }
            return Typed(type: .bool)
        case .size(let argument):
            guard let t = sub(argument) else { return nil }
            switch t.type {
            case .string, .list, .map, .any: return Typed(type: .int, nullable: t.nullable)
            default: return fail("size() takes a string, list or map, not \(t.type)", at: argument)
            }
        case .unary(let op, let operand):
            guard let t = sub(operand) else { return nil }
            let wanted: ExprType = op == .not ? .bool : .int
            guard t.type == wanted || t.type == .any else {
                return fail("\(op.rawValue) needs \(wanted == .bool ? "a bool" : "an int"), but \(describe(operand, t)) is \(t.type)", at: operand)
            }
            return Typed(type: wanted, nullable: t.nullable)
        case .method(let method, let receiver, let argument):
            let r = sub(receiver)
            let a = sub(argument)
            guard let r, let a else { return nil }
            if method == .contains, case .list(let element) = r.type {
                guard element.isComparable(with: a.type) else {
                    return fail("\(describe(receiver, r)) holds \(element), it cannot contain \(a.type)", at: argument)
                }
                return Typed(type: .bool)
            }
            guard r.type == .string || r.type == .any else {
                return fail("\(method.rawValue)() needs a string\(method == .contains ? " or list" : ""), but \(describe(receiver, r)) is \(r.type)", at: receiver)
            }
            guard a.type == .string || a.type == .any else {
                return fail("\(method.rawValue)() takes a string argument, not \(a.type)", at: argument)
            }
            if method == .matches {
                guard case .string(let pattern) = argument.kind else {
                    return fail("matches() takes a string literal (the pattern is compiled when rules load)", at: argument)
                }
                do {
                    regexes[pattern] = try CompiledRegex(pattern)
                } catch {
                    return fail("invalid regular expression \(Expression.quote(pattern))", at: argument)
                }
            }
            return Typed(type: .bool)
        case .binary(let op, let left, let right):
            let l = sub(left)
            let r = sub(right)
            guard let l, let r else { return nil }
            switch op {
            case .and, .or:
                for (x, t) in [(left, l), (right, r)] where t.type != .bool && t.type != .any {
                    return fail("\(op.rawValue) needs bools, but \(describe(x, t)) is \(t.type)", at: x)
                }
                return Typed(type: .bool)
            case .plus, .minus:
                if op == .plus, l.type == .string, r.type == .string { return Typed(type: .string) }
                let okLeft = l.type == .int || l.type == .any
                let okRight = r.type == .int || r.type == .any
                guard okLeft, okRight else {
                    return fail("\(op.rawValue) needs two ints\(op == .plus ? " or two strings" : ""), but got \(l.type) and \(r.type)")
                }
                return Typed(type: .int, nullable: l.nullable || r.nullable)
            case .equal, .notEqual:
                guard l.type.isComparable(with: r.type) else {
                    return fail("cannot compare \(describe(left, l)) (\(l.type)) with \(describe(right, r)) (\(r.type))")
                }
                if l.type == .null, !r.nullable, r.type != .any { return fail("\(describe(right, r)) is never null", at: right) }
                if r.type == .null, !l.nullable, l.type != .any { return fail("\(describe(left, l)) is never null", at: left) }
                checkEnum(l, right, &errors)
                checkEnum(r, left, &errors)
                return Typed(type: .bool)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                let ordered: Set<ExprType> = [.int, .string, .any]
                guard ordered.contains(l.type), ordered.contains(r.type), l.type.isComparable(with: r.type) else {
                    return fail("\(op.rawValue) compares two ints or two strings, but got \(describe(left, l)) (\(l.type)) and \(describe(right, r)) (\(r.type))")
                }
                return Typed(type: .bool)
            case .in:
                switch r.type {
                case .list(let element):
                    guard element.isComparable(with: l.type) else {
                        return fail("\(describe(left, l)) is \(l.type), but the list holds \(element)")
                    }
                    if case .list(let elements) = right.kind {
                        for element in elements { checkEnum(l, element, &errors) }
                    }
                case .map:
                    guard l.type == .string || l.type == .any else {
                        return fail("map keys are strings, but \(describe(left, l)) is \(l.type)", at: left)
                    }
                case .any: break
                default:
                    return fail("in needs a list or a map on the right, but \(describe(right, r)) is \(r.type)", at: right)
                }
                return Typed(type: .bool)
            }
        }
    }

    /// `type == "certificate.verifyed"`: a literal that is not one of the field's known values.
    private func checkEnum(_ field: Typed, _ other: Expression, _ errors: inout [OffsetError]) {
        guard let values = field.enumValues, case .string(let literal) = other.kind, !values.contains(literal) else { return }
        errors.append(OffsetError(other.range.lowerBound,
            "\(field.pathText ?? "value") is never \(Expression.quote(literal))" + Spelling.hint(for: literal, among: values)
            + "; known values: " + values.joined(separator: ", ")))
    }

    private func describe(_ e: Expression, _ t: Typed) -> String {
        t.pathText ?? e.description
    }
}
