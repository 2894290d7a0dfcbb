import Foundation

/// Unix-second helpers: certwatch keeps every time as Unix seconds (`Int64`) and writes an
/// RFC 3339 copy next to it in events.
public enum UnixTime {
    /// The current wall-clock time in Unix seconds.
    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970.rounded(.down)) }

    /// RFC 3339 text of a Unix-second time in UTC, e.g. `2024-12-14T09:38:02Z`.
    /// Times outside years 0001–9999 (Douyin's documented example carries such values) are
    /// written as the plain number of seconds.
    public static func rfc3339(_ seconds: Int64) -> String {
        guard seconds > -62_135_596_800, seconds < 253_402_300_800 else { return String(seconds) }
        return Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
    }

    /// Parses an RFC 3339 time (`2024-12-14T09:38:02Z`, offsets allowed) to Unix seconds.
    public static func parse(rfc3339 text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970) }
    }
}

/// A duration written as `30s`, `5m`, `2h`, `1d` or a combination (`1h30m`), in seconds.
public enum DurationText {
    /// Parses duration text to seconds; `nil` when malformed. A bare number is seconds.
    public static func seconds(_ text: String) -> Int64? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let plain = Int64(text) { return plain }
        var total: Int64 = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let value = Int64(digits) else { return nil }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            total += value * unit
            digits = ""
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }

    /// Writes seconds as the shortest duration text (`90` → `1m30s`, `86400` → `1d`).
    public static func format(_ seconds: Int64) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var text = seconds < 0 ? "-" : ""
        rest = abs(rest)
        for (unit, suffix) in [(Int64(86400), "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            text += "\(rest / unit)\(suffix)"
            rest %= unit
        }
        return text
    }
}
