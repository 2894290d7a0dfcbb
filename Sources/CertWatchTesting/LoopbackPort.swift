import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A free port on 127.0.0.1, for a child process (`certwatch serve`) that must be told its port
/// before it starts: bound to port 0, named, then released. Another process may take it in
/// between; callers that can, listen on port 0 themselves instead.
package enum LoopbackPort {
    /// No port could be bound.
    package struct Unavailable: Error, CustomStringConvertible {
        /// What failed (`socket`, `bind`, `getsockname`) and its errno.
        package var description: String
    }

    /// A loopback port nothing listens on right now. Throws ``Unavailable``.
    package static func free() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw Unavailable(description: "socket: errno \(errno)") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0 else { throw Unavailable(description: "bind 127.0.0.1:0: errno \(errno)") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard named == 0 else { throw Unavailable(description: "getsockname: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
