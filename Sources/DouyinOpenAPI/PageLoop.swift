/// The decisions of a bounded page loop, as a pure state machine: each answered page goes in, the
/// next page (or cursor) to ask for comes out, or `nil` when the window is read. No I/O.
///
/// - A page that says more remain is followed, at most `maxPages` pages in all; more after that is
///   ``DouyinPagingProblem/tooManyPages(_:)``.
/// - An empty page that says more remain (`has_more`, or `total` above what was read) is followed
///   (the same cursor again; the next page number), at most ``maxEmptyRun`` in a row, then the loop
///   stops with a warning.
/// - A repeated cursor, or a page number that does not advance, is an error.
/// - ``finish(total:collected:path:)`` warns when `total` disagrees with what the pages held.
struct PageLoop: Sendable {
    /// How many empty pages claiming more are followed in a row.
    static let maxEmptyRun = 3

    let maxPages: Int
    private(set) var pages = 0
    private(set) var warnings: [DouyinDecodeWarning] = []
    private var emptyRun = 0
    private var askedCursors: Set<String> = []

    init(maxPages: Int) {
        self.maxPages = max(1, maxPages)
    }

    /// After order page `requested` of `size` answered `count` orders (`fresh` of them not seen on
    /// earlier pages; `seen` distinct orders so far): the next page number, or `nil` when done.
    /// Full pages are followed; a short page ends the loop; an empty page only when `total` says more.
    mutating func nextPage(
        requested: Int, size: Int, answered: Int?, count: Int, fresh: Int, seen: Int, total: Int?, logid: String?
    ) throws(DouyinAPIError) -> Int? {
        if let answered, answered != requested {
            throw Self.error(.pageDidNotAdvance(requested: requested, answered: answered), logid: logid)
        }
        if count > 0, fresh == 0 { throw Self.error(.pageDidNotAdvance(requested: requested, answered: nil), logid: logid) }
        let more = count > 0 ? count >= size : (total.map { seen < $0 } ?? false)
        return try proceed(more: more, empty: count == 0, logid: logid) ? requested + 1 : nil
    }

    /// After the records page asked for with `cursor` answered `count` records ending on `last`:
    /// the next cursor, or `nil` when done. `has_more` decides when present, else a full page goes on.
    mutating func nextCursor(
        cursor: String, size: Int, count: Int, last: String?, hasMore: Bool?, logid: String?
    ) throws(DouyinAPIError) -> String? {
        askedCursors.insert(cursor)
        let more = hasMore ?? (count >= size)
        guard more else {
            pages += 1
            return nil
        }
        let next = count > 0 ? (last ?? cursor) : cursor
        if count > 0, askedCursors.contains(next) { throw Self.error(.repeatedCursor(next), logid: logid) }
        return try proceed(more: true, empty: count == 0, logid: logid) ? next : nil
    }

    /// The warning when the last page's `total` disagrees with the `collected` items (none otherwise).
    func finish(total: Int?, collected: Int, path: String) -> [DouyinDecodeWarning] {
        guard let total, total != collected else { return warnings }
        return warnings + [
            DouyinDecodeWarning(path: path, message: "total \(total) but the pages held \(collected); read what the pages held")
        ]
    }

    private mutating func proceed(more: Bool, empty: Bool, logid: String?) throws(DouyinAPIError) -> Bool {
        pages += 1
        guard more else { return false }
        if empty {
            emptyRun += 1
            if emptyRun >= Self.maxEmptyRun {
                warnings.append(
                    DouyinDecodeWarning(
                        path: "data", message: "\(emptyRun) empty pages in a row said more remain; stopped after page \(pages)"))
                return false
            }
        } else {
            emptyRun = 0
        }
        if pages >= maxPages { throw Self.error(.tooManyPages(maxPages), logid: logid) }
        return true
    }

    static func error(_ problem: DouyinPagingProblem, logid: String?) -> DouyinAPIError {
        DouyinAPIError(errorClass: .retry, source: .paging(problem), logid: logid, detail: problem.description)
    }
}

/// The items of a page loop, one per id, in order of first appearance; a later copy replaces the
/// earlier one in its place.
struct UniqueItems<Item> {
    private var order: [String] = []
    private var byID: [String: Item] = [:]

    /// Adds `item`; returns whether its id is new.
    @discardableResult
    mutating func add(_ item: Item, id: String) -> Bool {
        let fresh = byID.updateValue(item, forKey: id) == nil
        if fresh { order.append(id) }
        return fresh
    }

    var count: Int { order.count }
    var items: [Item] { order.compactMap { byID[$0] } }
}
