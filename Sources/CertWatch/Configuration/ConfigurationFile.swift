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

    /// Further problems found in the same pass (every unknown key of a file, not only the first).
    public var others: [ConfigurationError] = []

    public init(location: String, key: String? = nil, message: String) {
        self.location = location
        self.key = key
        self.message = message
    }

    /// `location: key: message`, one line per problem.
    public var description: String {
        ([self] + others).map { "\($0.location): " + ($0.key.map { "\($0): " } ?? "") + $0.message }.joined(separator: "\n")
    }
}

/// The YAML configuration file, flattened to key paths (`douyin.base_url`, `sinks.erp.url`), with
/// `${VAR}` and `${VAR:-default}` references expanded from the environment and every setting
/// overridable by an environment variable named `CERTWATCH_` + the key path in upper case with
/// `.` → `_` (`CERTWATCH_DOUYIN_BASE_URL`, `CERTWATCH_SINKS_ERP_SECRET` for a sink in the file).
/// An overridden key never needs the file's `${VAR}`.
///
/// Keys must match the known patterns (`*` = any one name); an unknown key (with a "did you mean")
/// or a malformed value is a ``ConfigurationError`` with the file:line:col of the value. A
/// `${VAR}` that is not set is an error only when the key is read, so a command that does not use
/// a key (`rules check` and the Douyin credentials) does not need its variable.
public struct ConfigurationFile: Sendable {
    /// A value and where it came from.
    public struct Entry: Sendable, Hashable {
        /// A scalar's text, or nil for a list.
        public var scalar: String?
        /// A list's items.
        public var list: [String]?
        /// `file:line:col` or `env NAME`.
        public var location: String
        /// The `${VAR}` in the value that is not set (reading the key throws).
        var missingVariable: String?

        /// Whether the value was written in the file (not given by the environment).
        var isFromFile: Bool { !location.hasPrefix("env ") }
    }

    /// The file path ("" when none).
    public let path: String
    /// Entries by key path.
    public private(set) var entries: [String: Entry] = [:]
    /// Unknown keys met while reading the file, thrown together once it is read.
    private var unknownKeys: [ConfigurationError] = []
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
            if var first = unknownKeys.first {
                first.others = Array(unknownKeys.dropFirst())
                throw first
            }
        }
        for key in Set(knownKeys.filter { !$0.contains("*") } + entries.keys + Self.instances(of: knownKeys, in: Array(entries.keys))) {
            let name = Self.environmentName(key)
            if let value = environment[name] {
                entries[key] = Entry(
                    scalar: value, list: value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
                    location: "env \(name)")
            }
        }
    }

    /// The wildcard keys (`sinks.*.allow_private`) for each name the file uses at the wildcard
    /// (`sinks.erp.allow_private` when the file has `sinks.erp.…`): a sink in the file can have any
    /// of its keys set by a `CERTWATCH_` variable, also one the file does not write.
    static func instances(of patterns: [String], in keys: [String]) -> [String] {
        var result: [String] = []
        for pattern in patterns where pattern.contains("*") {
            let parts = pattern.split(separator: ".", omittingEmptySubsequences: false)
            guard let star = parts.firstIndex(of: "*"), parts.filter({ $0 == "*" }).count == 1 else { continue }
            let prefix = parts[..<star]
            var names: Set<Substring> = []
            for key in keys {
                let keyParts = key.split(separator: ".", omittingEmptySubsequences: false)
                if keyParts.count > star, keyParts[..<star].elementsEqual(prefix) { names.insert(keyParts[star]) }
            }
            for name in names {
                var instance = parts
                instance[star] = name
                result.append(instance.joined(separator: "."))
            }
        }
        return result
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
                    let hint = Spelling.hint(for: path, among: Self.candidates(for: path, knownKeys: knownKeys))
                    // Every unknown key of the file is reported at once (thrown after the walk).
                    unknownKeys.append(ConfigurationError(location: keyLocation, key: path, message: "unknown key\(hint)"))
                    continue
                }
                try flatten(value, prefix: path, knownKeys: knownKeys)
            }
        case .sequence(let sequence):
            var items: [String] = []
            var missing: String?
            for item in sequence {
                guard let text = item.string else {
                    throw ConfigurationError(location: location, key: prefix, message: "expected a list of values")
                }
                let expanded = try expand(text, key: prefix, location: location)
                items.append(expanded.text)
                missing = missing ?? expanded.missing
            }
            entries[prefix] = Entry(scalar: nil, list: items, location: location, missingVariable: missing)
        case .scalar(let scalar):
            guard knownKeys.contains(where: { Self.matches(pattern: $0, key: prefix) }) else {
                throw ConfigurationError(location: location, key: prefix, message: "expected a section, found a value")
            }
            let expanded = try expand(scalar.string, key: prefix, location: location)
            entries[prefix] = Entry(
                scalar: expanded.text, list: [expanded.text], location: location, missingVariable: expanded.missing)
        case .alias:
            throw ConfigurationError(location: location, key: prefix, message: "YAML aliases are not supported")
        }
    }

    /// Expands `${VAR}` (and `${VAR:-default}`) from the environment; `missing` names the first
    /// variable that is not set (nothing is expanded for a key its `CERTWATCH_` variable overrides).
    private func expand(_ text: String, key: String, location: String) throws(ConfigurationError)
        -> (text: String, missing: String?)
    {
        if environment[Self.environmentName(key)] != nil { return (text, nil) }
        var result = ""
        var missing: String?
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
                missing = missing ?? parts[0]
            }
            rest = rest[rest.index(after: end)...]
        }
        return (result + rest, missing)
    }

    /// The known keys and sections spelled with `key`'s own names in place of `*`, for "did you mean".
    static func candidates(for key: String, knownKeys: [String]) -> Set<String> {
        let keyParts = key.split(separator: ".")
        var result = Set<String>()
        for pattern in knownKeys {
            let parts = pattern.split(separator: ".")
            for count in 1...parts.count {
                let spelled = parts.prefix(count).enumerated().map { index, part in
                    part == "*" && index < keyParts.count ? keyParts[index] : part
                }
                result.insert(spelled.joined(separator: "."))
            }
        }
        return result
    }

    /// The entry of `key`; throws when its value names a `${VAR}` that is not set.
    private func entry(_ key: String) throws(ConfigurationError) -> Entry? {
        guard let entry = entries[key] else { return nil }
        if let variable = entry.missingVariable {
            throw ConfigurationError(
                location: entry.location, key: key,
                message: "environment variable \(variable) is not set (set it, or set \(Self.environmentName(key)) to override this key)")
        }
        return entry
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

    /// Whether `key` has a value (in the file or the environment), without reading it.
    public func contains(_ key: String) -> Bool { entries[key] != nil }

    /// A string setting. Throws when its `${VAR}` is not set.
    public func string(_ key: String) throws(ConfigurationError) -> String? { try entry(key)?.scalar }

    /// A list setting (a YAML list, or comma-separated text). Throws when a `${VAR}` is not set.
    public func list(_ key: String) throws(ConfigurationError) -> [String]? { try entry(key)?.list }

    /// A path setting: a relative path written in the file is resolved against the file's directory
    /// (as Prometheus and Alertmanager do); one from the environment against the working directory.
    public func path(_ key: String) throws(ConfigurationError) -> String? {
        guard let entry = try entry(key), let text = entry.scalar else { return nil }
        return entry.isFromFile ? resolvedPath(text) : text
    }

    /// A list of paths, resolved like ``path(_:)``.
    public func paths(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let entry = try entry(key), let items = entry.list else { return nil }
        return entry.isFromFile ? items.map(resolvedPath) : items
    }

    /// `text` against the file's directory when relative (and a file was read).
    func resolvedPath(_ text: String) -> String {
        guard !path.isEmpty, !text.hasPrefix("/"), !text.isEmpty else { return text }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        // Keep a trailing slash (`rules/`): it marks a directory for readers of the value.
        let resolved = directory.appendingPathComponent(text).path
        return text.hasSuffix("/") && !resolved.hasSuffix("/") ? resolved + "/" : resolved
    }

    /// A duration setting in seconds (`30s`, `5m`, `2h`, `1d`, or a number of seconds).
    public func duration(_ key: String) throws(ConfigurationError) -> Int64? {
        guard let entry = try entry(key), let text = entry.scalar else { return nil }
        guard let seconds = DurationText.seconds(text), seconds >= 0 else {
            throw ConfigurationError(
                location: entry.location, key: key, message: "expected a duration like 30s or 5m, found \(text.debugDescription)")
        }
        return seconds
    }

    /// A list of durations in seconds.
    public func durations(_ key: String) throws(ConfigurationError) -> [Int64]? {
        guard let entry = try entry(key), let items = entry.list else { return nil }
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
        guard let entry = try entry(key), let text = entry.scalar else { return nil }
        guard let value = Double(text), value.isFinite, range.map({ $0.contains(value) }) ?? true else {
            let bound = range.map { " between \($0.lowerBound) and \($0.upperBound)" } ?? ""
            throw ConfigurationError(location: entry.location, key: key, message: "expected a number\(bound), found \(text.debugDescription)")
        }
        return value
    }

    /// An integer setting.
    public func integer(_ key: String, range: ClosedRange<Int>? = nil) throws(ConfigurationError) -> Int? {
        guard let entry = try entry(key), let text = entry.scalar else { return nil }
        guard let value = Int(text), range.map({ $0.contains(value) }) ?? true else {
            let bound = range.map { " between \($0.lowerBound) and \($0.upperBound)" } ?? ""
            throw ConfigurationError(location: entry.location, key: key, message: "expected an integer\(bound), found \(text.debugDescription)")
        }
        return value
    }

    /// A boolean setting (`true`/`false`/`yes`/`no`).
    public func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let entry = try entry(key), let text = entry.scalar else { return nil }
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
        guard let entry = try entry(key), let text = entry.scalar else { return nil }
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
