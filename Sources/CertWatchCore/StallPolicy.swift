/// When a watch whose polls keep failing counts as stalled: after ``failures`` failed polls in a
/// row, or when its failures have lasted ``duration`` seconds without a success. A pure rule; the
/// watcher emits one `watch.stalled` per run of failures and `watch.recovered` on the next success.
/// A rate-limited poll (2119003, the app's quota rather than the watch) is passed with
/// `consecutiveFailures` 0, so only ``duration`` can make it stalled.
package struct StallPolicy: Sendable, Hashable {
    /// Failed polls in a row that make a watch stalled (default 5; 0 turns this check off).
    package var failures: Int64
    /// Seconds of failing without a success that make a watch stalled (default 3,600; 0 turns this
    /// check off).
    package var duration: Int64

    package init(failures: Int64 = 5, duration: Int64 = 3_600) {
        self.failures = failures
        self.duration = duration
    }

    /// Whether a watch with `consecutiveFailures` failed polls, failing since `failingSince` (Unix
    /// seconds), is stalled at `now`.
    package func isStalled(consecutiveFailures: Int64, failingSince: Int64, now: Int64) -> Bool {
        (failures > 0 && consecutiveFailures >= failures) || (duration > 0 && now - failingSince >= duration)
    }
}
