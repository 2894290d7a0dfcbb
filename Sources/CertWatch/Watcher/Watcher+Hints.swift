import CertWatchCore
import Logging
import ServiceLifecycle

extension Watcher {
    /// The hint lane of ``run()``: polls the watches a Douyin push hinted
    /// (``PollSchedule/hint(_:now:)``) as soon as the hint is taken (``hintTaken()``), up to
    /// ``WatcherConfiguration/concurrency`` at once, without waiting behind the routine workers'
    /// claimed batches. Each hinted poll still takes a token of the QPS budget, ahead of routine
    /// polls (``QPSBudget/acquire(priority:)``). Wakes on every hint taken in this process, and
    /// at least every ``WatcherConfiguration/idleCheck`` seconds for hints taken elsewhere.
    func pollHints() async {
        let logger = Logger(label: "certwatch.watcher.hints")
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let generation = hintSignal.generation
            let now = clock.unixNow
            // A read first: the write that claims is taken only when a hint is due.
            let next = (try? await store.nextHint(now: now)) ?? nil
            if let next, next <= now {
                do {
                    let hinted = try await store.claimHinted(
                        now: now, limit: max(configuration.concurrency, 1), lease: lease)
                    if !hinted.isEmpty {
                        await withDiscardingTaskGroup { group in
                            for watch in hinted { group.addTask { _ = await self.poll(watch) } }
                        }
                        continue
                    }
                } catch {
                    logger.error("cannot claim hinted watches", metadata: ["error": "\(error)"])
                }
            }
            let wait = min(configuration.idleCheck, max(0.05, next.map { Double($0) - clock.now() } ?? configuration.idleCheck))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.hintSignal.wait(after: generation) }
                group.addTask { try? await self.clock.sleep(seconds: wait) }
                group.addTask { try? await gracefulShutdown() }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
