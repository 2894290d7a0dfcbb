import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The SSRF guard: refuses webhook and bot URLs whose host resolves to a loopback, private,
/// link-local, shared (CGNAT), multicast, reserved or cloud-metadata address — also when carried
/// inside an IPv6 address (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`,
/// Teredo `2001::/32`) or behind NAT64 local-use `64:ff9b:1::/48` — unless the sink sets
/// `allow_private: true`.
///
/// Every resolved address must be public. Limitation: the HTTP client resolves the name again when
/// it connects, so a DNS answer that changes between the check and the connection (rebinding) is
/// not caught; put an egress proxy in front of certwatch when that matters.
package enum TargetGuard {
    /// Why a target was refused.
    package struct Refused: Error, Sendable, Hashable, CustomStringConvertible {
        /// The host (never the path or query, which may hold tokens).
        package var host: String
        /// Why.
        package var reason: String
        /// Whether the name did not resolve (a DNS failure may pass; every other refusal stays
        /// until the configuration or the DNS records change).
        package var unresolved: Bool = false
        package var description: String { "target \(host) refused: \(reason)" }
    }

    /// Checks `url` (scheme http/https, a host, every resolved address public unless `allowPrivate`).
    /// Throws ``Refused``.
    package static func check(_ url: URL, allowPrivate: Bool) throws(Refused) {
        let host = url.host ?? ""
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw Refused(host: host, reason: "only http and https are allowed")
        }
        guard !host.isEmpty else { throw Refused(host: host, reason: "no host") }
        if allowPrivate { return }
        let addresses = resolve(host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host)
        guard !addresses.isEmpty else { throw Refused(host: host, reason: "the name does not resolve", unresolved: true) }
        for address in addresses {
            if let why = forbiddenReason(address) {
                throw Refused(host: host, reason: "resolves to \(article(why)) \(why) address (set allow_private: true on the sink to allow)")
            }
        }
    }

    /// Why an address (4 or 16 bytes) is not public, or `nil` when it is.
    package static func forbiddenReason(_ bytes: [UInt8]) -> String? {
        if bytes.count == 16 {
            // IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d and NAT64 64:ff9b::a.b.c.d
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                return forbiddenReason(Array(bytes[12..<16]))
            }
            if bytes[0..<12].allSatisfy({ $0 == 0 }) {
                if bytes[12..<15].allSatisfy({ $0 == 0 }) && bytes[15] <= 1 {
                    return bytes[15] == 1 ? "loopback" : "unspecified"
                }
                return forbiddenReason(Array(bytes[12..<16]))
            }
            if bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b
                && bytes[4..<12].allSatisfy({ $0 == 0 })
            {
                return forbiddenReason(Array(bytes[12..<16]))
            }
            // NAT64 local-use 64:ff9b:1::/48 (RFC 8215): translated by a local gateway to anything.
            if bytes[0..<6] == [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01] { return "NAT64 local-use" }
            // 6to4 2002:a.b.c.d::/48 (RFC 3056): carries the IPv4 address a.b.c.d.
            if bytes[0] == 0x20 && bytes[1] == 0x02, let why = forbiddenReason(Array(bytes[2..<6])) {
                return "6to4 of \(article(why)) \(why)"
            }
            // Teredo 2001:0::/32 (RFC 4380): server IPv4 in bytes 4–7, client IPv4 in 12–15 inverted.
            if bytes[0..<4] == [0x20, 0x01, 0x00, 0x00] {
                if let why = forbiddenReason(Array(bytes[4..<8])) { return "Teredo (server) of \(article(why)) \(why)" }
                if let why = forbiddenReason(bytes[12..<16].map { ~$0 }) { return "Teredo (client) of \(article(why)) \(why)" }
            }
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return "link-local" }
            if bytes[0] & 0xfe == 0xfc { return "private (unique local)" }
            if bytes[0] == 0xff { return "multicast" }
            if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return "site-local" }
            return nil
        }
        guard bytes.count == 4 else { return "unknown" }
        let (a, b) = (bytes[0], bytes[1])
        switch a {
        case 0: return "unspecified"
        case 10: return "private"
        case 127: return "loopback"
        case 100 where b & 0xc0 == 64: return "shared (CGNAT)"
        case 169 where b == 254: return bytes[2] == 169 && bytes[3] == 254 ? "metadata" : "link-local"
        case 172 where b & 0xf0 == 16: return "private"
        case 192 where b == 168: return "private"
        case 192 where b == 0 && bytes[2] == 0: return "reserved"
        case 198 where b & 0xfe == 18: return "benchmarking"
        case 224...239: return "multicast"
        case 240...255: return "reserved"
        default: return nil
        }
    }

    /// The addresses `host` resolves to (IP literals included), as 4- or 16-byte arrays.
    package static func resolve(_ host: String) -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                case AF_INET6:
                    address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &raw) { Array($0) })
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        var seen = Set<[UInt8]>()
        return addresses.filter { seen.insert($0).inserted }
    }

    /// "a" or "an" before `word`.
    static func article(_ word: String) -> String { word.first.map { "aeiou".contains($0) } == true ? "an" : "a" }
}
