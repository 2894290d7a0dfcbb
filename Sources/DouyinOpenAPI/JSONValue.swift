import Foundation

/// A JSON value that keeps integers exact.
///
/// Douyin responses carry integers above 2^53 (ids, amounts in fen, Unix-second times in the
/// documented example), so numbers without a fraction or exponent are held as `Int64` (or
/// `UInt64` above `Int64.max`) and never pass through `Double`. Used for the raw certificate
/// JSON stored with every snapshot and for fields whose shape Douyin does not fix
/// (`additional_map`).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text with Foundation's `JSONSerialization`, keeping integers exact (they arrive
    /// as `Int64`/`UInt64` `NSNumber`s). Throws ``DouyinDecodingError`` (`kind == .notJSON` or
    /// `.empty`) when `data` is not JSON.
    public init(parsing data: Data) throws(DouyinDecodingError) {
        do {
            self = JSONValue(foundation: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        } catch {
            throw DouyinDecodingError.notJSON(data)
        }
    }

    /// Converts a `JSONSerialization` result.
    init(foundation value: Any) {
        switch value {
        case let text as String:
            self = .string(text)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": self = .bool(number.boolValue)
            case "Q", "L", "I", "S", "C":
                let unsigned = number.uint64Value
                self = unsigned <= UInt64(Int64.max) ? .int(Int64(unsigned)) : .uint(unsigned)
            case "q", "l", "i", "s": self = .int(number.int64Value)
            default:
                let double = number.doubleValue
                if double == double.rounded(), abs(double) < 9.007_199_254_740_992e15, !(number is NSDecimalNumber) {
                    self = .int(Int64(double))
                } else {
                    self = .double(double)
                }
            }
        case let array as [Any]:
            self = .array(array.map(JSONValue.init(foundation:)))
        case let object as [String: Any]:
            self = .object(object.mapValues(JSONValue.init(foundation:)))
        default:
            self = .null
        }
    }

    /// The value at `key` when this is an object, else `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The element at `index` when this is an array and the index is in range, else `nil`.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    /// Compact JSON text with sorted keys (a stable form for storage and hashing).
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case maps to a JSON value (non-finite doubles
        // cannot be produced by the parser).
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    /// Deep merge where `preferred` wins member by member: objects merge recursively, any other
    /// non-null value of `preferred` replaces ours, and `null` in `preferred` keeps ours.
    public func merged(preferring preferred: JSONValue) -> JSONValue {
        switch (self, preferred) {
        case (.object(let mine), .object(let theirs)):
            return .object(mine.merging(theirs) { $0.merged(preferring: $1) })
        case (_, .null):
            return self
        default:
            return preferred
        }
    }

    /// A short description of the value for error messages: its JSON type and, for scalars, the value.
    public var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "boolean \(value)"
        case .int(let value): return "integer \(value)"
        case .uint(let value): return "integer \(value)"
        case .double(let value): return "number \(value)"
        case .string(let value):
            let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
            return "string \"\(shown)\""
        case .array(let elements): return "array of \(elements.count)"
        case .object: return "object"
        }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .uint(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .uint(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
