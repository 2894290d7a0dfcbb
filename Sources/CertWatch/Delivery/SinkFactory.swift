import CertWatchCore
import Foundation

/// Makes sinks from their configurations.
package enum SinkFactory {
    /// The default `user-agent`: `certwatch/<version>`.
    package static let defaultUserAgent = "certwatch/\(CertWatchVersion.current)"

    /// One sink per configuration, by name. HTTP sinks own an HTTP client each: call
    /// ``Sink/shutdown()`` on every sink when done (``Dispatcher`` does at the end of `run()`).
    package static func make(
        _ configurations: [SinkConfiguration], userAgent: String = defaultUserAgent,
        stdout: (@Sendable (Data) -> Void)? = nil
    ) -> [String: any Sink] {
        var sinks: [String: any Sink] = [:]
        for configuration in configurations {
            switch configuration.kind {
            case .webhook, .feishu, .dingtalk, .wecom:
                sinks[configuration.name] = HTTPSink(configuration: configuration, userAgent: userAgent)
            case .stdout:
                sinks[configuration.name] = StdoutSink(configuration: configuration, write: stdout)
            case .file:
                sinks[configuration.name] = FileSink(configuration: configuration)
            }
        }
        return sinks
    }
}
