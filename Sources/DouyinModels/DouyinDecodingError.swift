import Foundation

/// A Douyin response that could not be read: not JSON, empty, or a field of the wrong type.
///
/// ``description`` names the JSON path and what was found, e.g.
/// `data.certificates[0].time_card.times_used: expected integer, found string "x"`.
public struct DouyinDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Hashable {
        /// The body is empty.
        case empty
        /// The body is not JSON (an HTML error page, a truncated body, …).
        case notJSON
        /// A value has the wrong type (or is null where a value is required).
        case typeMismatch
        /// A required field is missing.
        case missingField
    }

    /// What went wrong.
    public var kind: Kind
    /// The JSON path of the offending value (`data.certificates[0].certificate_id`); empty for the whole body.
    public var path: String
    /// What was expected and found.
    public var message: String

    public init(kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// The error for a body that is not JSON, quoting its start (at most 60 characters).
    /// `detail` says where and why (`byte 12: unexpected character '<'`).
    static func notJSON(_ body: Data, detail: String? = nil) -> DouyinDecodingError {
        let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return .init(kind: .empty, path: "", message: "empty body, expected JSON") }
        let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
        let why = detail.map { " (\($0))" } ?? ""
        return .init(kind: .notJSON, path: "", message: "body is not JSON\(why): \(shown.debugDescription)")
    }

    /// Translates a `DecodingError` into a path-naming error, quoting the offending value from `tree`
    /// (the value at the first `droppingPathPrefix` keys of the error's coding path).
    init(_ error: DecodingError, in tree: JSONValue, droppingPathPrefix prefix: Int = 0) {
        let render = JSONPath.render
        func found(at path: [any CodingKey]) -> String {
            var node: JSONValue? = tree
            for key in path.dropFirst(prefix) {
                node = key.intValue.map { node?[$0] } ?? node?[key.stringValue]
            }
            return node?.shortDescription ?? "nothing"
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(
                kind: .typeMismatch, path: render(context.codingPath),
                message: "expected \(Self.jsonTypeName(type)), found \(found(at: context.codingPath))")
        case .valueNotFound(let type, let context):
            self.init(
                kind: .typeMismatch, path: render(context.codingPath),
                message: "expected \(Self.jsonTypeName(type)), found null")
        case .keyNotFound(let key, let context):
            self.init(
                kind: .missingField, path: render(context.codingPath + [key]), message: "required field is missing")
        case .dataCorrupted(let context):
            self.init(
                kind: context.codingPath.isEmpty ? .notJSON : .typeMismatch, path: render(context.codingPath),
                message: "invalid value \(found(at: context.codingPath)) (\(context.debugDescription))")
        @unknown default:
            self.init(kind: .typeMismatch, path: "", message: "\(error)")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is Int64.Type, is Int.Type, is UInt64.Type: return "integer"
        case is String.Type: return "string"
        case is Bool.Type: return "boolean"
        case is Double.Type: return "number"
        case is DouyinID.Type: return "id (string or integer)"
        case is [Any].Type: return "array"
        default: return "object"
        }
    }
}

/// The JSON coders certwatch uses for Douyin payloads.
public enum DouyinJSON {
    /// Decodes `T` from a Douyin body: one parse into a ``JSONValue`` tree, then ``JSONValueDecoder``.
    /// Throws ``DouyinDecodingError`` naming the JSON path of the first problem; never traps on any input.
    public static func decode<T: Decodable>(_ type: T.Type, from body: Data) throws(DouyinDecodingError) -> T {
        try decode(type, from: try JSONValue(parsing: body))
    }

    /// Decodes `T` from an already parsed JSON value. Throws ``DouyinDecodingError`` naming the
    /// JSON path of the first problem. What the models normalize or set aside goes to `warnings`.
    public static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, warnings: DouyinDecodeWarnings? = nil
    ) throws(DouyinDecodingError) -> T {
        do {
            return try JSONValueDecoder.decode(type, from: value, warnings: warnings)
        } catch let error as DecodingError {
            throw DouyinDecodingError(error, in: value)
        } catch let error as DouyinDecodingError {
            throw error
        } catch {
            throw DouyinDecodingError(kind: .typeMismatch, path: "", message: "\(error)")
        }
    }

    /// Encodes in Douyin's wire shape (ids that are numbers on the wire stay numbers).
    /// Compact output goes through ``JSONValueEncoder``; `pretty` output through `JSONEncoder`.
    public static func wireEncoded<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        if !pretty { return try JSONValueEncoder.encode(value, wire: true).encoded() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys]
        encoder.userInfo[.douyinWireFormat] = true
        return try encoder.encode(value)
    }

    /// Encodes in certwatch's normalized shape: every id a string.
    /// Compact output goes through ``JSONValueEncoder`` and ``JSONValue/encoded()`` (sorted keys, `/`
    /// not escaped); `pretty` output through `JSONEncoder`. Throws what the value's `encode(to:)` throws.
    public static func normalizedEncoded<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        if !pretty { return try JSONValueEncoder.encode(value).encoded() }
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// The wire-shaped JSON value of a model (used as the default raw JSON of constructed certificates).
    static func wireValue<T: Encodable>(of value: T) -> JSONValue {
        (try? JSONValueEncoder.encode(value, wire: true)) ?? .null
    }
}
