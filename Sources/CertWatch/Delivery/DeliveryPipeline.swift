/// The schedule of one sink's delivery pipeline, as a plain state machine (no I/O, no clock):
/// which claimed deliveries to send, when to claim more from the outbox and when to record the
/// finished attempts. ``Dispatcher`` carries out its steps and reports back.
///
/// - Up to `concurrency` sends are in flight at any time; a finished send is replaced at once
///   from the deliveries claimed ahead, without waiting for the slowest of a batch.
/// - The store does one thing at a time, beside the sends: a claim, when fewer than
///   2 × `concurrency` claimed deliveries wait to be sent (of up to 4 × `concurrency`, so a claim is under way well before the sends run dry); otherwise a record
///   of the finished attempts in one transaction, once `concurrency` of them have finished or no
///   more are coming (nothing in flight, or stopping). The store's time per delivery — a
///   transaction's fixed cost shared by many — is what this saves; the events are decoded by the
///   sends, off the store.
/// - A delivery is *held* from its claim until its attempt is recorded: claims exclude held
///   deliveries, so none is sent twice. A later delivery of the same certificate is not claimed
///   while an earlier one is open in the store, so ordering stays the claim query's business.
/// - After a 410 Gone or a refused target, or when asked to ``stop()`` (graceful shutdown), nothing new is claimed or
///   sent; the sends in flight finish and every finished attempt is still recorded.
struct DeliveryPipeline {
    /// What to do next.
    enum Step {
        /// Send one claimed delivery; report with ``sent(_:)``.
        case send(DueDelivery)
        /// Claim up to `limit` due deliveries that are not `held`; report with ``claimed(_:limit:)``.
        case claim(limit: Int, excluding: Set<Int64>)
        /// Record these attempts (flush the sink first); report with ``recorded(_:)``.
        case record([Dispatcher.Attempt])
    }

    /// Sends in flight at most.
    let concurrency: Int
    /// Deliveries asked for per claim: 4 × `concurrency`.
    let claimLimit: Int

    /// Claimed, and sent from `waitingStart` on.
    private var waiting: [DueDelivery] = []
    private var waitingStart = 0
    private(set) var held: Set<Int64> = []
    private(set) var sending = 0
    private var finished: [Dispatcher.Attempt] = []
    private(set) var storeBusy = false
    /// The last claim found fewer than it asked for, and nothing was recorded since (a record
    /// can release a certificate's next delivery).
    private var drained = false
    private(set) var stopped = false

    /// - Parameter concurrency: sends in flight at most (the sink's `concurrency`, at least 1).
    init(concurrency: Int) {
        self.concurrency = max(1, concurrency)
        claimLimit = 4 * self.concurrency
    }

    /// Claimed deliveries not yet sent.
    var waitingCount: Int { waiting.count - waitingStart }
    /// Entries kept for claimed deliveries, the sent ones included until the next claim.
    var waitingStorage: Int { waiting.count }

    /// Nothing in flight, nothing to record, and nothing more to claim (or stopped).
    var isIdle: Bool {
        sending == 0 && !storeBusy && finished.isEmpty && (stopped || (drained && waitingCount == 0))
    }

    /// The steps to take now (possibly none: wait for a report).
    mutating func next() -> [Step] {
        var steps: [Step] = []
        while !stopped, sending < concurrency, waitingStart < waiting.count {
            steps.append(.send(waiting[waitingStart]))
            waitingStart += 1
            sending += 1
        }
        guard !storeBusy else { return steps }
        if !stopped, !drained, waitingCount < 2 * concurrency {
            storeBusy = true
            steps.append(.claim(limit: claimLimit, excluding: held))
        } else if !finished.isEmpty, finished.count >= concurrency || sending == 0 || stopped {
            storeBusy = true
            steps.append(.record(finished))
            finished.removeAll(keepingCapacity: true)
        }
        return steps
    }

    /// A claim returned `items` (asked for `limit`).
    mutating func claimed(_ items: [DueDelivery], limit: Int) {
        storeBusy = false
        drained = items.count < limit
        waiting.removeFirst(waitingStart)  // drop what was sent (at most a claim's worth is left)
        waitingStart = 0
        for item in items where held.insert(item.delivery.id).inserted {
            waiting.append(item)
        }
    }

    /// A send finished. A 410 Gone or a refused target stops the pipeline: the sink is about to be disabled.
    mutating func sent(_ attempt: Dispatcher.Attempt) {
        sending -= 1
        finished.append(attempt)
        if [.gone, .refused].contains(attempt.response.outcome) { stop() }
    }

    /// The attempts of these deliveries are recorded: they are released.
    mutating func recorded(_ ids: [Int64]) {
        storeBusy = false
        drained = false
        for id in ids { held.remove(id) }
    }

    /// Claims and sends nothing more; what is in flight finishes and is recorded. Claimed
    /// deliveries not yet sent are released (they stay due in the store).
    mutating func stop() {
        guard !stopped else { return }
        stopped = true
        for item in waiting[waitingStart...] { held.remove(item.delivery.id) }
        waiting.removeAll()
        waitingStart = 0
    }
}
