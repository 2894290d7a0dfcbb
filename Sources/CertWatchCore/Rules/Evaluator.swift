import DouyinModels

/// Evaluates checked expressions over an event's JSON tree. Pure and total: no side effects, no
/// loops (the tree is finite and every step is structural), no traps (integer overflow and
/// operations on absent values yield an error value).
///
/// Errors follow CEL: an operation on an absent (`null`) value is an error, not `false`; `&&` and
/// `||` absorb errors when the other side decides (`false && error` is `false`, `true || error`
/// is `true`); a condition whose final value is not `true` does not match.
package struct Evaluator: Sendable {
    /// The routing time, Unix seconds (`now`).
    package var now: Int64
    /// Compiled `matches` patterns.
    package var regexes: [String: CompiledRegex]

    package init(now: Int64, regexes: [String: CompiledRegex] = [:]) {
        self.now = now
        self.regexes = regexes
    }

    /// Whether `condition` is `true` for `root`.
    package func matches(_ condition: Expression, _ root: JSONValue) -> Bool {
        evaluate(condition, root) == .bool(true)
    }

    /// The value of `e`, or `nil` for an error (absent operand, overflow, runtime type mismatch of `any` values).
    package func evaluate(_ e: Expression, _ root: JSONValue) -> JSONValue? {
        switch e.kind {
        case .int(let v), .duration(let v): return .int(v)
        case .string(let v): return .string(v)
        case .bool(let v): return .bool(v)
        case .null: return .null
        case .now: return .int(now)
        case .path(let path): return path.lookup(in: root)
        case .list(let elements):
            var values: [JSONValue] = []
            values.reserveCapacity(elements.count)
            for element in elements {
                guard let value = evaluate(element, root) else { return nil }
                values.append(value)
            }
            return .array(values)
        case .has(let argument):
            guard case .path(let path) = argument.kind else { return nil }
            return .bool(path.lookup(in: root) != .null)
        case .size(let argument):
            switch evaluate(argument, root) {
            case .string(let s): return .int(Int64(s.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            default: return nil
            }
        case .unary(.not, let operand):
            guard case .bool(let b) = evaluate(operand, root) else { return nil }
            return .bool(!b)
        case .unary(.negate, let operand):
            guard let v = Self.int(evaluate(operand, root)) else { return nil }
            let (result, overflow) = Int64(0).subtractingReportingOverflow(v)
            return overflow ? nil : .int(result)
        case .method(let method, let receiver, let argument):
            let r = evaluate(receiver, root)
            let a = evaluate(argument, root)
            if method == .contains, case .array(let elements) = r {
                guard let a else { return nil }
                return .bool(elements.contains { Self.equal($0, a) })
            }
            guard case .string(let s) = r, case .string(let x) = a else { return nil }
            switch method {
            case .startsWith: return .bool(s.hasPrefix(x))
            case .endsWith: return .bool(s.hasSuffix(x))
            case .contains: return .bool(x.isEmpty || s.contains(x))
            case .matches:
                guard let regex = regexes[x] else { return nil }
                return .bool(regex.matches(s))
            }
        case .binary(.and, let left, let right):
            let l = evaluate(left, root)
            if l == .bool(false) { return .bool(false) }
            let r = evaluate(right, root)
            if r == .bool(false) { return .bool(false) }
            return l == .bool(true) && r == .bool(true) ? .bool(true) : nil
        case .binary(.or, let left, let right):
            let l = evaluate(left, root)
            if l == .bool(true) { return .bool(true) }
            let r = evaluate(right, root)
            if r == .bool(true) { return .bool(true) }
            return l == .bool(false) && r == .bool(false) ? .bool(false) : nil
        case .binary(let op, let left, let right):
            guard let l = evaluate(left, root), let r = evaluate(right, root) else { return nil }
            switch op {
            case .equal: return .bool(Self.equal(l, r))
            case .notEqual: return .bool(!Self.equal(l, r))
            case .plus:
                if case .string(let a) = l, case .string(let b) = r { return .string(a + b) }
                guard let a = Self.int(l), let b = Self.int(r) else { return nil }
                let (sum, overflow) = a.addingReportingOverflow(b)
                return overflow ? nil : .int(sum)
            case .minus:
                guard let a = Self.int(l), let b = Self.int(r) else { return nil }
                let (difference, overflow) = a.subtractingReportingOverflow(b)
                return overflow ? nil : .int(difference)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                let order: Int
                if let a = Self.int(l), let b = Self.int(r) {
                    order = a < b ? -1 : (a == b ? 0 : 1)
                } else if case .string(let a) = l, case .string(let b) = r {
                    order = a < b ? -1 : (a == b ? 0 : 1)
                } else {
                    return nil
                }
                switch op {
                case .less: return .bool(order < 0)
                case .lessOrEqual: return .bool(order <= 0)
                case .greater: return .bool(order > 0)
                default: return .bool(order >= 0)
                }
            case .in:
                switch r {
                case .array(let elements): return .bool(elements.contains { Self.equal($0, l) })
                case .object(let members):
                    guard case .string(let key) = l else { return nil }
                    return .bool(members[key] != nil)
                default: return nil
                }
            case .and, .or: return nil  // handled above
            }
        }
    }

    static func int(_ value: JSONValue?) -> Int64? {
        switch value {
        case .int(let v): return v
        case .uint(let v): return Int64(exactly: v)
        default: return nil
        }
    }

    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = int(a), let y = int(b) { return x == y }
        return a == b
    }
}
