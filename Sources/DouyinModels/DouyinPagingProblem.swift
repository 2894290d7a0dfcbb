/// Why a page loop over a list API stopped with an error (``DouyinAPIError/Source/paging(_:)``,
/// class ``DouyinErrorClass/retry``).
public enum DouyinPagingProblem: Sendable, Hashable, CustomStringConvertible {
    /// A page ended on a `cursor` the loop had already asked for: following it would loop.
    case repeatedCursor(String)
    /// Page `requested` was asked for and Douyin answered page `answered` (its `data.page.page_num`),
    /// or, when `answered` is `nil`, a page of orders the loop had all seen already.
    case pageDidNotAdvance(requested: Int, answered: Int?)
    /// `maxPages` pages were read and the last one still said more remain.
    case tooManyPages(Int)

    public var description: String {
        switch self {
        case .repeatedCursor(let cursor): return "cursor \(cursor.debugDescription) repeated; stopped"
        case .pageDidNotAdvance(let requested, let answered?):
            return "asked for page \(requested), answered page \(answered); stopped"
        case .pageDidNotAdvance(let requested, nil):
            return "page \(requested) held only orders of earlier pages; stopped"
        case .tooManyPages(let limit): return "more pages remain after \(limit) pages; narrow the window or raise maxPages"
        }
    }
}
