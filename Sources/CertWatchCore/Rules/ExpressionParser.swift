/// Parses `when` expressions. Hand-written recursive descent (precedence climbing) rather than
/// swift-parsing: the grammar is tiny, and a hand-written parser gives exact error offsets and
/// specific messages ("expected `)`", "comparisons do not chain") that map to file:line:col.
///
/// Offsets count Unicode scalars, like libyaml's columns.
package struct ExpressionParser {
    enum Token: Equatable {
        case int(Int64), string(String), duration(Int64), ident(String), punct(String), end
    }

    struct Lexeme {
        var token: Token
        var range: Range<Int>
    }

    static let keywords: Set<String> = ["true", "false", "null", "now", "in", "has", "size", "duration"]
    static let maxDepth = 64
    /// Bounds the tree's depth (left-deep chains like `a || b || …`), so recursive checking and
    /// evaluation stay shallow on any thread.
    static let maxOperators = 256
    static let maxLength = 10_000

    private var lexemes: [Lexeme] = []
    private var index = 0
    private var depth = 0
    private var operators = 0

    /// Parses `text`; throws an ``OffsetError`` at the first problem.
    package static func parse(_ text: String) throws(OffsetError) -> Expression {
        guard text.unicodeScalars.count <= maxLength else { throw OffsetError(0, "expression longer than \(maxLength) characters") }
        var parser = ExpressionParser()
        parser.lexemes = try lex(Array(text.unicodeScalars))
        let expression = try parser.parseOr()
        if parser.current.token != .end {
            throw OffsetError(parser.current.range.lowerBound, "unexpected \(describe(parser.current.token)) after a complete expression")
        }
        return expression
    }

    // MARK: Lexer

    static func lex(_ s: [Unicode.Scalar]) throws(OffsetError) -> [Lexeme] {
        var out: [Lexeme] = []
        var i = 0
        func isIdentStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
        func isIdent(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || ("0"..."9").contains(c) }
        while i < s.count {
            let c = s[i]
            let start = i
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                i += 1
                continue
            }
            if ("0"..."9").contains(c) {
                while i < s.count, ("0"..."9").contains(s[i]) { i += 1 }
                if i < s.count, isIdentStart(s[i]) {
                    while i < s.count, isIdent(s[i]) { i += 1 }
                    let text = String(String.UnicodeScalarView(s[start..<i]))
                    guard let seconds = DurationText.seconds(text) else {
                        throw OffsetError(start, "invalid number or duration \"\(text)\" (durations look like 30s, 5m, 2h, 1d, 1h30m)")
                    }
                    out.append(Lexeme(token: .duration(seconds), range: start..<i))
                } else {
                    let text = String(String.UnicodeScalarView(s[start..<i]))
                    guard let value = Int64(text) else { throw OffsetError(start, "integer \(text) is out of range") }
                    out.append(Lexeme(token: .int(value), range: start..<i))
                }
                continue
            }
            if isIdentStart(c) {
                while i < s.count, isIdent(s[i]) { i += 1 }
                out.append(Lexeme(token: .ident(String(String.UnicodeScalarView(s[start..<i]))), range: start..<i))
                continue
            }
            if c == "\"" || c == "'" {
                let quote = c
                i += 1
                var value = String.UnicodeScalarView()
                while true {
                    guard i < s.count else { throw OffsetError(start, "unterminated string") }
                    let d = s[i]
                    if d == quote { i += 1; break }
                    if d == "\n" { throw OffsetError(start, "unterminated string") }
                    if d == "\\" {
                        guard i + 1 < s.count else { throw OffsetError(i, "unterminated string") }
                        let e = s[i + 1]
                        switch e {
                        case "\"", "'", "\\", "/": value.append(e)
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        case "u":
                            guard i + 5 < s.count,
                                let code = UInt32(String(String.UnicodeScalarView(s[(i + 2)...(i + 5)])), radix: 16),
                                let scalar = Unicode.Scalar(code)
                            else { throw OffsetError(i, "invalid \\u escape (expected 4 hex digits)") }
                            value.append(scalar)
                            i += 4
                        default: throw OffsetError(i, "unknown escape \\\(e)")
                        }
                        i += 2
                        continue
                    }
                    value.append(d)
                    i += 1
                }
                out.append(Lexeme(token: .string(String(value)), range: start..<i))
                continue
            }
            let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                out.append(Lexeme(token: .punct(two), range: start..<(i + 2)))
                i += 2
                continue
            }
            if "()[],.!<>+-".unicodeScalars.contains(c) {
                out.append(Lexeme(token: .punct(String(c)), range: start..<(i + 1)))
                i += 1
                continue
            }
            if c == "=" { throw OffsetError(start, "unexpected \"=\" (use == to compare)") }
            if c == "&" || c == "|" { throw OffsetError(start, "unexpected \"\(c)\" (use && or ||)") }
            throw OffsetError(start, "unexpected character \"\(c)\"")
        }
        out.append(Lexeme(token: .end, range: s.count..<s.count))
        return out
    }

    static func describe(_ token: Token) -> String {
        switch token {
        case .int(let v): return "number \(v)"
        case .string(let v): return "string \(Expression.quote(v))"
        case .duration(let v): return "duration \(DurationText.format(v))"
        case .ident(let v): return "\"\(v)\""
        case .punct(let v): return "\"\(v)\""
        case .end: return "end of expression"
        }
    }

    // MARK: Parser

    private var current: Lexeme { lexemes[index] }

    private mutating func advance() -> Lexeme {
        let lexeme = lexemes[index]
        if index < lexemes.count - 1 { index += 1 }
        return lexeme
    }

    private func isPunct(_ p: String) -> Bool { current.token == .punct(p) }

    private mutating func expect(_ p: String, _ context: String) throws(OffsetError) -> Lexeme {
        guard isPunct(p) else {
            throw OffsetError(current.range.lowerBound, "expected \"\(p)\" \(context), found \(Self.describe(current.token))")
        }
        return advance()
    }

    private mutating func countOperator() throws(OffsetError) {
        operators += 1
        if operators > Self.maxOperators {
            throw OffsetError(current.range.lowerBound, "expression has more than \(Self.maxOperators) operators; split the rule")
        }
    }

    private mutating func nest() throws(OffsetError) {
        depth += 1
        if depth > Self.maxDepth { throw OffsetError(current.range.lowerBound, "expression nested too deeply") }
    }

    private static func binary(_ op: Expression.BinaryOperator, _ l: Expression, _ r: Expression) -> Expression {
        Expression(.binary(op, l, r), range: l.range.lowerBound..<r.range.upperBound)
    }

    mutating func parseOr() throws(OffsetError) -> Expression {
        try nest()
        defer { depth -= 1 }
        var left = try parseAnd()
        while isPunct("||") {
            try countOperator()
            _ = advance()
            left = Self.binary(.or, left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws(OffsetError) -> Expression {
        var left = try parseComparison()
        while isPunct("&&") {
            try countOperator()
            _ = advance()
            left = Self.binary(.and, left, try parseComparison())
        }
        return left
    }

    private func comparisonOperator() -> Expression.BinaryOperator? {
        switch current.token {
        case .punct(let p): return Expression.BinaryOperator(rawValue: p).flatMap { $0.isComparison ? $0 : nil }
        case .ident("in"): return .in
        default: return nil
        }
    }

    mutating func parseComparison() throws(OffsetError) -> Expression {
        let left = try parseAdditive()
        guard let op = comparisonOperator() else { return left }
        try countOperator()
        _ = advance()
        let right = try parseAdditive()
        if comparisonOperator() != nil {
            throw OffsetError(current.range.lowerBound, "comparisons do not chain; use && or parentheses")
        }
        return Self.binary(op, left, right)
    }

    mutating func parseAdditive() throws(OffsetError) -> Expression {
        var left = try parseUnary()
        while isPunct("+") || isPunct("-") {
            let op: Expression.BinaryOperator = isPunct("+") ? .plus : .minus
            try countOperator()
            _ = advance()
            left = Self.binary(op, left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary() throws(OffsetError) -> Expression {
        if isPunct("!") || isPunct("-") {
            try countOperator()
            let start = advance()
            try nest()
            defer { depth -= 1 }
            let operand = try parseUnary()
            let op: Expression.UnaryOperator = start.token == .punct("!") ? .not : .negate
            return Expression(.unary(op, operand), range: start.range.lowerBound..<operand.range.upperBound)
        }
        return try parsePostfix()
    }

    mutating func parsePostfix() throws(OffsetError) -> Expression {
        var expression = try parsePrimary()
        while true {
            if isPunct(".") {
                _ = advance()
                guard case .ident(let name) = current.token else {
                    throw OffsetError(current.range.lowerBound, "expected a field or method name after \".\", found \(Self.describe(current.token))")
                }
                let nameLexeme = advance()
                if isPunct("(") {
                    try countOperator()
                    guard let method = Expression.Method(rawValue: name) else {
                        let known = Expression.Method.allCases.map(\.rawValue)
                        throw OffsetError(nameLexeme.range.lowerBound, "unknown method \"\(name)\"" + Spelling.hint(for: name, among: known) + "; methods are " + known.joined(separator: ", "))
                    }
                    _ = advance()
                    let argument = try parseOr()
                    let close = try expect(")", "to close the arguments of \(name)")
                    expression = Expression(.method(method, expression, argument), range: expression.range.lowerBound..<close.range.upperBound)
                    continue
                }
                guard case .path(var path) = expression.kind else {
                    throw OffsetError(nameLexeme.range.lowerBound, "\".\(name)\" can only follow a field path")
                }
                path.components.append(.field(name))
                expression = Expression(.path(path), range: expression.range.lowerBound..<nameLexeme.range.upperBound)
            } else if isPunct("[") {
                let open = advance()
                guard case .path(var path) = expression.kind else {
                    throw OffsetError(open.range.lowerBound, "\"[\" can only follow a field path")
                }
                switch current.token {
                case .int(let value): path.components.append(.index(Int(clamping: value)))
                case .string(let key): path.components.append(.key(key))
                default:
                    throw OffsetError(current.range.lowerBound, "expected a list index (number) or a key (string) inside [ ], found \(Self.describe(current.token))")
                }
                _ = advance()
                let close = try expect("]", "to close the index")
                expression = Expression(.path(path), range: expression.range.lowerBound..<close.range.upperBound)
            } else {
                return expression
            }
        }
    }

    mutating func parsePrimary() throws(OffsetError) -> Expression {
        let lexeme = current
        let start = lexeme.range.lowerBound
        switch lexeme.token {
        case .int(let value):
            _ = advance()
            return Expression(.int(value), range: lexeme.range)
        case .string(let value):
            _ = advance()
            return Expression(.string(value), range: lexeme.range)
        case .duration(let value):
            _ = advance()
            return Expression(.duration(value), range: lexeme.range)
        case .punct("("):
            _ = advance()
            try nest()
            defer { depth -= 1 }
            var inner = try parseOr()
            let close = try expect(")", "to close \"(\"")
            inner.range = start..<close.range.upperBound
            return inner
        case .punct("["):
            _ = advance()
            try nest()
            defer { depth -= 1 }
            var elements: [Expression] = []
            if !isPunct("]") {
                elements.append(try parseOr())
                while isPunct(",") {
                    _ = advance()
                    elements.append(try parseOr())
                }
            }
            let close = try expect("]", "to close the list")
            return Expression(.list(elements), range: start..<close.range.upperBound)
        case .ident(let name):
            _ = advance()
            switch name {
            case "true", "false": return Expression(.bool(name == "true"), range: lexeme.range)
            case "null": return Expression(.null, range: lexeme.range)
            case "now": return Expression(.now, range: lexeme.range)
            case "has", "size", "duration":
                _ = try expect("(", "after \(name)")
                let argument = try parseOr()
                let close = try expect(")", "to close \(name)(")
                let range = start..<close.range.upperBound
                switch name {
                case "has":
                    guard case .path = argument.kind else {
                        throw OffsetError(argument.range.lowerBound, "has() takes a field path, like has(data.verification.poi_id)")
                    }
                    return Expression(.has(argument), range: range)
                case "size": return Expression(.size(argument), range: range)
                default:
                    guard case .string(let text) = argument.kind else {
                        throw OffsetError(argument.range.lowerBound, "duration() takes a string literal, like duration(\"1h30m\")")
                    }
                    guard let seconds = DurationText.seconds(text) else {
                        throw OffsetError(argument.range.lowerBound, "invalid duration \"\(text)\" (durations look like 30s, 5m, 2h, 1d, 1h30m)")
                    }
                    return Expression(.duration(seconds), range: range)
                }
            case "in":
                throw OffsetError(start, "expected a value before \"in\"")
            default:
                if isPunct("(") {
                    throw OffsetError(start, "unknown function \"\(name)\"" + Spelling.hint(for: name, among: ["has", "size", "duration"]) + "; functions are has, size, duration; string methods are written s.startsWith(x)")
                }
                return Expression(.path(FieldPath([.field(name)])), range: lexeme.range)
            }
        case .end:
            throw OffsetError(start, "unexpected end of expression")
        case .punct(let p):
            throw OffsetError(start, "unexpected \"\(p)\"")
        }
    }
}
