import DouyinModels
import Foundation

/// An `on:` entry: an exact event type, a prefix (`certificate.*`) or everything (`*`).
public enum EventPattern: Sendable, Hashable, CustomStringConvertible {
    /// `*`
    case any
    /// `certificate.*`: types starting with `certificate.`.
    case prefix(String)
    /// `certificate.verified`
    case exact(EventType)

    /// Parses an `on:` entry; nil when it matches no known event type.
    public init?(_ text: String) {
        if text == "*" {
            self = .any
        } else if text.hasSuffix(".*") {
            let prefix = String(text.dropLast())
            guard EventType.allCases.contains(where: { $0.rawValue.hasPrefix(prefix) }) else { return nil }
            self = .prefix(prefix)
        } else if let type = EventType(rawValue: text) {
            self = .exact(type)
        } else {
            return nil
        }
    }

    /// Whether `type` matches.
    public func matches(_ type: EventType) -> Bool {
        switch self {
        case .any: return true
        case .prefix(let prefix): return type.rawValue.hasPrefix(prefix)
        case .exact(let exact): return type == exact
        }
    }

    public var description: String {
        switch self {
        case .any: return "*"
        case .prefix(let prefix): return prefix + "*"
        case .exact(let type): return type.rawValue
        }
    }
}

/// Alertmanager-style grouping of a rule: events with equal `by` values collect for `wait` before
/// the first summary, then at most one summary per `interval`, listing at most `max` events.
public struct GroupPolicy: Sendable, Hashable, Codable {
    /// Field paths whose values form the group key.
    public var by: [String]
    /// Seconds to wait before the first summary of a new group.
    public var wait: Int64
    /// Seconds between summaries of a group.
    public var interval: Int64
    /// At most this many events are listed in one summary (all are counted).
    public var max: Int

    public init(by: [String] = [], wait: Int64 = 30, interval: Int64 = 300, max: Int = 50) {
        self.by = by
        self.wait = wait
        self.interval = interval
        self.max = max
    }
}

/// One loaded, checked rule.
public struct Rule: Sendable {
    /// Unique name.
    public var name: String
    /// The event types it takes.
    public var on: [EventPattern]
    /// The `when` condition, if any.
    package var condition: Expression?
    /// The `when` text as written.
    public var conditionText: String?
    /// Compiled regexes of the condition.
    package var regexes: [String: CompiledRegex]
    /// Sink names to deliver to.
    public var deliver: [String]
    /// `drop: true`: matching events stop here and reach no later rule.
    public var drop: Bool
    /// Body template, if any.
    public var template: RuleTemplate?
    /// Grouping, if any.
    public var group: GroupPolicy?
    /// Where the rule starts.
    public var position: SourcePosition

    /// Whether the rule takes `event` of this type.
    public func accepts(_ type: EventType) -> Bool { on.contains { $0.matches(type) } }

    /// Whether the rule matches an event (type and condition) given its JSON tree.
    public func matches(type: EventType, tree: @autoclosure () -> JSONValue, now: Int64) -> Bool {
        guard accepts(type) else { return false }
        guard let condition else { return true }
        return Evaluator(now: now, regexes: regexes).matches(condition, tree())
    }
}
