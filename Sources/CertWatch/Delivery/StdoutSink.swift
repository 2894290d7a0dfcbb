import CertWatchCore
import Foundation
import Synchronization

/// The `stdout` sink: one JSON event per line (the rule's body instead, when it rendered one),
/// flushed per line; or, with `pretty: true`, one human line per event.
package final class StdoutSink: Sink {
    package let configuration: SinkConfiguration
    private let write: @Sendable (Data) -> Void
    private let lock = Mutex(())

    /// - Parameter write: where lines go (standard output by default; tests capture).
    package init(configuration: SinkConfiguration, write: (@Sendable (Data) -> Void)? = nil) {
        self.configuration = configuration
        self.write = write ?? { data in FileHandle.standardOutput.write(data) }
    }

    package func deliver(_ delivery: OutboundDelivery) async -> SinkResponse {
        var line: Data
        if configuration.pretty {
            guard let event = try? delivery.event() else {
                return SinkResponse(outcome: .failed(retryAfter: nil), error: "cannot decode the event")
            }
            line = Data(Self.prettyLine(event).utf8)
        } else {
            line = delivery.bodyOrEventJSON
        }
        line.append(0x0A)
        lock.withLock { _ in write(line) }
        return SinkResponse(outcome: .delivered)
    }

    /// `2024-12-14T09:38:20Z  #12  certificate.verified  cert=… order=… poi=…`
    package static func prettyLine(_ event: CertWatchEvent) -> String {
        var parts = [UnixTime.rfc3339(event.time), "#\(event.sequence ?? 0)", event.type.rawValue, "cert=\(event.subject)"]
        if let order = event.data.watch.orderID { parts.append("order=\(order)") }
        if let poi = event.data.verification?.poiID { parts.append("poi=\(poi)") }
        if let use = event.data.use { parts.append("use=\(use.number)/\(use.timesCount)") }
        if let error = event.data.error { parts.append("code=\(error.code.map(String.init) ?? "-") logid=\(error.logid ?? "-")") }
        return parts.joined(separator: "  ")
    }
}
