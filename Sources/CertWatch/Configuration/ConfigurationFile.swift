import CertWatchCore
import Foundation
import Yams

/// A configuration problem, located: `certwatch.yaml:12:3: poll.base_interval: expected a duration
/// like 30s or 5m, found "soon"`. For values from the environment the location is the variable name.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `file:line:col`, or `env CERTWATCH_…`, or the file alone.
    public var location: String
    /// The key path (`poll.base_interval`).
    public var key: String?
    /// What is wrong.
    public var message: String

    public init(location: String, key: String? = nil, message: String) {
        self.location = location
        self.key = key
        self.message = message
    }

    public var description: String { "\(location): " + (key.map { "\($0): " } ?? "") + message }
}

/// The YAML configuration file, flattened to key paths (`douyin.base_url`, `sinks.erp.url`), with
/// `${VAR}` references expanded from the environment and every setting overridable by an
/// environment variable named `CERTWATCH_` + the key path in upper case with `.` → `_`
/// (`CERTWATCH_DOUYIN_BASE_URL`, `CERTWATCH_POLL_BASE_INTERVAL`).
///
/// Keys must match the known patterns (`*` = any one name); an unknown key, a malformed value or a
/// missing `${VAR}` is a ``ConfigurationError`` with the file:line:col of the value.
public struct ConfigurationFile: Sendable {
    /// A value and where it came from.
    public struct Entry: Sendable, Hashable {
        /// A scalar's text, or nil for a list.
        public var scalar: String?
        /// A list's items.
        public var list: [String]?
        /// `file:line:col` or `env NAME`.
        public var location: String
    }

    /// The file path ("" when none).
    public let path: String
    /// Entries by key path.
    public private(set) var entries: [String: Entry] = [:]
    private let environment: [String: String]

    /// Reads `path` (nil: no file, defaults and environment only) against the known key patterns.
    public init(path: String?, knownKeys: [String], environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        self.path = path ?? ""
        self.environment = environment
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(location: path, message: "cannot read the configuration file")
            }
            let node: Node?
            do {
                node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
            } catch let error as YamlError {
                throw ConfigurationError(location: path, message: "invalid YAML: \(error)")
            } catch {
                throw ConfigurationError(location: path, message: "invalid YAML: \(error)")
            }
            if let node { try flatten(node, prefix: "", knownKeys: knownKeys) }
        }
        for key in knownKeys where !key.contains("*") {
            let name = Self.environmentName(key)
            if let value = environment[name] {
                entries[key] = Entry(
                    scalar: value, list: value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                    location: "env \(name)")
            }
        }
    }

    /// `CERTWATCH_` + key path upper-cased, `.` and `-` → `_`.
    public static func environmentName(_ key: String) -> String {
        "CERTWATCH_" + key.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
    }

    private mutating func flatten(_ node: Node, prefix: String, knownKeys: [String]) throws(ConfigurationError) {
        let location = "\(path):\(node.mark.map { "\($0.line):\($0.column)" } ?? "1:1")"
        switch node {
        case .mapping(let mapping):
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else {
                    throw ConfigurationError(location: location, message: "keys must be strings")
                }
                let path = prefix.isEmpty ? key : "\(prefix).\(key)"
                let keyLocation = "\(self.path):\(keyNode.mark.map { "\($0.line):\($0.column)" } ?? "1:1")"
                guard knownKeys.contains(where: { Self.matches(pattern: $0, key: path) || Self.isPrefix(path, of: $0) })
                else {
                    throw ConfigurationError(location: keyLocation, key: path, message: "unknown key")
                }
                try flatten(value, prefix: path, knownKeys: knownKeys)
            }
        case .sequence(let sequence):
            var items: [String] = []
            for item in sequence {
                guard let text = item.string else {
                    throw ConfigurationError(location: location, key: prefix, message: "expected a list of values")
                }
                items.append(try expand(text, key: prefix, location: location))
            }
            entries[prefix] = Entry(scalar: nil, list: items, location: location)
        case .scalar(let scalar):
            guard knownKeys.contains(where: { Self.matches(pattern: $0, key: prefix) }) else {
                throw ConfigurationError(location: location, key: prefix, message: "expected a section, found a value")
            }
            let text = try expand(scalar.string, key: prefix, location: location)
            entries[prefix] = Entry(scalar: text, list: [text], location: location)
        case .alias:
            throw ConfigurationError(location: location, key: prefix, message: "YAML aliases are not supported")
        }
    }

    /// Expands `${VAR}` (and `${VAR:-default}`) from the environment.
    private func expand(_ text: String, key: String, location: String) throws(ConfigurationError) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigurationError(location: location, key: key, message: "unterminated ${ in \(text.debugDescription)")
            }
            let reference = String(rest[start.upperBound..<end])
            let parts = reference.components(separatedBy: ":-")
            if let value = environment[parts[0]] {
                result += value
            } else if parts.count > 1 {
                result += parts.dropFirst().joined(separator: ":-")
            } else {
                throw ConfigurationError(
                    location: location, key: key, message: "environment variable \(parts[0]) is not set")
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    static func matches(pattern: String, key: String) -> Bool {
        let patternParts = pattern.split(separator: ".")
        let keyParts = key.split(separator: ".")
        guard patternParts.count == keyParts.count else { return false }
        return zip(patternParts, keyParts).allSatisfy { $0 == "*" || $0 == $1 }
    }

    static func isPrefix(_ key: String, of pattern: String) -> Bool {
        let patternParts = pattern.split(separator: ".")
        let keyParts = key.split(separator: ".")
        guard keyParts.count < patternParts.count else { return false }
        return zip(patternParts, keyParts).allSatisfy { $0 == "*" || $0 == $1 }
    }

    // MARK: Typed access

    /// A string setting.
    public func string(_ key: String) -> String? { entries[key]?.scalar }

    /// A list setting (a YAML list, or comma-separated text).
    public func list(_ key: String) -> [String]? { entries[key]?.list }

    /// A duration setting in seconds (`30s`, `5m`, `2h`, `1d`, or a number of seconds).
    public func duration(_ key: String) throws(ConfigurationError) -> Int64? {
        guard let entry = entries[key], let text = entry.scalar else { return nil }
        guard let seconds = DurationText.seconds(text), seconds >= 0 else {
            throw ConfigurationError(
                location: entry.location, key: key, message: "expected a duration like 30s or 5m, found \(text.debugDescription)")
        }
        return seconds
    }

    /// A list of durations in seconds.
    public func durations(_ key: String) throws(ConfigurationError) -> [Int64]? {
        guard let entry = entries[key], let items = entry.list else { return nil }
        var result: [Int64] = []
        for item in items {
            guard let seconds = DurationText.seconds(item), seconds >= 0 else {
                throw ConfigurationError(
                    location: entry.location, key: key, message: "expected durations like 24h, found \(item.debugDescription)")
            }
            result.append(seconds)
        }
        return result
    }

    /// A number setting.
    public func number(_ key: String, range: ClosedRange<Double>? = nil) throws(ConfigurationError) -> Double? {
        guard let entry = entries[key], let text = entry.scalar else { return nil }
        guard let value = Double(text), value.isFinite, range.map({ $0.contains(value) }) ?? true else {
            let bound = range.map { " between \($0.lowerBound) and \($0.upperBound)" } ?? ""
            throw ConfigurationError(location: entry.location, key: key, message: "expected a number\(bound), found \(text.debugDescription)")
        }
        return value
    }

    /// An integer setting.
    public func integer(_ key: String, range: ClosedRange<Int>? = nil) throws(ConfigurationError) -> Int? {
        guard let entry = entries[key], let text = entry.scalar else { return nil }
        guard let value = Int(text), range.map({ $0.contains(value) }) ?? true else {
            let bound = range.map { " between \($0.lowerBound) and \($0.upperBound)" } ?? ""
            throw ConfigurationError(location: entry.location, key: key, message: "expected an integer\(bound), found \(text.debugDescription)")
        }
        return value
    }

    /// A boolean setting (`true`/`false`/`yes`/`no`).
    public func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let entry = entries[key], let text = entry.scalar else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            throw ConfigurationError(location: entry.location, key: key, message: "expected true or false, found \(text.debugDescription)")
        }
    }

    /// One of a fixed set of values.
    public func choice<T: RawRepresentable>(_ key: String, as type: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String, T: CaseIterable {
        guard let entry = entries[key], let text = entry.scalar else { return nil }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(location: entry.location, key: key, message: "expected one of \(allowed), found \(text.debugDescription)")
        }
        return value
    }

    /// The names under a map section (`sinks` → `["erp", "ops"]`), sorted.
    public func names(under section: String) -> [String] {
        let prefix = section + "."
        return Set(entries.keys.filter { $0.hasPrefix(prefix) }.compactMap { $0.dropFirst(prefix.count).split(separator: ".").first.map(String.init) })
            .sorted()
    }

    /// Where a key's value came from.
    public func location(of key: String) -> String { entries[key]?.location ?? path }
}
