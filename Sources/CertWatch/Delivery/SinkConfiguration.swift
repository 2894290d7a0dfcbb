import CertWatchCore
import Foundation

/// One sink from the configuration file (`sinks.<name>.*`).
///
/// ```yaml
/// sinks:
///   erp:
///     type: webhook
///     url: https://erp.example.com/hooks/certwatch
///     secret: ${ERP_WEBHOOK_SECRET}        # whsec_…; `secrets: [a, b]` during rotation
///     headers: { x-tenant: shop-1 }
///     retry_schedule: [0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h]
///     concurrency: 8
/// ```
///
/// `description` never shows secrets.
public struct SinkConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of sink.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case webhook, feishu, dingtalk, wecom, stdout, file
    }

    /// Payload formats of `webhook` sinks.
    public enum Format: String, Sendable, Hashable, CaseIterable {
        /// The CloudEvents JSON envelope, Standard Webhooks signatures (default).
        case cloudevents
        /// Douyin's own 券消息通知 push (`life_trade_certificate_notify`, `X-Douyin-Signature`).
        case douyinPush = "douyin-push"
    }

    /// The sink's name (the key under `sinks`; what rules `deliver` to).
    public var name: String
    /// `type`.
    public var kind: Kind
    /// `url` (HTTP sinks).
    public var url: String?
    /// `secret` / `secrets`: Standard Webhooks secrets (`whsec_…`), the Douyin client secret for
    /// `douyin-push`, or the bot's signing secret (feishu, dingtalk).
    public var secrets: [String]
    /// `format` (webhook).
    public var format: Format
    /// `client_key` (douyin-push: the `client_key` field of the push body).
    public var clientKey: String?
    /// `headers.*`: extra request headers (webhook).
    public var headers: [String: String]
    /// `allow_private`: allow loopback, private and link-local targets (default false).
    public var allowPrivate: Bool
    /// `retry_schedule` (default ``RetrySchedule/standard``).
    package var retry: RetrySchedule
    /// `concurrency`: deliveries in flight at once for this sink (default 8).
    public var concurrency: Int
    /// `pretty` (stdout): human lines instead of JSON lines.
    public var pretty: Bool
    /// `path` (file).
    public var path: String?
    /// `max_bytes` (file): rotate when the file would grow past this (default 64 MiB).
    public var maxBytes: Int64
    /// `max_files` (file): rotated files kept (default 5).
    public var maxFiles: Int
    /// `connect_timeout`, seconds (default 5).
    public var connectTimeout: Double
    /// `timeout`: whole request, seconds (default 15).
    public var timeout: Double

    package init(
        name: String, kind: Kind, url: String? = nil, secrets: [String] = [], format: Format = .cloudevents,
        clientKey: String? = nil, headers: [String: String] = [:], allowPrivate: Bool = false,
        retry: RetrySchedule = .standard, concurrency: Int = 8, pretty: Bool = false, path: String? = nil,
        maxBytes: Int64 = 64 << 20, maxFiles: Int = 5, connectTimeout: Double = 5, timeout: Double = 15
    ) {
        self.name = name
        self.kind = kind
        self.url = url
        self.secrets = secrets
        self.format = format
        self.clientKey = clientKey
        self.headers = headers
        self.allowPrivate = allowPrivate
        self.retry = retry
        self.concurrency = max(concurrency, 1)
        self.pretty = pretty
        self.path = path
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// The implicit `stdout` sink (JSON lines), present unless the file defines its own.
    public static let builtInStdout = SinkConfiguration(name: "stdout", kind: .stdout)

    public var description: String {
        var parts = ["\(name) (\(kind.rawValue)"]
        if let url { parts.append(Self.redacted(url)) }
        if kind == .webhook { parts.append("format=\(format.rawValue)") }
        if !secrets.isEmpty { parts.append("\(secrets.count) secret(s)") }
        if let path { parts.append(path) }
        return parts.joined(separator: ", ") + ")"
    }

    /// The URL without its query (bot URLs carry access tokens there) and path beyond the host.
    public static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return "<url>" }
        return "\(components.scheme ?? "http")://\(host)\(components.port.map { ":\($0)" } ?? "")/…"
    }

    /// Every sink of the file, by name order, plus the built-in `stdout` unless redefined.
    /// Throws ``ConfigurationError`` with the location of the offending value.
    public static func all(from file: ConfigurationFile) throws(ConfigurationError) -> [SinkConfiguration] {
        var sinks: [SinkConfiguration] = []
        for name in file.names(under: "sinks") {
            sinks.append(try parse(name: name, file: file))
        }
        if !sinks.contains(where: { $0.name == "stdout" }) { sinks.append(.builtInStdout) }
        return sinks
    }

    static func parse(name: String, file: ConfigurationFile) throws(ConfigurationError) -> SinkConfiguration {
        let key = { (suffix: String) in "sinks.\(name).\(suffix)" }
        guard let kind = try file.choice(key("type"), as: Kind.self) else {
            throw ConfigurationError(
                location: file.location(of: "sinks.\(name)"), key: key("type"),
                message: "required: one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var sink = SinkConfiguration(name: name, kind: kind)
        sink.url = try file.string(key("url"))
        if [.webhook, .feishu, .dingtalk, .wecom].contains(kind) {
            guard let url = sink.url else {
                throw ConfigurationError(location: file.location(of: key("type")), key: key("url"), message: "required for \(kind.rawValue) sinks")
            }
            guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                components.host?.isEmpty == false
            else {
                throw ConfigurationError(location: file.location(of: key("url")), key: key("url"), message: "expected an http(s) URL")
            }
        }
        sink.secrets = (try file.string(key("secret")).map { [$0] } ?? []) + (try file.list(key("secrets")) ?? [])
        sink.secrets = sink.secrets.filter { !$0.isEmpty }
        if kind == .webhook {
            sink.format = try file.choice(key("format"), as: Format.self) ?? .cloudevents
            if sink.format == .cloudevents {
                let secretKey = key(file.contains(key("secret")) ? "secret" : "secrets")
                for secret in sink.secrets {
                    let bytes: Int
                    do { bytes = try StandardWebhooks.key(fromSecret: secret).bitCount / 8 } catch {
                        throw ConfigurationError(
                            location: file.location(of: secretKey), key: secretKey,
                            message: "expected whsec_<base64> (the value is not shown)")
                    }
                    // Standard Webhooks: "the secret key [is] between 24 bytes (192 bits) and 64 bytes (512 bits)".
                    guard StandardWebhooks.secretLengths.contains(bytes) else {
                        throw ConfigurationError(
                            location: file.location(of: secretKey), key: secretKey,
                            message: "the key is \(bytes) bytes after base64 decoding; Standard Webhooks asks for 24–64 "
                                + "(e.g. whsec_ + `openssl rand -base64 32`; the value is not shown)")
                    }
                }
            }
        }
        sink.clientKey = try file.string(key("client_key"))
        for header in file.names(under: key("headers")) {
            sink.headers[header] = try file.string(key("headers.\(header)"))
        }
        sink.allowPrivate = try file.bool(key("allow_private")) ?? false
        if let delays = try file.durations(key("retry_schedule")) {
            sink.retry = RetrySchedule(delays: delays.map(Double.init), jitter: try file.number(key("jitter"), range: 0...1) ?? 0.2)
        } else if let jitter = try file.number(key("jitter"), range: 0...1) {
            sink.retry.jitter = jitter
        }
        sink.concurrency = try file.integer(key("concurrency"), range: 1...256) ?? 8
        sink.pretty = try file.bool(key("pretty")) ?? false
        sink.path = try file.path(key("path"))
        if kind == .file, sink.path == nil {
            throw ConfigurationError(location: file.location(of: key("type")), key: key("path"), message: "required for file sinks")
        }
        sink.maxBytes = Int64(try file.integer(key("max_bytes"), range: 1024...Int.max) ?? (64 << 20))
        sink.maxFiles = try file.integer(key("max_files"), range: 0...1000) ?? 5
        sink.connectTimeout = Double(try file.duration(key("connect_timeout")) ?? 5)
        sink.timeout = Double(try file.duration(key("timeout")) ?? 15)
        return sink
    }
}
