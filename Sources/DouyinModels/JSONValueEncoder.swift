import Foundation

/// Encodes any `Encodable` straight to a ``JSONValue`` tree (no text round trip), through the
/// types' own `encode(to:)`, so the tree equals parsing `DouyinJSON.normalizedEncoded(value)`.
/// Routing builds one tree per event and every stored snapshot and event is written through it
/// (``DouyinJSON/normalizedEncoded(_:pretty:)``); going through `JSONEncoder` text was the dominant cost.
/// Like `JSONEncoder`'s defaults, a `URL` is its absolute string and `Data` is Base64.
public enum JSONValueEncoder {
    /// The JSON tree of `value`; `wire: true` sets ``CodingUserInfoKey/douyinWireFormat`` (ids that
    /// arrived as numbers stay numbers), as ``DouyinJSON/wireEncoded(_:pretty:)`` does.
    /// Throws what the value's `encode(to:)` throws.
    public static func encode<T: Encodable>(_ value: T, wire: Bool = false) throws -> JSONValue {
        let root = Slot()
        try value.encode(to: TreeEncoder(slot: root, codingPath: [], wire: wire))
        return root.resolved()
    }

    /// A node under construction, mutated in place (no copy-on-write of member dictionaries).
    final class Slot {
        var leaf: JSONValue = .null
        var members: [String: Slot]?
        var elements: [Slot]?

        func resolved() -> JSONValue {
            if let members { return .object(members.mapValues { $0.resolved() }) }
            if let elements { return .array(elements.map { $0.resolved() }) }
            return leaf
        }

        func makeObject() {
            if members == nil {
                members = [:]
                elements = nil
            }
        }

        func makeArray() {
            if elements == nil {
                elements = []
                members = nil
            }
        }

        func setLeaf(_ value: JSONValue) {
            leaf = value
            members = nil
            elements = nil
        }

        func child(forKey key: String) -> Slot {
            let slot = Slot()
            makeObject()
            members![key] = slot
            return slot
        }

        func appended() -> Slot {
            let slot = Slot()
            makeArray()
            elements!.append(slot)
            return slot
        }

        var count: Int { elements?.count ?? 0 }
    }

    struct TreeEncoder: Encoder {
        let slot: Slot
        var codingPath: [any CodingKey]
        let wire: Bool
        var userInfo: [CodingUserInfoKey: Any] { wire ? [.douyinWireFormat: true] : [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            slot.makeObject()
            return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath, wire: wire))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            slot.makeArray()
            return Unkeyed(slot: slot, codingPath: codingPath, wire: wire)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            Single(slot: slot, codingPath: codingPath, wire: wire)
        }
    }

    static func leaf<T: Encodable>(_ value: T, into slot: Slot, path: [any CodingKey], wire: Bool) throws {
        switch value {
        case let v as Bool: slot.setLeaf(.bool(v))
        case let v as String: slot.setLeaf(.string(v))
        case let v as Int64: slot.setLeaf(.int(v))
        case let v as Int: slot.setLeaf(.int(Int64(v)))
        case let v as Int32: slot.setLeaf(.int(Int64(v)))
        case let v as UInt64: slot.setLeaf(Int64(exactly: v).map { .int($0) } ?? .uint(v))
        case let v as UInt: slot.setLeaf(Int64(exactly: v).map { .int($0) } ?? .uint(UInt64(v)))
        case let v as Double: slot.setLeaf(.double(v))
        case let v as JSONValue: slot.setLeaf(v)
        case let v as URL: slot.setLeaf(.string(v.absoluteString))
        case let v as Data: slot.setLeaf(.string(v.base64EncodedString()))
        default: try value.encode(to: TreeEncoder(slot: slot, codingPath: path, wire: wire))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        var codingPath: [any CodingKey]
        let wire: Bool

        mutating func encodeNil(forKey key: Key) throws { slot.child(forKey: key.stringValue).setLeaf(.null) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoder.leaf(value, into: slot.child(forKey: key.stringValue), path: codingPath + [key], wire: wire)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            TreeEncoder(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key], wire: wire).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            TreeEncoder(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key], wire: wire).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            TreeEncoder(slot: slot.child(forKey: "super"), codingPath: codingPath, wire: wire)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            TreeEncoder(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key], wire: wire)
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        var codingPath: [any CodingKey]
        let wire: Bool
        var count: Int { slot.count }

        mutating func encodeNil() throws { slot.appended().setLeaf(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.leaf(value, into: slot.appended(), path: codingPath, wire: wire)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            TreeEncoder(slot: slot.appended(), codingPath: codingPath, wire: wire).container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            TreeEncoder(slot: slot.appended(), codingPath: codingPath, wire: wire).unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { TreeEncoder(slot: slot.appended(), codingPath: codingPath, wire: wire) }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        var codingPath: [any CodingKey]
        let wire: Bool

        mutating func encodeNil() throws { slot.setLeaf(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.leaf(value, into: slot, path: codingPath, wire: wire)
        }
    }
}
