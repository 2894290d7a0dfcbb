@testable import DouyinOpenAPI
import Testing

/// The page loop's decisions, without a network (the sandbox tests run the same loops end to end).
@Suite("Bounded page loops")
struct PageLoopTests {
    @Test("a cursor that repeats is an error of class retry with the logid")
    func repeatedCursor() throws {
        var loop = PageLoop(maxPages: 10)
        #expect(try loop.nextCursor(cursor: "0", size: 2, count: 2, last: "5", hasMore: true, logid: "L1") == "5")
        do {
            _ = try loop.nextCursor(cursor: "5", size: 2, count: 2, last: "5", hasMore: true, logid: "L2")
            Issue.record("a repeated cursor was followed")
        } catch {
            #expect(error.errorClass == .retry && error.logid == "L2")
            #expect(error.source == .paging(.repeatedCursor("5")))
        }
    }

    @Test("at most maxPages pages; more after them is an error")
    func bounded() throws {
        var loop = PageLoop(maxPages: 3)
        var cursor = "0"
        for next in ["a", "b"] {
            cursor = try #require(try loop.nextCursor(cursor: cursor, size: 1, count: 1, last: next, hasMore: nil, logid: nil))
        }
        #expect(throws: DouyinAPIError.self) {
            _ = try loop.nextCursor(cursor: cursor, size: 1, count: 1, last: "c", hasMore: nil, logid: nil)
        }
        var orders = PageLoop(maxPages: 2)
        #expect(try orders.nextPage(requested: 1, size: 1, answered: 1, count: 1, fresh: 1, seen: 1, total: nil, logid: nil) == 2)
        do {
            _ = try orders.nextPage(requested: 2, size: 1, answered: 2, count: 1, fresh: 1, seen: 2, total: 9, logid: nil)
            Issue.record("a third page would have been read")
        } catch {
            #expect(error.source == .paging(.tooManyPages(2)))
        }
    }

    @Test("an empty page that says more is followed, at most three in a row, then a warning")
    func emptyPageWithMore() throws {
        var loop = PageLoop(maxPages: 100)
        #expect(try loop.nextCursor(cursor: "0", size: 20, count: 0, last: nil, hasMore: true, logid: nil) == "0")
        #expect(try loop.nextCursor(cursor: "0", size: 20, count: 3, last: "7", hasMore: true, logid: nil) == "7")
        #expect(try loop.nextCursor(cursor: "7", size: 20, count: 0, last: nil, hasMore: true, logid: nil) == "7")
        #expect(try loop.nextCursor(cursor: "7", size: 20, count: 0, last: nil, hasMore: true, logid: nil) == "7")
        #expect(try loop.nextCursor(cursor: "7", size: 20, count: 0, last: nil, hasMore: true, logid: nil) == nil)
        #expect(loop.pages == 5)
        #expect(loop.warnings.count == 1)
        // Orders: an empty page whose total says more goes on to the next page number.
        var orders = PageLoop(maxPages: 100)
        #expect(try orders.nextPage(requested: 1, size: 10, answered: 1, count: 0, fresh: 0, seen: 0, total: 4, logid: nil) == 2)
        #expect(try orders.nextPage(requested: 2, size: 10, answered: 2, count: 4, fresh: 4, seen: 4, total: 4, logid: nil) == nil)
        #expect(try orders.nextPage(requested: 1, size: 10, answered: nil, count: 0, fresh: 0, seen: 4, total: 4, logid: nil) == nil)
    }

    @Test("a page number that does not advance is an error")
    func pageDidNotAdvance() throws {
        var loop = PageLoop(maxPages: 100)
        #expect(try loop.nextPage(requested: 1, size: 2, answered: 1, count: 2, fresh: 2, seen: 2, total: 5, logid: nil) == 2)
        #expect(throws: DouyinAPIError.self) {
            _ = try loop.nextPage(requested: 2, size: 2, answered: 1, count: 2, fresh: 0, seen: 2, total: 5, logid: nil)
        }
        // Without an echoed page number: a page holding only orders already read.
        var silent = PageLoop(maxPages: 100)
        _ = try silent.nextPage(requested: 1, size: 2, answered: nil, count: 2, fresh: 2, seen: 2, total: nil, logid: nil)
        do {
            _ = try silent.nextPage(requested: 2, size: 2, answered: nil, count: 2, fresh: 0, seen: 2, total: nil, logid: nil)
            Issue.record("a repeated page was followed")
        } catch {
            #expect(error.source == .paging(.pageDidNotAdvance(requested: 2, answered: nil)))
        }
    }

    @Test("a total that disagrees with what the pages held is a warning, not an error")
    func totalMismatch() {
        let loop = PageLoop(maxPages: 1)
        #expect(loop.finish(total: 5, collected: 5, path: "data.total").isEmpty)
        let warnings = loop.finish(total: 8, collected: 5, path: "data.total")
        #expect(warnings.map(\.path) == ["data.total"])
        #expect(warnings.first?.message.contains("total 8") == true)
    }
}
