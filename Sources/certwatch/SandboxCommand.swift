import ArgumentParser
import DouyinSandbox
import Foundation
import Logging
import ServiceLifecycle

/// `certwatch sandbox`: a local stand-in for Douyin's certificate APIs (tokens, queries, admin API,
/// faults, scenarios). See `deploy/sandbox/README.md`.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a local Douyin certificate API sandbox (tokens, queries, admin API under /sandbox/, faults, scenarios)."
    )

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0: any free port).")
    var port = 8790

    @Option(help: "The client_key the token endpoints accept.")
    var clientKey = "sandbox_key"

    @Option(help: "The client_secret the token endpoints accept.")
    var clientSecret = "sandbox_secret"

    @Option(help: "Seed of ids, fake buyers and fault draws (same seed, same run).")
    var seed: UInt64 = 1

    @Option(help: "Scenario YAML file to play (e.g. deploy/sandbox/scenarios/pickup-store-day.yaml).")
    var scenario: String?

    @Option(help: "Fault profile: a built-in name (none, busy30, rate-limited, flaky, token-chaos, wild: Douyin's drifted shapes) or a YAML file.")
    var faults: String?

    @Option(help: "Clock speed: sandbox seconds per real second (default 1, or the scenario's speed).")
    var speed: Double?

    @Option(help: "Token lifetime (expires_in), seconds.")
    var tokenLifetime: Int64 = 7_200

    @Option(help: "How long a replaced token stays valid, seconds.")
    var tokenGrace: Int64 = 300

    @Option(
        help: """
            Send Douyin's 券消息通知 for every verify, verify_cancel and refund to this URL \
            (e.g. http://127.0.0.1:8787/douyin/webhook), signed with the client secret; the fault profile's push keys \
            add loss, duplication, delay and reordering.
            """)
    var pushURL: String?

    @Option(help: "Share (0…1) of certificate changes that move their order's update_order_time in the order query.")
    var feedFidelity: Double = 1

    @Option(help: "QPS quota of the order query (订单查询); over it the sandbox answers 2119003.")
    var orderQueryQPS: Double = 10

    @Option(help: "QPS quota of the verify-record query (验券历史查询); over it the sandbox answers 2119003.")
    var verifyRecordQueryQPS: Double = 5

    @Option(help: "Log level.")
    var logLevel = "info"

    func validate() throws {
        if let speed, !(speed > 0 && speed <= 1_000_000) { throw ValidationError("--speed must be > 0 and ≤ 1000000") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535") }
        guard (0...1).contains(feedFidelity) else { throw ValidationError("--feed-fidelity must be 0…1") }
        for (name, qps) in [("--order-query-qps", orderQueryQPS), ("--verify-record-query-qps", verifyRecordQueryQPS)] {
            guard qps > 0, qps <= 1_000_000 else { throw ValidationError("\(name) must be > 0 and ≤ 1000000") }
        }
        guard tokenLifetime > 0, tokenGrace >= 0 else { throw ValidationError("--token-lifetime must be > 0, --token-grace ≥ 0") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let pushURL, !(pushURL.hasPrefix("http://") || pushURL.hasPrefix("https://")) || URL(string: pushURL)?.host == nil {
            throw ValidationError("--push-url must be an http(s) URL, got \(pushURL)")
        }
    }

    func run() async throws {
        let loadedScenario: Scenario?
        let profile: FaultProfile
        do {
            loadedScenario = try scenario.map { path throws(SandboxAdminError) in try Scenario.load(path: path) }
            profile = try faults.map { name throws(SandboxAdminError) in try FaultProfile.load(nameOrPath: name) } ?? .none
        } catch {
            throw ValidationError(error.message)
        }
        let clockSpeed = speed ?? loadedScenario?.speed ?? 1
        let configuration = SandboxConfiguration(
            clientKey: clientKey, clientSecret: clientSecret, tokenLifetime: tokenLifetime, tokenGracePeriod: tokenGrace,
            seed: seed, faults: profile, scenario: loadedScenario, orderQueryQPS: orderQueryQPS,
            verifyRecordQueryQPS: verifyRecordQueryQPS, feedFidelity: feedFidelity)
        let sandbox = DouyinSandbox(configuration: configuration, clock: .system(speed: clockSpeed))
        var logger = Logger(label: "certwatch.sandbox")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let server = DouyinSandboxServer(sandbox: sandbox, host: host, port: port, logger: logger)
        let (clientKey, clientSecret, host) = (clientKey, clientSecret, host)
        let scenarioName = loadedScenario?.name
        let profileName = profile.name ?? faults ?? "none"
        let pusher = pushURL.map { SandboxPusher(sandbox: sandbox, url: $0, logger: logger) }
        let pushLine = pushURL.map { "  pushes: 券消息通知 to \($0)" }
        try await server.runUntilSignalled(alongside: pusher.map { [$0 as any Service] } ?? []) { port in
            let base = "http://\(host):\(port)"
            var lines = [
                "Douyin sandbox listening on \(base)",
                "  client_key:    \(clientKey)",
                "  client_secret: \(clientSecret)",
                "  clock speed:   \(clockSpeed)×, faults: \(profileName)" + (scenarioName.map { ", scenario: \($0)" } ?? ""),
                "  token:  curl -s -X POST \(base)/oauth/client_token/ -H 'content-type: application/json' \\",
                "            -d '{\"client_key\":\"\(clientKey)\",\"client_secret\":\"\(clientSecret)\",\"grant_type\":\"client_credential\"}'",
                "  order:  curl -s -X POST \(base)/sandbox/orders -d '{\"certificates\":[{\"kind\":\"voucher\"}]}'",
                "  admin:  \(base)/sandbox/ (orders, certificates/{id}/verify|use|cancel|refund|expire, clock, faults, requests, reset)",
            ]
            if let pushLine { lines.append(pushLine) }
            for order in await sandbox.listOrders() {
                lines.append("  order \(order.label ?? "-"): \(order.orderID) (\(order.certificates.count) certificate(s))")
            }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}
