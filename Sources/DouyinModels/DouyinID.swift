/// An identifier from Douyin (`certificate_id`, `verify_id`, `poi_id`, `order_id`, `sku_id`, …),
/// held as its decimal (or opaque) string.
///
/// Douyin sends the same id as a JSON number in one place and as a JSON string in another
/// (`certificate_id` is a number at the top level of a certificate and a string inside `verify`,
/// see the documented example of 券状态批量查询). Decoding accepts both and never goes through
/// `Double`, so ids above 2^53 stay exact. Encoding writes a JSON string, except when the encoder's
/// ``CodingUserInfoKey/douyinWireFormat`` is `true` and the id arrived as a number: then it is written
/// back as the number it was (the sandbox uses this to answer in Douyin's own shape).
public struct DouyinID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as text, e.g. `"40340243935541530"`.
    public let value: String
    /// Whether the id is a JSON number on the wire.
    public let isNumber: Bool

    /// An id that travels as a JSON string.
    public init(_ value: String) {
        self.value = value
        self.isNumber = false
    }

    /// An id that travels as a JSON number, e.g. `certificate_id` or `poi_id`.
    public init(number: UInt64) {
        self.value = String(number)
        self.isNumber = true
    }

    private init(value: String, isNumber: Bool) {
        self.value = value
        self.isNumber = isNumber
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    public var description: String { value }

    public static func == (lhs: DouyinID, rhs: DouyinID) -> Bool { lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
    public static func < (lhs: DouyinID, rhs: DouyinID) -> Bool { lhs.value < rhs.value }
}

extension CodingUserInfoKey {
    /// Set to `true` to encode models in Douyin's wire shape (ids that were numbers stay numbers).
    /// Without it, every ``DouyinID`` is encoded as a string (certwatch's normalized form).
    public static let douyinWireFormat = CodingUserInfoKey(rawValue: "douyinWireFormat")!
}

extension DouyinID: Codable {
    public init(from decoder: any Decoder) throws {
        if let tree = decoder as? JSONValueDecoder {
            // The parsed tree says which it is: no trying types one by one.
            switch tree.value {
            case .string(let text): self.init(text)
            case .int(let number): self.init(value: String(number), isNumber: true)
            case .uint(let number): self.init(number: number)
            default: throw tree.mismatch(DouyinID.self)
            }
            return
        }
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(text)
        } else if let number = try? container.decode(UInt64.self) {
            self.init(number: number)
        } else if let number = try? container.decode(Int64.self) {
            self.init(value: String(number), isNumber: true)
        } else {
            throw DecodingError.typeMismatch(
                DouyinID.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected id (string or integer)")
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if isNumber, encoder.userInfo[.douyinWireFormat] as? Bool == true {
            if let number = UInt64(value) {
                try container.encode(number)
                return
            }
            if let number = Int64(value) {
                try container.encode(number)
                return
            }
        }
        try container.encode(value)
    }
}
