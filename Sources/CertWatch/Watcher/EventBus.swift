import CertWatchCore
import Synchronization

/// In-process notification that events were committed: the watcher publishes the appended
/// events; the SSE stream and the dispatcher subscribe and then read the store (the store stays
/// the source of truth, so a slow subscriber never misses anything, it only wakes later).
package final class EventBus: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<[CertWatchEvent]>.Continuation]>([:])
    private let nextID = Mutex(0)

    package init() {}

    /// Publishes freshly appended events to every subscriber (never blocks: each subscriber
    /// buffers the newest 64 batches).
    package func publish(_ events: [CertWatchEvent]) {
        guard !events.isEmpty else { return }
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(events) }
    }

    /// A stream of published batches, ending when the consumer stops iterating.
    package func subscribe() -> AsyncStream<[CertWatchEvent]> {
        let id = nextID.withLock { value -> Int in
            value += 1
            return value
        }
        let (stream, continuation) = AsyncStream<[CertWatchEvent]>.makeStream(bufferingPolicy: .bufferingNewest(64))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Ends every subscription (shutdown).
    package func finish() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}
