import Hummingbird

/// The request context of certwatch's HTTP API: Hummingbird's basic context, except that what a
/// route returns as `ResponseEncodable` is written by ``APIResponseEncoder`` (certwatch's JSON).
public struct APIRequestContext: RequestContext {
    /// Hummingbird's per-request storage (parameters, logger, …).
    public var coreContext: CoreRequestContextStorage

    /// A context for one request the server took.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// certwatch's JSON encoder (ids as strings, sorted keys).
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
}
