import CertWatchCore
import DouyinModels
import Testing

@Suite("Expression parser, printer, checker and evaluator")
struct ExpressionTests {
    let event = EventSchema.tree(of: EventSchema.sampleEvent())

    func parse(_ text: String) throws -> Expression {
        do { return try ExpressionParser.parse(text) } catch { throw error }
    }

    func eval(_ text: String, now: Int64 = 1_734_169_100) throws -> JSONValue? {
        let expression = try parse(text)
        let checked = try TypeChecker().checkCondition(expression).get()
        return Evaluator(now: now, regexes: checked.regexes).evaluate(expression, event)
    }

    func checkErrors(_ text: String) throws -> [OffsetError] {
        let expression = try parse(text)
        switch TypeChecker().checkCondition(expression) {
        case .success: return []
        case .failure(let errors): return errors.errors
        }
    }

    func parseError(_ text: String) -> OffsetError? {
        do {
            _ = try ExpressionParser.parse(text)
            return nil
        } catch { return error }
    }

    @Test("the direct tree encoder matches the JSON text encoding", arguments: EventType.allCases)
    func treeEncoder(type: EventType) {
        var sample = EventSchema.sampleEvent(type: type)
        sample.data.certificate?.sku?.productID = DouyinID(number: 18_446_744_073_709_551_615)
        #expect(EventSchema.tree(of: sample) == EventSchema.textTree(of: sample))
        let sparse = RuleTestRunner.baseEvent(type: type, time: -1)
        #expect(EventSchema.tree(of: sparse) == EventSchema.textTree(of: sparse))
    }

    @Test("precedence: || < && < comparison < + - < unary < postfix")
    func precedence() throws {
        #expect(try parse("a || b && c").description == "a || b && c")
        #expect(try parse("(a || b) && c").description == "(a || b) && c")
        guard case .binary(.or, _, let right) = try parse("a || b && c").kind else { Issue.record("not ||"); return }
        guard case .binary(.and, _, _) = right.kind else { Issue.record("not &&"); return }
        guard case .binary(.equal, let l, _) = try parse("1 + 2 - 3 == x").kind,
            case .binary(.minus, let ll, _) = l.kind, case .binary(.plus, _, _) = ll.kind
        else { Issue.record("+ - are left-associative and bind tighter than =="); return }
        guard case .unary(.not, let inner) = try parse("!a.b.startsWith(\"x\")").kind,
            case .method(.startsWith, _, _) = inner.kind
        else { Issue.record("postfix binds tighter than !"); return }
        #expect(try parse("-(1 + 2)").description == "-(1 + 2)")
        #expect(try parse("a - (b - c)").description == "a - (b - c)")
        #expect(try parse("(a - b) - c").description == "a - b - c")
    }

    @Test("every operator evaluates", arguments: [
        ("1 == 1", true), ("1 != 2", true), ("1 < 2", true), ("2 <= 2", true), ("3 > 2", true), ("2 >= 3", false),
        ("\"a\" < \"b\"", true), ("true && false", false), ("true || false", true), ("!false", true),
        ("2 in [1, 2, 3]", true), ("\"x\" in [\"a\"]", false), ("1 + 2 == 3", true), ("5 - 7 == -2", true),
        ("\"ab\" + \"c\" == \"abc\"", true), ("1h == 3600", true), ("1h30m == 5400", true),
        ("duration(\"2d\") == 172800", true), ("now == 1734169100", true),
        ("has(data.verification.poi_id)", true), ("has(data.watch.labels.nope)", false),
        ("\"store\" in data.watch.labels", true), ("size(\"abc\") == 3", true),
        ("size(data.certificate.verifications) == 1", true),
        ("subject.startsWith(\"7301\")", true), ("subject.endsWith(\"456\")", true),
        ("data.certificate.sku.title.contains(\"套餐\")", true), ("data.watch.labels.store.matches(\"^sh-[0-9]+$\")", true),
        ("data.certificate.amount.pay_amount >= 9900", true), ("data.watch.labels.store == \"sh-01\"", true),
        ("type == \"certificate.verified\"", true), ("data.certificate.verifications[0].can_cancel", true),
        ("data.watch.labels[\"store\"] == \"sh-01\"", true), ("data.certificate.expire_time - now > 1d", true),
        ("data.certificate.times_card.times_used < data.certificate.times_card.times_count", true),
        ("data.certificate.state in [\"verified\", \"expired\"]", true), ("data.certificate.code != null", true),
    ])
    func operators(text: String, expected: Bool) throws {
        #expect(try eval(text) == .bool(expected), "\(text)")
    }

    @Test("absent values are errors that && and || absorb")
    func absent() throws {
        #expect(try eval("data.watch.labels.env == \"test\"") == .bool(false))
        #expect(try eval("data.watch.labels.missing.startsWith(\"x\")") == nil)
        #expect(try eval("false && data.watch.labels.missing.startsWith(\"x\")") == .bool(false))
        #expect(try eval("true || data.watch.labels.missing.startsWith(\"x\")") == .bool(true))
        #expect(try eval("data.certificate.verifications[5].poi_id == null") == .bool(true))
        #expect(try eval("9223372036854775807 + 1 > 0") == nil)
    }

    @Test("parse errors point at the offending character", arguments: [
        ("a ==", 4, "unexpected end"), ("(a == 1", 7, "expected \")\""), ("a = 1", 2, "use =="),
        ("a & b", 2, "use &&"), ("1 < 2 < 3", 6, "do not chain"), ("\"abc", 0, "unterminated"),
        ("3x == 1", 0, "invalid number"), ("a.startWith(\"x\")", 2, "did you mean \"startsWith\""),
        ("lower(a)", 0, "unknown function"), ("has(1)", 4, "field path"), ("[1, 2", 5, "expected \"]\""),
        ("a ~ b", 2, "unexpected character"), ("99999999999999999999", 0, "out of range"), ("1 2", 2, "after a complete"),
    ])
    func parseErrors(text: String, offset: Int, message: String) {
        let error = parseError(text)
        #expect(error?.offset == offset, "\(text): \(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(text): \(String(describing: error))")
    }

    @Test("type errors and unknown fields point at the right place", arguments: [
        ("data.certificate.amount.pay_amont > 1", 24, "unknown field \"pay_amont\" in data.certificate.amount (did you mean \"pay_amount\"?)"),
        ("dta.watch.id == \"w\"", 0, "unknown field \"dta\" in the event (did you mean \"data\"?)"),
        ("data.watch.labels.store == 1", 0, "cannot compare"),
        ("subject > 1", 0, "compares two ints or two strings"),
        ("type == \"certificate.verifyed\"", 8, "did you mean \"certificate.verified\""),
        ("data.certificate.state in [\"gone\"]", 27, "is never \"gone\""),
        ("type == null", 0, "never null"),
        ("data.certificate.amount.pay_amount", 0, "condition must be a bool"),
        ("1 && true", 0, "&& needs bools"),
        ("!1", 1, "! needs a bool"),
        ("-\"a\" == 1", 1, "- needs an int"),
        ("subject.matches(\"(\")", 16, "invalid regular expression"),
        ("subject.matches(subject)", 16, "string literal"),
        ("size(1) == 1", 5, "size() takes"),
        ("1 in 2", 5, "in needs a list or a map"),
        ("\"x\" + 1 == 1", 0, "+ needs two ints"),
        ("[1, \"a\"] == []", 4, "list elements must have one type"),
        ("time > now", 0, "compares two ints"),
        ("data.watch.id.x == 1", 0, "has no field"),
        ("subject.startsWith(1)", 19, "string argument"),
    ])
    func typeErrors(text: String, offset: Int, message: String) throws {
        let errors = try checkErrors(text)
        #expect(errors.first?.offset == offset, "\(text): \(errors)")
        #expect(errors.first?.message.contains(message) == true, "\(text): \(errors)")
    }

    @Test("several errors are reported at once")
    func severalErrors() throws {
        let errors = try checkErrors("data.nope == 1 && data.watch.lables.store == \"x\"")
        #expect(errors.map(\.offset) == [5, 29])
    }

    @Test("deep nesting is rejected, not a crash")
    func deepNesting() {
        let text = String(repeating: "(", count: 500) + "true" + String(repeating: ")", count: 500)
        #expect(parseError(text)?.message.contains("nested too deeply") == true)
        let nots = String(repeating: "!", count: 500) + "true"
        #expect(parseError(nots) != nil)
        let chain = Array(repeating: "true", count: 300).joined(separator: " || ")
        #expect(parseError(chain)?.message.contains("operators") == true)
        let methods = "subject" + String(repeating: ".contains(\"a\")", count: 300)
        #expect(parseError(methods)?.message.contains("operators") == true)
    }

    @Test("print then parse gives the same tree (seeded property test)")
    func roundTrip() throws {
        var generator = ExpressionGenerator(seed: 0x5eed_c0de)
        for _ in 0..<2000 {
            let expression = generator.expression(depth: 5)
            let text = expression.description
            let reparsed = try parse(text)
            #expect(reparsed == expression, "\(text) reparsed as \(reparsed)")
            #expect(reparsed.description == text)
        }
    }
}

/// A deterministic random expression generator (SplitMix64).
struct ExpressionGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func pick(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func path() -> FieldPath {
        let names = ["data", "type", "in", "now", "size", "labels", "a_b", "x1", "has", "true"]
        var components: [FieldPath.Component] = [.field(["data", "type", "subject", "x", "_y"][pick(5)])]
        for _ in 0..<pick(4) {
            switch pick(4) {
            case 0: components.append(.key(["store-id", "a\"b", "", "中文"][pick(4)]))
            case 1: components.append(.index(pick(3)))
            default: components.append(.field(names[pick(names.count)]))
            }
        }
        return FieldPath(components)
    }

    mutating func leaf() -> Expression {
        switch pick(8) {
        case 0: return Expression(.int(Int64(pick(2000))))
        case 1: return Expression(.string(["", "a", "x\"y", "\\", "line\nbreak", "中", "\u{1}"][pick(7)]))
        case 2: return Expression(.bool(pick(2) == 0))
        case 3: return Expression(.null)
        case 4: return Expression(.duration(Int64([0, 30, 90, 3600, 5400, 86400, 90061][pick(7)])))
        case 5: return Expression(.now)
        default: return Expression(.path(path()))
        }
    }

    mutating func expression(depth: Int) -> Expression {
        if depth == 0 || pick(4) == 0 { return leaf() }
        switch pick(7) {
        case 0: return Expression(.unary(Expression.UnaryOperator.allCases[pick(2)], expression(depth: depth - 1)))
        case 1: return Expression(.list((0..<pick(3)).map { _ in expression(depth: depth - 1) }))
        case 2: return Expression(.has(Expression(.path(path()))))
        case 3: return Expression(.size(expression(depth: depth - 1)))
        case 4:
            return Expression(.method(Expression.Method.allCases[pick(4)], expression(depth: depth - 1), expression(depth: depth - 1)))
        default:
            let op = Expression.BinaryOperator.allCases[pick(Expression.BinaryOperator.allCases.count)]
            return Expression(.binary(op, expression(depth: depth - 1), expression(depth: depth - 1)))
        }
    }
}
