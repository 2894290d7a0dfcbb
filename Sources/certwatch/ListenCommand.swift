import ArgumentParser
import CertWatch
import CertWatchTesting
import Foundation
import Logging
import ServiceLifecycle

/// `certwatch listen`: a local webhook receiver that verifies Standard Webhooks signatures and
/// prints each event; it can be told to fail, to try retries.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive webhooks locally: verify signatures, print events, optionally fail on purpose.",
        discussion: """
            Point a webhook sink at http://127.0.0.1:PORT/ (with allow_private: true) and watch what arrives.
            A request whose signature does not verify (or whose timestamp is more than 5 minutes off) is answered 401.
              certwatch listen --secret whsec_... --port 8788
              certwatch listen --fail-rate 0.5 --fail-status 503 --retry-after 10
            """)

    @Option(help: "Port to listen on.") var port = 8788
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Signing secret (whsec_…) to verify with; repeat during rotation. Default: $CERTWATCH_LISTEN_SECRET; none: no verification.")
    var secret: [String] = []
    @Option(help: "Status to answer accepted requests with.") var status = 200
    @Option(help: "Fraction of requests (0…1) to answer with --fail-status.") var failRate = 0.0
    @Option(help: "Status for failed requests.") var failStatus = 503
    @Option(help: "Retry-After value sent with 429/503 answers.") var retryAfter: String?
    @Option(help: "Seconds to wait before answering.") var delay = 0.0
    @Flag(help: "Print each request's body (JSON) instead of a summary line.") var json = false

    func validate() throws {
        guard (0...1).contains(failRate) else { throw ValidationError("--fail-rate must be between 0 and 1") }
        guard (100...599).contains(status), (100...599).contains(failStatus) else { throw ValidationError("statuses must be 100…599") }
    }

    func run() async throws {
        LoggingBootstrap.bootstrap(format: .text, level: .warning)
        var secrets = secret
        if secrets.isEmpty, let fromEnvironment = ProcessInfo.processInfo.environment["CERTWATCH_LISTEN_SECRET"] {
            secrets = [fromEnvironment]
        }
        for value in secrets {
            do { _ = try StandardWebhooks.key(fromSecret: value) } catch {
                throw ValidationError("--secret: \(error)")
            }
        }
        let printBodies = json
        let receiver = WebhookReceiver(
            secrets: secrets,
            behaviour: ReceiverBehaviour(status: status, failRate: failRate, failStatus: failStatus, retryAfter: retryAfter, delay: delay),
            keepRequests: false,
            onReceive: { request in
                if printBodies {
                    FileHandle.standardOutput.write(request.body + Data("\n".utf8))
                    return
                }
                let check = switch request.verified {
                case .some(true): "✓ signed"
                case .some(false): "✗ \(request.verificationError ?? "bad signature")"
                case .none: "- unsigned"
                }
                let json = request.json
                let sequence = (json?["sequence"] as? NSNumber).map { "#\($0)" } ?? ""
                let line = [
                    "[\(request.status)]", check, request.id ?? "-", request.type ?? (json?["event"] as? String) ?? "-",
                    request.subject.map { "cert=\($0)" } ?? "", sequence, request.path,
                ].filter { !$0.isEmpty }.joined(separator: "  ")
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            })
        let host = self.host
        let app = receiver.makeApplication(host: host, port: port, logger: Logger(label: "certwatch.listen")) { port in
            FileHandle.standardError.write(Data("listening on http://\(host):\(port)/ (Ctrl-C to stop)\n".utf8))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "certwatch.listen")))
        try await group.run()
    }
}
