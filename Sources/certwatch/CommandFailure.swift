import ArgumentParser
import Foundation

/// A command that could not do its work (not a usage mistake): printed as `error: <message>` on
/// stderr without the usage text, exit status 1. Usage mistakes stay `ValidationError`s (exit 64).
struct CommandFailure: Error, CustomStringConvertible {
    /// What went wrong, for people.
    var description: String

    init(_ description: String) { self.description = description }
}

extension CertWatchCommand {
    /// Parses and runs the command. Every error prints in one style, `error: …` on stderr: a
    /// ``CommandFailure`` alone (exit 1), a usage error with its usage text (ArgumentParser's exit
    /// code, 64); `--help` and `--version` print to stdout as usual.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            // One `error:` line per problem (a configuration file may have several).
            let lines = "\(failure)".split(separator: "\n", omittingEmptySubsequences: false).map { "error: \($0)\n" }
            FileHandle.standardError.write(Data(lines.joined().utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            guard code != .success, !(error is CleanExit) else { exit(withError: error) }
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst(7) }
            FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
            Foundation.exit(code.rawValue)
        }
    }
}
