import Foundation

/// The merchant accounts of the configuration file (`accounts.<account_id>.*`), saved to the
/// database at every start (``AccountRegistry/saveAccount(_:source:now:)``, source `file`):
///
/// ```yaml
/// accounts:
///   "7100000000000000001":
///     name: 喜茶总店
///     poi_ids: ["7100000000000000101"]
///     feed: on              # the change feed (default on)
///     feed_interval: 15s
///     sweep: on             # the sweep (default on)
///     sweep_interval: 5m
/// ```
///
/// The key is the `account_id` (1–32 digits; quote it, YAML reads a long number otherwise).
public struct AccountsConfiguration: Sendable, Hashable {
    /// The accounts, by `account_id`.
    public var accounts: [AccountSettings]

    public init(accounts: [AccountSettings] = []) { self.accounts = accounts }

    /// The keys under `accounts.<account_id>`.
    static let knownKeys = [
        "accounts.*.name", "accounts.*.poi_ids", "accounts.*.app", "accounts.*.feed", "accounts.*.feed_interval", "accounts.*.sweep",
        "accounts.*.sweep_interval",
    ]

    /// Reads `accounts.*` from `file`. Throws ``ConfigurationError`` at the value's file:line:col: an
    /// `account_id` or `poi_id` that is not 1–32 digits, a malformed `feed`/`sweep` or interval.
    public init(file: ConfigurationFile) throws(ConfigurationError) {
        var accounts: [AccountSettings] = []
        for id in file.names(under: "accounts") {
            let key = { (suffix: String) in "accounts.\(id).\(suffix)" }
            guard AccountSettings.isDouyinID(id) else {
                throw ConfigurationError(
                    location: file.location(of: file.names(under: "accounts.\(id)").first.map { key($0) } ?? "accounts"),
                    key: "accounts.\(id)", message: "an account_id is 1–32 decimal digits, found \(id.debugDescription)")
            }
            var settings = AccountSettings(accountID: id, name: try file.string(key("name")), poiIDs: try file.list(key("poi_ids")) ?? [])
            settings.app = try file.string(key("app"))
            settings.feed.enabled = try file.bool(key("feed")) ?? true
            settings.sweep.enabled = try file.bool(key("sweep")) ?? true
            for (suffix, path) in [("feed_interval", \AccountSettings.feed.interval), ("sweep_interval", \AccountSettings.sweep.interval)] {
                guard let seconds = try file.duration(key(suffix)) else { continue }
                guard (1...86_400).contains(seconds) else {
                    throw ConfigurationError(location: file.location(of: key(suffix)), key: key(suffix), message: "expected 1s to 1d, found \(seconds) s")
                }
                settings[keyPath: path] = seconds
            }
            do {
                try settings.validate()
            } catch {
                throw ConfigurationError(location: file.location(of: key("poi_ids")), key: key("poi_ids"), message: error.message)
            }
            accounts.append(settings)
        }
        self.accounts = accounts
    }
}
