import Foundation

/// A `Decoder` that reads `Decodable` types from an already parsed ``JSONValue``, so a body is
/// parsed once (``JSONValueParser``) and the typed model and the raw JSON come from the same tree.
///
/// Follows `JSONDecoder`'s rules where the models rely on them: integers must be exact and in range
/// (a whole-number `Double` decodes as an integer), `Double` accepts any number, `null` or a missing
/// key decodes as `nil` only through `decodeIfPresent`/`decodeNil`, and errors are the standard
/// `DecodingError`s with the coding path (``DouyinDecodingError`` turns them into JSON paths).
/// ``DouyinID`` and ``JSONValue`` read the tree directly instead of trying types one by one.
///
/// One departure, because Douyin's answers drift from its documentation: an integer also reads
/// from a decimal string (`"0"`, `"7300000000000000021"`), exactly, never through `Double`.
/// Decoding code that sets values aside or normalizes them reports to ``warnings`` (reachable
/// from any `Decoder` through `userInfo[.douyinDecodeWarnings]`).
struct JSONValueDecoder: Decoder {
    /// The value being decoded.
    let value: JSONValue
    /// The path to the container holding `value`, and `value`'s key in it: a scalar field never
    /// allocates a path node; a container makes one (``path``) for its children.
    private let parent: CodingPathNode
    private let key: (any CodingKey)?
    /// Where this decode's warnings go (`nil`: dropped).
    let warnings: DouyinDecodeWarnings?

    init(
        value: JSONValue, parent: CodingPathNode = .root, key: (any CodingKey)? = nil,
        warnings: DouyinDecodeWarnings? = nil
    ) {
        self.value = value
        self.parent = parent
        self.key = key
        self.warnings = warnings
    }

    private var path: CodingPathNode { key.map { .node($0, parent) } ?? parent }

    /// Decodes `T` from `value`. Throws `DecodingError`.
    static func decode<T: Decodable>(
        _ type: T.Type, from value: JSONValue, warnings: DouyinDecodeWarnings? = nil
    ) throws -> T {
        try JSONValueDecoder(value: value, warnings: warnings).decodeValue(type)
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { warnings.map { [.douyinDecodeWarnings: $0] } ?? [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, path: path, warnings: warnings))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([Any].self) }
        return UnkeyedContainer(elements: elements, path: path, warnings: warnings)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ type: Any.Type) -> DecodingError {
        if case .null = value {
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Found null, expected \(type)"))
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Found \(value.shortDescription), expected \(type)"))
    }

    fileprivate func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        // The scalar types go straight to their readers (no `init(from:)` round trip).
        switch type {
        case is String.Type: return try decode(String.self) as! T
        case is Int64.Type: return try integer(Int64.self) as! T
        case is Int.Type: return try integer(Int.self) as! T
        case is Bool.Type: return try decode(Bool.self) as! T
        case is JSONValue.Type: return value as! T
        // JSONDecoder's own special cases, so any Codable type reads the same as through it.
        case is URL.Type:
            guard let url = URL(string: try decode(String.self)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Invalid URL string."))
            }
            return url as! T
        case is Data.Type:
            guard let data = Data(base64Encoded: try decode(String.self)) else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Encountered Data is not valid Base64."))
            }
            return data as! T
        default: return try T(from: self)
        }
    }

    fileprivate func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let result: T?
        switch value {
        case .int(let number): result = T(exactly: number)
        case .uint(let number): result = T(exactly: number)
        case .double(let number): result = T(exactly: number)
        case .string(let text) where Self.isDecimal(text):
            result = T(text)  // exact; nil when out of range
        default: throw mismatch(type)
        }
        guard let result else {
            if case .double(let number) = value, number.rounded(.towardZero) != number {
                throw mismatch(type)  // 2.5: not an integer at all
            }
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "\(value.shortDescription) is outside the range of \(type)"))
        }
        return result
    }

    /// An optional `-` and 1…40 ASCII digits: the strings read as integers.
    static func isDecimal(_ text: String) -> Bool {
        var digits = text.utf8[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.count <= 40 && digits.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

extension JSONValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    /// `true`/`false`; also `0`/`1` and the strings `"true"`, `"false"`, `"0"`, `"1"` (drifted answers).
    func decode(_ type: Bool.Type) throws -> Bool {
        switch value {
        case .bool(let flag): return flag
        case .int(0), .uint(0), .string("0"), .string("false"): return false
        case .int(1), .uint(1), .string("1"), .string("true"): return true
        default: throw mismatch(type)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = value else { throw mismatch(type) }
        return text
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .double(let number): return number
        case .int(let number): return Double(number)
        case .uint(let number): return Double(number)
        default: throw mismatch(type)
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type) }
}

/// The coding path as a linked list, built only into an array when an error or a type asks.
indirect enum CodingPathNode {
    case root
    case node(any CodingKey, CodingPathNode)

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .node(let key, let parent) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }
}

/// An array index as a coding key.
struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let path: CodingPathNode
    let warnings: DouyinDecodeWarnings?

    var codingPath: [any CodingKey] { path.keys }
    var allKeys: [Key] { members.keys.compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func child(_ key: Key) throws -> JSONValueDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value for key \(key.stringValue)"))
        }
        return JSONValueDecoder(value: value, parent: path, key: key, warnings: warnings)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try child(key).decodeNil()
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try child(key).decodeValue(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try JSONValueDecoder(value: value, parent: path, key: key, warnings: warnings).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        JSONValueDecoder(value: members["super"] ?? .null, parent: path, key: IndexKey(intValue: 0), warnings: warnings)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONValueDecoder(value: members[key.stringValue] ?? .null, parent: path, key: key, warnings: warnings)
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let path: CodingPathNode
    let warnings: DouyinDecodeWarnings?
    var currentIndex = 0

    init(elements: [JSONValue], path: CodingPathNode, warnings: DouyinDecodeWarnings?) {
        self.elements = elements
        self.path = path
        self.warnings = warnings
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> JSONValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                JSONValue.self, .init(codingPath: codingPath + [IndexKey(intValue: currentIndex)], debugDescription: "Unkeyed container is at end"))
        }
        defer { currentIndex += 1 }
        return JSONValueDecoder(
            value: elements[currentIndex], parent: path, key: IndexKey(intValue: currentIndex), warnings: warnings)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if case .null = elements[currentIndex] {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next().decodeValue(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try next()
    }
}
