import Foundation
import Logging
import Synchronization

/// Log line formats.
package enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-29T14:00:00Z info certwatch.watcher: polled watch=w_…`
    case text
    /// One JSON object per line: `{"time","level","label","message", …metadata}`.
    case json
}

/// Process-wide swift-log setup (stderr), once.
package enum LoggingBootstrap {
    private static let done = Mutex(false)

    /// Installs the stderr handler in `format` at `level`. Later calls do nothing.
    package static func bootstrap(format: LogFormat, level: Logger.Level) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler = StderrLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes log lines to stderr as text or JSON. Metadata values are printed as given: callers never
/// put secrets, tokens or unmasked personal data in metadata.
package struct StderrLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info
    let label: String
    let format: LogFormat

    package init(label: String, format: LogFormat) {
        self.label = label
        self.format = format
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date().formatted(.iso8601)
        let line: String
        switch format {
        case .text:
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "\(time) \(event.level) \(label): \(event.message)" + (fields.isEmpty ? "" : " " + fields)
        case .json:
            var object: [String: String] = ["time": time, "level": "\(event.level)", "label": label, "message": "\(event.message)"]
            for (key, value) in all where object[key] == nil { object[key] = "\(value)" }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            line = (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "\(event.message)"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
