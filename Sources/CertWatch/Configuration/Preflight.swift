import CertWatchCore
import Foundation

/// What `certwatch serve` checks before it opens the database, and `certwatch config check`
/// prints: `http.listen`, the Douyin credentials and API keys (``CertWatchConfiguration/requireCredentials()``),
/// every HTTP sink's target (``CertWatchConfiguration/checkTargets()``) and the rule files against
/// the configured sinks. Every problem is collected, not only the first.
public struct Preflight: Sendable {
    /// Problems that stop `serve`, each `file:line:col: key: message` (rule files: `file:line:col: message`).
    public var errors: [String] = []
    /// Problems `serve` logs and starts anyway (a sink host that does not resolve now, no rules).
    public var warnings: [String] = []
    /// How many rules load.
    public var ruleCount = 0

    /// Checks `configuration` (reads the rule files and resolves sink hosts; writes nothing).
    public init(_ configuration: CertWatchConfiguration) {
        do {
            _ = try CertWatchServices.address(configuration.listen, location: configuration.file.location(of: "http.listen"))
        } catch { errors.append("\(error)") }
        do { try configuration.requireCredentials() } catch { errors.append("\(error)") }
        do { warnings += try configuration.checkTargets() } catch { errors.append("\(error)") }
        let paths = configuration.rulePaths
        if Outbox.defaultRulesAbsent(paths) {
            warnings.append(Outbox.noRulesWarning)
            return
        }
        let absent = paths.filter { !FileManager.default.fileExists(atPath: $0) }
        guard absent.isEmpty else {
            errors.append(
                "\(configuration.file.location(of: "rules.paths")): rules.paths: no such file or directory: "
                    + absent.joined(separator: ", "))
            return
        }
        do {
            ruleCount = try RuleSet.load(paths: paths, knownSinks: Set(configuration.sinks.map(\.name))).rules.count
        } catch {
            errors += error.diagnostics.map(\.description)
        }
    }
}
