import Logging
import ServiceLifecycle
import UnixSignals

extension CertWatchServices {
    /// Runs every service until graceful shutdown or until a service fails.
    ///
    /// SIGTERM or SIGINT starts a graceful shutdown in the order of ``CertWatchServices``: the HTTP
    /// server stops accepting, the watcher's polls in flight complete and commit, then the
    /// dispatcher records its deliveries in flight and stops. A second SIGTERM or SIGINT cancels
    /// every service at once (polls in flight are abandoned: nothing of them commits, and they are
    /// redone after restart); so does a graceful shutdown that takes longer than
    /// ``Options/shutdownGrace``. Returns when every service has stopped; throws the error of a
    /// service that failed (after a second signal, errors of cancelled services are only logged).
    public func run() async throws {
        try await run(signals: await UnixSignalsSequence(trapping: .sigterm, .sigint))
    }

    /// ``run()`` with the signals from `signals` (tests feed their own): the first starts a
    /// graceful shutdown, the second cancels the group.
    public func run(signals: some AsyncSequence<UnixSignal, Never> & Sendable) async throws {
        let group = self.group
        let logger = self.logger
        // Joins the replicas before the watcher's first request (``ReplicaHeartbeat/beat()``); on
        // failure the heartbeat service tries again as it starts.
        do {
            try await heartbeat.beat()
        } catch {
            logger.error("cannot record the first heartbeat", metadata: ["error": "\(error)"])
        }
        var escalated = false
        do {
            try await withThrowingTaskGroup(of: Ending.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    return .groupStopped
                }
                tasks.addTask {
                    var caught = 0
                    for await signal in signals {
                        caught += 1
                        if caught == 1 {
                            logger.info("\(signal): shutting down gracefully (send it again to stop at once)")
                            await group.triggerGracefulShutdown()
                        } else {
                            logger.warning("\(signal) again: cancelling every service now")
                            return .escalated
                        }
                    }
                    return .signalsEnded
                }
                while let ending = try await tasks.next() {
                    switch ending {
                    case .groupStopped:
                        tasks.cancelAll()  // stop listening for signals
                    case .escalated:
                        escalated = true
                        tasks.cancelAll()  // service-lifecycle cancels every service of a cancelled group
                    case .signalsEnded:
                        continue  // keep running until the group stops
                    }
                }
            }
        } catch where escalated {
            logger.debug("services stopped by cancellation", metadata: ["error": "\(error)"])
        }
    }

    private enum Ending: Sendable {
        case groupStopped, signalsEnded, escalated
    }
}
