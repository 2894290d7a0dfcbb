import CertWatchCore
import DouyinOpenAPI

/// A certificate's stored state: its normalized snapshot and the raw Douyin JSON.
public struct StoredCertificate: Sendable, Hashable {
    /// The snapshot.
    public var snapshot: CertificateSnapshot
    /// The raw certificate JSON as received (merged `certificates`/`certificates_v2`).
    public var raw: JSONValue

    public init(snapshot: CertificateSnapshot, raw: JSONValue) {
        self.snapshot = snapshot
        self.raw = raw
    }
}

/// Everything one poll writes (``PollSchedule/commitPoll(_:route:)``).
public struct PollCommit: Sendable {
    /// The watch polled.
    public var watchID: String
    /// When the poll completed, Unix seconds.
    public var polledAt: Int64
    /// The certificates observed.
    public var certificates: [StoredCertificate]
    /// The events detected.
    public var events: [CertWatchEvent]
    /// The next poll, Unix seconds, or `nil` to stop polling (the watch becomes ``finalState``).
    public var nextPollAt: Int64?
    /// Whether ``nextPollAt`` is a targeted poll (``PollPolicy/Plan/targeted``), served ahead of routine ones.
    public var nextPollTargeted: Bool
    /// The state when polling stops: `done`, or `failed` for a permanent error.
    public var finalState: Watch.State
    /// Transient failures in a row (0 after a success).
    public var consecutiveFailures: Int64
    /// The error to record, if any.
    public var lastError: String?
    /// When the current run of failed polls began, Unix seconds (`nil` after a success).
    public var failingSince: Int64?
    /// Set when the watch is stalled (`watch.stalled` emitted), `nil` when it is not.
    public var stalledSince: Int64?
    /// How the poll came about (stored with its events): `push` for a poll a push hint made due.
    public var detectedBy: Detection?

    public init(
        watchID: String, polledAt: Int64, certificates: [StoredCertificate] = [], events: [CertWatchEvent] = [],
        nextPollAt: Int64?, nextPollTargeted: Bool = false, finalState: Watch.State = .done, consecutiveFailures: Int64 = 0,
        lastError: String? = nil,
        failingSince: Int64? = nil, stalledSince: Int64? = nil, detectedBy: Detection? = nil
    ) {
        self.failingSince = failingSince
        self.stalledSince = stalledSince
        self.detectedBy = detectedBy
        self.watchID = watchID
        self.polledAt = polledAt
        self.certificates = certificates
        self.events = events
        self.nextPollAt = nextPollAt
        self.nextPollTargeted = nextPollTargeted
        self.finalState = finalState
        self.consecutiveFailures = consecutiveFailures
        self.lastError = lastError
    }
}
