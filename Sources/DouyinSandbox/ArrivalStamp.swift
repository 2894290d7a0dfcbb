import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Stamps each request's arrival on the event loop, before it waits for the handler: the
/// `x-sandbox-arrival` header, real Unix seconds with fraction (a client's own value is replaced).
///
/// Douyin counts a request against the QPS quota when its gateway receives it. The sandbox's
/// handlers run on Swift's shared thread pool, which a busy host process (a test suite running
/// beside it) can hold up for most of a second; requests that arrived a quarter-second apart
/// would then be logged and rate-limited as one burst. With the stamp, ``DouyinSandbox/handle(_:)``
/// logs and rate-limits each request at its arrival (``DouyinRequest/arrivedAt``).
final class ArrivalStamp: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[.sandboxArrival] = String(Date().timeIntervalSince1970)
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

extension HTTPField.Name {
    /// ``ArrivalStamp``'s header.
    static let sandboxArrival = HTTPField.Name("x-sandbox-arrival")!
}
