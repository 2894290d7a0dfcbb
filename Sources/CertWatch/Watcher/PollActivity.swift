import CertWatchCore
import DouyinOpenAPI
import Synchronization

/// What this process's watcher has asked Douyin lately, for the operator console: certificate
/// queries per second over the last minute, and the Douyin errors by code (how many since the
/// process started, the last one's time, logid and watch). In memory: a restart starts afresh, and
/// each replica knows only its own polls.
package final class PollActivity: Sendable {
    /// One Douyin error code and its most recent occurrence.
    package struct ErrorCount: Sendable, Hashable {
        /// Douyin's error code, else `HTTP <status>`, else the error class (`retry` for a transport error).
        package var code: String
        /// The error class (`retry`, `slow_down`, `refresh_token`, `permanent`, …).
        package var errorClass: String
        /// How many since the process started.
        package var count: Int
        /// When the last one happened, Unix seconds.
        package var lastAt: Int64
        /// The last one's `extra.logid` (what Douyin support asks for), if any.
        package var lastLogid: String?
        /// The watch the last one was for.
        package var lastWatchID: String
        /// The last one's description.
        package var lastMessage: String
    }

    private struct State {
        /// Queries per Unix second: the last ``window`` complete seconds and the current one (index: second % (window + 1)).
        var seconds: [(second: Int64, count: Int)] = Array(repeating: (-1, 0), count: PollActivity.window + 1)
        var errors: [String: ErrorCount] = [:]
    }

    /// Seconds the query rate is averaged over.
    static let window = 60
    private let state = Mutex(State())

    /// Nothing recorded yet.
    package init() {}

    /// Counts one certificate query at `now` (Unix seconds).
    package func recordQuery(at now: Int64) {
        state.withLock { state in
            let slot = Int(now.magnitude % UInt64(Self.window + 1))
            if state.seconds[slot].second != now { state.seconds[slot] = (now, 0) }
            state.seconds[slot].count += 1
        }
    }

    /// Records a failed query of `watchID` at `now` (Unix seconds).
    package func recordError(_ error: DouyinAPIError, watchID: String, at now: Int64) {
        let code = error.code.map(String.init) ?? error.httpStatus.map { "HTTP \($0)" } ?? error.errorClass.rawValue
        state.withLock { state in
            var entry = state.errors[code] ?? ErrorCount(
                code: code, errorClass: error.errorClass.rawValue, count: 0, lastAt: now, lastLogid: nil, lastWatchID: watchID,
                lastMessage: "")
            entry.count += 1
            entry.errorClass = error.errorClass.rawValue
            entry.lastAt = now
            entry.lastLogid = error.logid
            entry.lastWatchID = watchID
            entry.lastMessage = error.description
            state.errors[code] = entry
        }
    }

    /// Queries per second over the last minute before `now` (Unix seconds), the current second excluded.
    package func queryRate(now: Int64) -> Double {
        state.withLock { state in
            let total = state.seconds.filter { $0.second < now && $0.second >= now - Int64(Self.window) }.reduce(0) { $0 + $1.count }
            return Double(total) / Double(Self.window)
        }
    }

    /// The error codes seen, the most recent first.
    package var errors: [ErrorCount] {
        state.withLock { $0.errors.values.sorted { ($0.lastAt, $0.code) > ($1.lastAt, $1.code) } }
    }
}
