import CertWatchCore
import Foundation

/// The `file` sink: JSON lines appended to `path`, fsynced once per dispatcher batch (before the
/// batch is recorded as delivered), rotated by size: `path` → `path.1` → … → `path.<max_files>`.
package actor FileSink: Sink {
    package nonisolated let configuration: SinkConfiguration
    private var handle: FileHandle?
    private var size: Int64 = 0
    private var dirty = false

    package init(configuration: SinkConfiguration) {
        self.configuration = configuration
    }

    private var path: String { configuration.path ?? "certwatch-events.jsonl" }

    package func deliver(_ delivery: OutboundDelivery) async -> SinkResponse {
        var line = delivery.bodyOrEventJSON
        line.append(0x0A)
        do {
            if size > 0, size + Int64(line.count) > configuration.maxBytes { try rotate() }
            let handle = try open()
            try handle.write(contentsOf: line)
            size += Int64(line.count)
            dirty = true
            return SinkResponse(outcome: .delivered)
        } catch {
            return SinkResponse(outcome: .failed(retryAfter: nil), error: "cannot write \(path): \(error.localizedDescription)")
        }
    }

    package func flush() async throws {
        guard dirty, let handle else { return }
        try handle.synchronize()
        dirty = false
    }

    package func shutdown() async {
        try? handle?.synchronize()
        try? handle?.close()
        handle = nil
    }

    private func open() throws -> FileHandle {
        if let handle { return handle }
        let manager = FileManager.default
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try manager.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        if !manager.fileExists(atPath: path) { manager.createFile(atPath: path, contents: nil) }
        guard let opened = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission)
        }
        size = Int64(try opened.seekToEnd())
        handle = opened
        return opened
    }

    private func rotate() throws {
        if let handle {
            try handle.synchronize()
            try handle.close()
        }
        handle = nil
        dirty = false
        let manager = FileManager.default
        if configuration.maxFiles == 0 {
            try? manager.removeItem(atPath: path)
        } else {
            try? manager.removeItem(atPath: "\(path).\(configuration.maxFiles)")
            for index in stride(from: configuration.maxFiles - 1, through: 1, by: -1)
            where manager.fileExists(atPath: "\(path).\(index)") {
                try manager.moveItem(atPath: "\(path).\(index)", toPath: "\(path).\(index + 1)")
            }
            try manager.moveItem(atPath: path, toPath: "\(path).1")
        }
        size = 0
    }
}
