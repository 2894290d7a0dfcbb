import CertWatchCore
import Foundation

/// The Douyin push `Msg-Id`s already handled, by any instance (a repeated push is skipped). Used by
/// the push intake and retention.
public protocol PushMessageLog: Sendable {
    /// Whether the push message `messageID` (Douyin's `Msg-Id`) was handled already, by any instance.
    func pushMessageSeen(_ messageID: String) async throws -> Bool

    /// Remembers that the push message `messageID` was handled at `at` (Unix seconds); again is harmless.
    func rememberPushMessage(_ messageID: String, at: Double) async throws

    /// Forgets the push message ids remembered before `cutoff` (Unix seconds). Returns how many.
    func prunePushMessages(before cutoff: Double) async throws -> Int
}
