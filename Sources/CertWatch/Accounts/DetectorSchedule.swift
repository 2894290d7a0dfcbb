import Foundation

/// When each account's detectors run: a pure decision over the accounts and the clock (no I/O),
/// the model for ``AccountMonitor``.
///
/// A detector runs when it is enabled, not ``DetectorState/Status/notPermitted`` (2190004: the
/// app lacks the API's scope; saving the account again retries it), and its interval has passed
/// since its last run — at once when it never ran (the sweep at start covers what happened while
/// certwatch was down). The window a run asks Douyin for starts at the detector's high-water mark
/// less ``overlap`` (clock skew between Douyin's servers, and records written late), never
/// further back than ``maxLookback``; a first run looks back ``firstLookback``.
package struct DetectorSchedule: Sendable, Hashable {
    /// Seconds each window reaches back before the high-water mark (default 60).
    package var overlap: Int64
    /// How far a first run reaches back, seconds (default 86,400: a day).
    package var firstLookback: Int64
    /// The longest window, seconds (default 7 days): after a long outage, older changes are the
    /// daily reconciliation's to find.
    package var maxLookback: Int64

    /// The most one sweep window reaches past its high-water mark, seconds (default 3,600): a
    /// sweep catching up (a first run, after an outage) reads the history an hour at a time, several
    /// windows per run. A window with more records than a run reads halves the span (down to
    /// ``minSpan``); each success doubles it back.
    package var maxSpan: Int64
    /// The narrowest sweep window, seconds (60).
    package static let minSpan: Int64 = 60

    package init(overlap: Int64 = 60, firstLookback: Int64 = 86_400, maxLookback: Int64 = 7 * 86_400, maxSpan: Int64 = 3_600) {
        self.maxSpan = maxSpan
        self.overlap = overlap
        self.firstLookback = firstLookback
        self.maxLookback = maxLookback
    }

    /// One run to make.
    package struct Run: Sendable, Hashable {
        /// `account_id`.
        package var accountID: String
        /// Which detector.
        package var detector: AccountDetector
    }

    /// The runs due at `now` and when the next one (not due yet) will be, Unix seconds (`nil`: none
    /// is scheduled).
    package func plan(_ accounts: [Account], now: Int64) -> (due: [Run], next: Int64?) {
        var due: [Run] = []
        var next: Int64?
        for account in accounts {
            for detector in AccountDetector.allCases {
                let schedule = detector == .feed ? account.settings.feed : account.settings.sweep
                let state = account.state(of: detector)
                guard schedule.enabled, state.status != .notPermitted else { continue }
                let at = state.lastRunAt.map { $0 + schedule.interval } ?? now
                if at <= now {
                    due.append(Run(accountID: account.accountID, detector: detector))
                } else {
                    next = min(next ?? at, at)
                }
            }
        }
        return (due, next)
    }

    /// The window `[start, end]` (Unix seconds) a run at `now` asks for, from the high-water mark;
    /// a first run (no mark) reaches back `firstLookback` (default ``firstLookback``: the sweep's; the
    /// feed's first run looks back one interval and the overlap, since the sweep covers the history).
    package func window(highWater: Int64?, now: Int64, firstLookback: Int64? = nil, span: Int64? = nil) -> (start: Int64, end: Int64) {
        let mark = max(highWater ?? now - (firstLookback ?? self.firstLookback), now - maxLookback)
        let start = highWater == nil ? mark : mark - overlap
        return (start, span.map { min(now, mark + max($0, Self.minSpan)) } ?? now)
    }

    /// The span of the next sweep window after one that held too many pages (`tooMany`) or succeeded.
    package func nextSpan(after span: Int64, tooMany: Bool) -> Int64? {
        if tooMany { return max(Self.minSpan, span / 2) }
        let doubled = span * 2
        return doubled >= maxSpan ? nil : doubled
    }
}
