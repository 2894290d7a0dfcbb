import CertWatchCore

/// What a Douyin push names: the ids a hint looks watches up by. Ids are decimal strings (exact,
/// never through `Double`); encrypted codes are Douyin's opaque strings.
public struct HintTargets: Sendable, Hashable {
    /// `order_id`s: watches registered for these orders.
    public var orderIDs: [String]
    /// `certificate_id`s: watches whose stored snapshots hold one of these certificates.
    public var certificateIDs: [String]
    /// `encrypted_code`s: watches registered by one of these codes, or whose snapshots carry it.
    public var encryptedCodes: [String]

    /// Who named them: ``Detection/push`` (Douyin's push), ``Detection/feed`` or ``Detection/sweep``;
    /// the hinted poll's events say so (`detected_by`). A watch already hinted keeps its first source.
    public var source: Detection

    public init(
        orderIDs: [String] = [], certificateIDs: [String] = [], encryptedCodes: [String] = [], source: Detection = .push
    ) {
        self.source = source
        self.orderIDs = orderIDs
        self.certificateIDs = certificateIDs
        self.encryptedCodes = encryptedCodes
    }

    /// Whether it names nothing.
    public var isEmpty: Bool { orderIDs.isEmpty && certificateIDs.isEmpty && encryptedCodes.isEmpty }
}

/// One stored event with how it was detected (``EventLog/detections(after:limit:)``).
public struct EventDetection: Sendable, Hashable {
    /// The event's `sequence`.
    public var sequence: Int64
    /// The event type, e.g. `certificate.verified`.
    public var type: String
    /// The certificate id (the CloudEvents `subject`).
    public var subject: String
    /// When the poll that found it committed, Unix seconds.
    public var time: Int64
    /// `push`, `feed`, `sweep` or `poll`; `nil` for events stored before the `v4-push-hints` migration or appended
    /// outside a poll.
    public var detectedBy: Detection?
}
