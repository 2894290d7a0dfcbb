import DouyinOpenAPI

/// Encodes any `Encodable` straight to a ``JSONValue`` tree (no text round trip), through the
/// types' own `encode(to:)`, so the tree equals parsing `DouyinJSON.normalizedEncoded(value)`.
/// Routing builds one tree per event; going through JSON text was the dominant cost.
public enum JSONValueEncoder {
    /// The JSON tree of `value`.
    public static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = Slot()
        try value.encode(to: TreeEncoder(slot: root, codingPath: []))
        return root.resolved()
    }

    final class Slot {
        enum Content {
            case leaf(JSONValue)
            case object([String: Slot], order: [String])
            case array([Slot])
        }

        var content: Content = .leaf(.null)

        func resolved() -> JSONValue {
            switch content {
            case .leaf(let value): return value
            case .object(let members, _): return .object(members.mapValues { $0.resolved() })
            case .array(let elements): return .array(elements.map { $0.resolved() })
            }
        }

        func child(forKey key: String) -> Slot {
            let slot = Slot()
            if case .object(var members, var order) = content {
                if members[key] == nil { order.append(key) }
                members[key] = slot
                content = .object(members, order: order)
            } else {
                content = .object([key: slot], order: [key])
            }
            return slot
        }

        func appended() -> Slot {
            let slot = Slot()
            if case .array(var elements) = content {
                elements.append(slot)
                content = .array(elements)
            } else {
                content = .array([slot])
            }
            return slot
        }

        var count: Int {
            if case .array(let elements) = content { return elements.count }
            return 0
        }
    }

    struct TreeEncoder: Encoder {
        let slot: Slot
        var codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if case .object = slot.content {} else { slot.content = .object([:], order: []) }
            return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if case .array = slot.content {} else { slot.content = .array([]) }
            return Unkeyed(slot: slot, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            Single(slot: slot, codingPath: codingPath)
        }
    }

    static func leaf<T: Encodable>(_ value: T, into slot: Slot, path: [any CodingKey]) throws {
        switch value {
        case let v as Bool: slot.content = .leaf(.bool(v))
        case let v as String: slot.content = .leaf(.string(v))
        case let v as Int64: slot.content = .leaf(.int(v))
        case let v as Int: slot.content = .leaf(.int(Int64(v)))
        case let v as Int32: slot.content = .leaf(.int(Int64(v)))
        case let v as UInt64: slot.content = .leaf(Int64(exactly: v).map { .int($0) } ?? .uint(v))
        case let v as UInt: slot.content = .leaf(Int64(exactly: v).map { .int($0) } ?? .uint(UInt64(v)))
        case let v as Double: slot.content = .leaf(.double(v))
        case let v as JSONValue: slot.content = .leaf(v)
        default: try value.encode(to: TreeEncoder(slot: slot, codingPath: path))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        var codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) throws { slot.child(forKey: key.stringValue).content = .leaf(.null) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoder.leaf(value, into: slot.child(forKey: key.stringValue), path: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            TreeEncoder(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            TreeEncoder(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            TreeEncoder(slot: slot.child(forKey: "super"), codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            TreeEncoder(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        var codingPath: [any CodingKey]
        var count: Int { slot.count }

        mutating func encodeNil() throws { slot.appended().content = .leaf(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.leaf(value, into: slot.appended(), path: codingPath)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            TreeEncoder(slot: slot.appended(), codingPath: codingPath).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            TreeEncoder(slot: slot.appended(), codingPath: codingPath).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { TreeEncoder(slot: slot.appended(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        var codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.content = .leaf(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.leaf(value, into: slot, path: codingPath)
        }
    }
}
