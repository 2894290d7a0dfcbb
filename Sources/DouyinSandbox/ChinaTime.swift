/// Calendar arithmetic in China Standard Time (UTC+8, no daylight saving), without Foundation's
/// calendar (fast enough to run per response).
enum ChinaTime {
    /// (year, month, day, hour, minute, second) of Unix time `seconds` in UTC+8.
    static func components(_ seconds: Int64) -> (Int64, Int64, Int64, Int64, Int64, Int64) {
        let local = seconds + 8 * 3_600
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = local - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, secondOfDay / 3_600, secondOfDay / 60 % 60, secondOfDay % 60)
    }

    /// The start (00:00 UTC+8) of the China day holding Unix time `seconds`, Unix seconds.
    static func startOfDay(_ seconds: Int64) -> Int64 {
        let local = seconds + 8 * 3_600
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        return days * 86_400 - 8 * 3_600
    }

    /// `yyyyMMddHHmmss`, the prefix of a Douyin `logid`.
    static func logidPrefix(_ seconds: Int64) -> String {
        let (y, mo, d, h, mi, s) = components(seconds)
        return pad(y, 4) + pad(mo, 2) + pad(d, 2) + pad(h, 2) + pad(mi, 2) + pad(s, 2)
    }

    /// RFC 3339 with `+08:00`.
    static func rfc3339(_ seconds: Int64) -> String {
        let (y, mo, d, h, mi, s) = components(seconds)
        return "\(pad(y, 4))-\(pad(mo, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2))+08:00"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
