import Foundation
import Testing

@testable import DouyinModels

@Suite("JSON parsing and encoding of JSONValue")
struct JSONValueParserTests {
    func parse(_ text: String) throws -> JSONValue {
        try JSONValue(parsing: Data(text.utf8))
    }

    @Test("integers stay exact at the edges; fractions and exponents follow JSONSerialization's rules")
    func numbers() throws {
        #expect(try parse("7233669383627606030") == .int(7_233_669_383_627_606_030))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("9223372036854775808") == .uint(9_223_372_036_854_775_808))
        #expect(try parse("18446744073709551615") == .uint(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("18446744073709551616") == .double(18_446_744_073_709_551_616))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("-2.5e-3") == .double(-0.0025))
        #expect(try parse("100.0") == .int(100))
        #expect(try parse("1E3") == .int(1000))
        #expect(try parse("1e300") == .double(1e300))
    }

    @Test("strings: escapes, surrogate pairs, raw UTF-8")
    func strings() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try parse(#""\u4e2d\u6587 \ud83d\ude00""#) == .string("中文 😀"))
        #expect(try parse(#""抖音生活服务""#) == .string("抖音生活服务"))
        #expect(try parse(#""""#) == .string(""))
    }

    @Test("structures, whitespace and fragments")
    func structures() throws {
        let value = try parse(" {\"a\" : [1, true, null, {\"b\":\"c\"}], \"d\":{} ,\"e\":[]}\n")
        #expect(
            value
                == .object([
                    "a": .array([.int(1), .bool(true), .null, .object(["b": .string("c")])]), "d": .object([:]),
                    "e": .array([]),
                ]))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("null") == .null)
    }

    @Test(
        "malformed input is rejected with the byte offset and the reason",
        arguments: [
            ("{\"a\":1,}", "byte 7: expected a member name in quotes"),
            ("[1 2]", "byte 3: expected ',' or ']' in an array"),
            ("01", "byte 0: leading zero in a number"),
            ("1.", "byte 2: expected a digit after '.'"),
            ("-", "byte 1: expected a digit"),
            ("tru", "byte 0: unexpected end of input"),
            ("nul!", "byte 0: invalid literal, expected null"),
            ("\"a\u{1}b\"", "byte 2: unescaped control character 0x01 in a string"),
            (#""\x""#, #"byte 3: invalid escape \'x'"#),
            (#""\ud83d""#, #"byte 7: lone high surrogate \uD83D"#),
            (#""\ude00""#, #"byte 7: lone low surrogate \uDE00"#),
            ("\"abc", "byte 4: unterminated string"),
            ("{} {}", "byte 3: unexpected data after the JSON value"),
            ("<html>", "byte 0: unexpected character '<'"),
            ("1e999", "byte 0: number 1e999 is out of range"),
        ])
    func malformed(text: String, expected: String) {
        #expect {
            try parse(text)
        } throws: { error in
            let error = error as? DouyinDecodingError
            return error?.kind == .notJSON && error?.message.contains("(\(expected))") == true
        }
    }

    @Test("invalid UTF-8 and an empty body")
    func invalidBytes() {
        #expect(throws: DouyinDecodingError.self) { try JSONValue(parsing: Data([0x22, 0xFF, 0xFE, 0x22])) }
        #expect {
            try JSONValue(parsing: Data("  \n".utf8))
        } throws: { error in
            (error as? DouyinDecodingError)?.kind == .empty
        }
    }

    @Test("nesting deeper than 512 levels is an error, not a stack overflow")
    func deepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: DouyinDecodingError.self) { try parse(deep) }
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try parse(fine) != .null)
    }

    @Test("encoded() is compact with sorted keys, escapes what JSON requires, and parses back to the same value")
    func encoding() throws {
        let value = JSONValue.object([
            "z": .int(-1), "a": .string("引号\"\\/\n\u{1}"), "m": .array([.uint(.max), .double(0.25), .bool(false), .null]),
            "k": .object([:]),
        ])
        let text = String(decoding: value.encoded(), as: UTF8.self)
        #expect(text == #"{"a":"引号\"\\/\n\u0001","k":{},"m":[18446744073709551615,0.25,false,null],"z":-1}"#)
        #expect(try JSONValue(parsing: value.encoded()) == value)
        // The same text JSONSerialization accepts.
        #expect((try? JSONSerialization.jsonObject(with: value.encoded())) != nil)
    }

    @Test("the documented example parses to the same tree as JSONSerialization reads, and round-trips")
    func documentedExample() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/compre_retail_query_ok.json")
        let body = try Data(contentsOf: url)
        let tree = try JSONValue(parsing: body)
        #expect(try JSONValue(parsing: tree.encoded()) == tree)
        // Every integer above 2^53 (17+ digits) is the exact number JSONSerialization reads.
        func integers(_ value: Any) -> [String] {
            switch value {
            case let number as NSNumber where ["q", "Q"].contains(String(cString: number.objCType)): return [number.stringValue]
            case let array as [Any]: return array.flatMap(integers)
            case let object as [String: Any]: return object.keys.sorted().flatMap { integers(object[$0]!) }
            default: return []
            }
        }
        func integers(_ value: JSONValue) -> [String] {
            switch value {
            case .int(let number): return [String(number)]
            case .uint(let number): return [String(number)]
            case .array(let elements): return elements.flatMap(integers)
            case .object(let members): return members.keys.sorted().flatMap { integers(members[$0]!) }
            default: return []
            }
        }
        let big = { (numbers: [String]) in numbers.filter { $0.count >= 17 } }
        let foundation = big(integers(try JSONSerialization.jsonObject(with: body)))
        #expect(foundation.count > 50)
        #expect(big(integers(tree)) == foundation)
    }
}
