import Synchronization

/// Something in a Douyin answer that certwatch read anyway, normalized or set aside: a time in
/// milliseconds, a descriptive field of an unexpected type, counters that contradict each other.
///
/// Douyin's answers drift from its documentation (DESIGN.md, "Decoding Douyin responses"): a field
/// certwatch does not derive state from never fails a poll — it is kept in the raw JSON and
/// reported here; only the fields state is derived from fail decoding.
public struct DouyinDecodeWarning: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The JSON path of the value, e.g. `data.certificates[0].expire_time`.
    public var path: String
    /// The path with array indices dropped (`data.certificates[].expire_time`): the
    /// `certwatch_decode_warnings_total{field}` label.
    public var field: String
    /// What was found and what certwatch did with it.
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.field = Self.field(of: path)
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// `a.b[3].c` → `a.b[].c`.
    static func field(of path: String) -> String {
        var result = ""
        var inIndex = false
        for character in path {
            if character == "[" {
                inIndex = true
                result.append("[]")
            } else if character == "]" {
                inIndex = false
            } else if !inIndex {
                result.append(character)
            }
        }
        return result
    }
}

/// Collects the warnings of one decode; reachable from a `Decoder` through
/// `userInfo[.douyinDecodeWarnings]`. A warning reported twice (same path and message) is kept once.
public final class DouyinDecodeWarnings: Sendable {
    private let list = Mutex<[DouyinDecodeWarning]>([])

    public init() {}

    /// Adds a warning (ignored if the same one is already there).
    public func add(_ warning: DouyinDecodeWarning) {
        list.withLock { if !$0.contains(warning) { $0.append(warning) } }
    }

    /// The warnings, in the order reported.
    public var all: [DouyinDecodeWarning] { list.withLock { $0 } }
}

extension CodingUserInfoKey {
    /// A ``DouyinDecodeWarnings`` collecting what a decode normalized or set aside.
    public static let douyinDecodeWarnings = CodingUserInfoKey(rawValue: "douyinDecodeWarnings")!
}

/// How certwatch reads Unix times from Douyin: seconds, or milliseconds when the value is at least
/// 10^12 (normalized to seconds with a warning; third-party SDK samples show `start_time`,
/// `expire_time`, `extra.now` and push `msg_time` in milliseconds).
public enum DouyinTime {
    /// The smallest value read as milliseconds (2001-09-09 in milliseconds; year 33658 in seconds).
    public static let millisecondThreshold: Int64 = 1_000_000_000_000
    /// The first value too large to be milliseconds either (year 33658 in milliseconds): kept as is
    /// with a warning (Douyin's documented example carries such placeholder values).
    public static let implausibleThreshold: Int64 = 1_000_000_000_000_000

    /// `value` in Unix seconds, and the warning to report when it was not plainly seconds.
    public static func seconds(_ value: Int64) -> (seconds: Int64, warning: String?) {
        if value >= implausibleThreshold {
            return (value, "\(value) is not a plausible Unix time in seconds or milliseconds; kept as is")
        }
        if value >= millisecondThreshold {
            return (value / 1000, "\(value) looks like milliseconds; read as Unix seconds \(value / 1000)")
        }
        return (value, nil)
    }
}

/// Renders coding paths as JSON paths: `data.certificates[0].certificate_id`.
public enum JSONPath {
    /// The JSON path of `path` (keys joined by `.`, indices as `[n]`); empty for the root.
    public static func render(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }
}

extension KeyedDecodingContainer {
    /// A Unix time field: seconds, or milliseconds (≥ 10^12) normalized to seconds with a warning
    /// to `decoder`'s ``DouyinDecodeWarnings``. Throws like `decodeIfPresent(Int64.self, …)`.
    func decodeUnixTimeIfPresent(forKey key: Key, warningsFrom decoder: any Decoder) throws -> Int64? {
        try decodeIfPresent(Int64.self, forKey: key).map { normalizedTime($0, key: key, decoder) }
    }

    /// ``decodeUnixTimeIfPresent(forKey:warningsFrom:)`` for a time state is not derived from: a
    /// value of an unexpected type reads as `nil` with a warning. Never throws.
    func decodeSetAsideUnixTimeIfPresent(forKey key: Key, warningsFrom decoder: any Decoder) -> Int64? {
        decodeSetAsideIfPresent(Int64.self, forKey: key, warningsFrom: decoder).map { normalizedTime($0, key: key, decoder) }
    }

    private func normalizedTime(_ value: Int64, key: Key, _ decoder: any Decoder) -> Int64 {
        let (seconds, warning) = DouyinTime.seconds(value)
        if let warning { Self.warn(warning, path: JSONPath.render(codingPath + [key]), decoder) }
        return seconds
    }

    /// A field certwatch does not derive state from: its value, with every part of an unexpected
    /// type set aside — read as `nil`, kept in the certificate's raw JSON, and reported with its
    /// path — so one odd member (`sku.market_price: "面议"`) does not cost the rest of the block
    /// (`sku.title`). The whole value reads as `nil` when it is itself of the wrong type. Never throws.
    func decodeSetAsideIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key, warningsFrom decoder: any Decoder) -> T? {
        guard var value = try? decodeIfPresent(JSONValue.self, forKey: key), value != .null else { return nil }
        let base = codingPath + [key]
        let warnings = decoder.userInfo[.douyinDecodeWarnings] as? DouyinDecodeWarnings
        let parent = codingPath.reduce(CodingPathNode.root) { .node($1, $0) }
        // Each round sets aside one offending member; a block has far fewer members than this.
        for _ in 0..<64 {
            do {
                return try T(from: JSONValueDecoder(value: value, parent: parent, key: key, warnings: warnings))
            } catch let error as DecodingError {
                let translated = DouyinDecodingError(error, in: value, droppingPathPrefix: base.count)
                let at = Self.codingPath(of: error).dropFirst(base.count)
                let path = translated.path.isEmpty ? JSONPath.render(base) : translated.path
                Self.warn("\(translated.message); set aside (kept in the raw JSON)", path: path, decoder)
                guard !at.isEmpty, let rest = value.replacingWithNull(at: Array(at)), rest != value else { return nil }
                value = rest
            } catch {
                Self.warn("\(error); set aside (kept in the raw JSON)", path: JSONPath.render(base), decoder)
                return nil
            }
        }
        return nil
    }

    private static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.codingPath
        case .keyNotFound(let key, let context): return context.codingPath + [key]
        @unknown default: return []
        }
    }

    private static func warn(_ message: String, path: String, _ decoder: any Decoder) {
        guard let warnings = decoder.userInfo[.douyinDecodeWarnings] as? DouyinDecodeWarnings else { return }
        warnings.add(DouyinDecodeWarning(path: path, message: message))
    }
}

extension JSONValue {
    /// This value with the member at `path` (object keys and array indices) replaced by `null`;
    /// `nil` when the path does not lead to a member.
    func replacingWithNull(at path: [any CodingKey]) -> JSONValue? {
        guard let first = path.first else { return .null }
        let rest = Array(path.dropFirst())
        switch self {
        case .object(var members):
            guard let child = members[first.stringValue], let replaced = child.replacingWithNull(at: rest) else { return nil }
            members[first.stringValue] = replaced
            return .object(members)
        case .array(var elements):
            guard let index = first.intValue, elements.indices.contains(index),
                let replaced = elements[index].replacingWithNull(at: rest)
            else { return nil }
            elements[index] = replaced
            return .array(elements)
        default: return nil
        }
    }
}
