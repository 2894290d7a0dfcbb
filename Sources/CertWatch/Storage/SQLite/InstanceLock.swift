import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One `certwatch serve` per SQLite database: an exclusive `flock(2)` on `<database>.lock`, held
/// for the life of the process (the kernel releases it when the process ends, however it ends,
/// `kill -9` included). The file names the holder (`pid` and start time) for the error a second
/// instance prints.
package final class InstanceLock: Sendable {
    /// Another process holds the database.
    package struct Held: Error, Sendable, CustomStringConvertible {
        /// The lock file.
        package var path: String
        /// What the holder wrote: `pid N, started <RFC 3339>`, or nil when unreadable.
        package var holder: String?

        package var description: String {
            "the database is in use by another certwatch serve (\(holder ?? "holder unknown"); lock \(path)): "
                + "stop it, or give this one another database"
        }
    }

    /// The lock file path.
    package let path: String
    private let descriptor: Int32

    /// Takes the lock for `database` (a SQLite path; nothing is locked for `:memory:`). Throws
    /// ``Held`` when another process holds it, or a `CocoaError`-like error when the lock file
    /// cannot be created.
    package init(database: String, now: Date = Date()) throws {
        path = Self.lockPath(database: database)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw Held(path: path, holder: holder?.isEmpty == false ? holder : nil)
        }
        let started = ISO8601DateFormatter().string(from: now)
        let text = "pid \(getpid()), started \(started)\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    /// Who holds `database` now, without taking or creating anything (for read-only commands):
    /// the lock file's `pid N, started …` when process N is alive, else `nil` (no serve ran, or it
    /// ended). A pid reused by another process after a crash reads as held; the command that asks
    /// only uses the answer to explain itself.
    package static func holder(database: String) -> String? {
        guard let text = try? String(contentsOfFile: lockPath(database: database), encoding: .utf8),
            let pidText = text.split(separator: ",").first?.split(separator: " ").last, let pid = pid_t(pidText),
            kill(pid, 0) == 0 || errno == EPERM
        else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `<database>.lock` beside the real file: symbolic links in the path are resolved (of the file
    /// and, when it does not exist yet, of its directory), so two paths to one database take one lock.
    /// Limitation: a hard link is another path to the same file and is not detected.
    static func lockPath(database: String) -> String {
        let url = URL(fileURLWithPath: database)
        let real =
            FileManager.default.fileExists(atPath: database)
            ? url.resolvingSymlinksInPath()
            : url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent)
        return real.path + ".lock"
    }

    deinit {
        // Closing the descriptor releases the lock; the file stays (its content is rewritten by the next holder).
        close(descriptor)
    }
}
