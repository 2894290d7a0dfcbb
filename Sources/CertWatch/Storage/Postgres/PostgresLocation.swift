import Foundation

/// A PostgreSQL database named by a URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, with
/// an optional `?sslmode=` as libpq reads it: `disable` (plain TCP), `prefer` (the default: TLS
/// when the server offers it), `require` (TLS, the certificate not checked, as libpq does) or
/// `verify-full` (TLS with the certificate and host name checked). User and password may be
/// percent-encoded. ``description`` never shows the password.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is encrypted (`sslmode`).
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    /// The server's host name or address.
    public var host: String
    /// The server's TCP port (default 5432).
    public var port: Int
    /// The user to connect as.
    public var username: String
    /// The password, if any.
    public var password: String?
    /// The database name.
    public var database: String
    /// The `sslmode`.
    public var tls: TLSMode

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String, tls: TLSMode = .prefer) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Whether `text` is a PostgreSQL URL (`postgres://` or `postgresql://`), not a file path.
    public static func isURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Reads a URL. Throws ``ConfigurationError`` for key `database` at `location` naming what is
    /// missing or wrong (no user, no host, no database name, a bad port, an unknown `sslmode` or
    /// another query parameter); the password never appears in the message.
    public init(url text: String, location: String = "configuration") throws(ConfigurationError) {
        func failure(_ message: String) -> ConfigurationError {
            ConfigurationError(location: location, key: "database", message: message)
        }
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw failure("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, found an unreadable URL")
        }
        let redacted = Self.redacted(components)
        guard let user = components.user, !user.isEmpty else { throw failure("\(redacted): no user (postgres://USER@HOST/DATABASE)") }
        guard let host = components.host, !host.isEmpty else { throw failure("\(redacted): no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw failure("\(redacted): expected one database name after the host, as in postgres://USER@HOST:5432/certwatch")
        }
        if let port = components.port, !(1...65_535).contains(port) { throw failure("\(redacted): port \(port) is out of range") }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw failure(
                        "\(redacted): sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")), found \((item.value ?? "").debugDescription)")
                }
                tls = mode
            default:
                throw failure("\(redacted): unknown parameter \(item.name.debugDescription) (only sslmode is read)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, username: components.percentEncodedUser?.removingPercentEncoding ?? user,
            password: components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 },
            database: components.percentEncodedPath.drop(while: { $0 == "/" }).removingPercentEncoding ?? database,
            tls: tls)
    }

    /// `postgres://USER@HOST:PORT/DATABASE` (with `?sslmode=` unless `prefer`), without the password.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)" + (tls == .prefer ? "" : "?sslmode=\(tls.rawValue)")
    }

    private static func redacted(_ components: URLComponents) -> String {
        var copy = components
        if copy.password != nil { copy.password = "***" }
        return copy.string ?? "postgres://…"
    }
}
