import AsyncHTTPClient
import CertWatchTesting
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `certwatch serve` (this executable, as a child process) on an existing database
/// and measures what an operator sees: start-up time (spawn → `GET /healthz` answers 200) and the
/// resident memory (VmRSS) of the `serve` process after it has run for a while.
///
/// The child's Douyin base URL is a closed loopback port, so its watcher makes no real calls: it
/// claims due watches and backs them off at the default 10 QPS, as a daemon does while Douyin is
/// unreachable — steady state for memory, without a sandbox answering a million orders.
enum ServeProbe {
    /// What one run showed.
    struct Measurement: Sendable {
        /// Spawn to the first 200 from `/healthz`, seconds.
        var startupSeconds: Double
        /// VmRSS of the `serve` process after ``settle`` seconds, bytes.
        var residentBytes: Double
    }

    /// How long `serve` runs before its memory is read, seconds.
    static let settle: Double = 5

    /// Starts `executable serve --config …` for the database at `database` and measures it.
    /// Throws ``ServeProbeError`` when the child exits early or does not answer within 60 s.
    static func measure(database: String, executable: String) async throws -> Measurement {
        let directory = try BenchSupport.temporaryDirectory("serve")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try LoopbackPort.free()
        let configuration = directory.appendingPathComponent("certwatch.yaml")
        try """
        database: \(database)
        douyin:
          base_url: http://127.0.0.1:9
          client_key: bench
          client_secret: bench
        http:
          listen: 127.0.0.1:\(port)
        """.write(to: configuration, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--config", configuration.path]
        process.currentDirectoryURL = directory  // no rules/ there: events are recorded, not delivered
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let started = ContinuousClock.now
        try process.run()
        do {
            var healthy = false
            while !healthy {
                guard process.isRunning else { throw ServeProbeError.exited(process.terminationStatus) }
                guard ContinuousClock.now - started < .seconds(60) else { throw ServeProbeError.notAnswering }
                let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")
                if let response = try? await http.execute(request, timeout: .seconds(1)), response.status == .ok {
                    healthy = true
                } else {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let startup = BenchSupport.seconds(ContinuousClock.now - started)
            try await Task.sleep(for: .seconds(settle))
            guard process.isRunning else { throw ServeProbeError.exited(process.terminationStatus) }
            let resident = BenchSupport.residentBytes(pid: process.processIdentifier)
            try await stop(process)
            try await http.shutdown()
            return Measurement(startupSeconds: startup, residentBytes: resident)
        } catch {
            try? await stop(process)
            try? await http.shutdown()
            throw error
        }
    }

    /// SIGTERM, then waits for the exit (graceful shutdown is bounded at 10 s by `serve`).
    private static func stop(_ process: Process) async throws {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + .seconds(15)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Failures of ``ServeProbe``.
enum ServeProbeError: Error, CustomStringConvertible {
    /// `serve` exited (with this status) before it was measured.
    case exited(Int32)
    /// `/healthz` did not answer 200 within 60 s.
    case notAnswering

    var description: String {
        switch self {
        case .exited(let status): "certwatch serve exited with status \(status) before it was measured"
        case .notAnswering: "certwatch serve did not answer GET /healthz within 60 s"
        }
    }
}
