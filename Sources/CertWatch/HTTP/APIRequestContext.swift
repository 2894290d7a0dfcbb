import Hummingbird

/// The request context of certwatch's HTTP API: Hummingbird's basic context, except that what a
/// route returns as `ResponseEncodable` is written by ``APIResponseEncoder`` (certwatch's JSON).
package struct APIRequestContext: RequestContext {
    /// Hummingbird's per-request storage (parameters, logger, …).
    package var coreContext: CoreRequestContextStorage

    /// A context for one request the server took.
    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The client's IP address as the connection shows it (a reverse proxy's, behind one), or
    /// `unknown`.
    package var remoteAddress: String

    /// certwatch's JSON encoder (ids as strings, sorted keys).
    package var responseEncoder: APIResponseEncoder { APIResponseEncoder() }
}
