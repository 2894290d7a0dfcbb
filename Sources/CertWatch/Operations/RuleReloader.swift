import CertWatchCore
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the rule files on SIGHUP and when a file changes (checked every ``interval`` seconds,
/// debounced: a change must be stable for one interval). A file that fails to check leaves the
/// previous rules active, logs every error with its file:line:col and counts a failure in
/// `certwatch_rule_reloads_total{result="error"}`; a good set takes effect for events committed
/// after it.
package struct RuleReloader: Service {
    let outbox: Outbox
    let paths: [String]
    let sinks: [SinkConfiguration]
    let interval: Double
    let logger: Logger

    package init(outbox: Outbox, paths: [String], sinks: [SinkConfiguration], interval: Double = 2, logger: Logger = Logger(label: "certwatch.rules")) {
        self.outbox = outbox
        self.paths = paths
        self.sinks = sinks
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    logger.info("SIGHUP: reloading rules")
                    reload()
                }
            }
            group.addTask {
                var seen = fingerprint()
                var pending: [String: Date]?
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(interval * 1000))) }
                    let now = fingerprint()
                    if now == seen {
                        pending = nil
                    } else if pending == now {
                        logger.info("rule files changed: reloading")
                        reload()
                        seen = now
                        pending = nil
                    } else {
                        pending = now
                    }
                }
            }
        }
    }

    /// Loads the rules and swaps them in; returns whether the new set is active.
    @discardableResult
    package func reload() -> Bool {
        do {
            let rules = try Outbox.loadRules(paths: paths, sinks: sinks, logger: logger)
            outbox.update(rules: rules)
            CertWatchMetrics.ruleReload(ok: true)
            return true
        } catch {
            CertWatchMetrics.ruleReload(ok: false)
            logger.error("rule reload failed; the previous rules stay active", metadata: ["errors": "\(error)"])
            return false
        }
    }

    /// Modification times of the rule files (a new or removed file changes it too).
    func fingerprint() -> [String: Date] {
        let files = (try? RuleSet.files(in: paths)) ?? []
        var result: [String: Date] = [:]
        for file in files {
            result[file] = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date) ?? .distantPast
        }
        return result
    }
}
