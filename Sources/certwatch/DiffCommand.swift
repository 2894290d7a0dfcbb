import ArgumentParser
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation

/// `certwatch diff OLD NEW [NEWER…]`: saved responses, oldest first → the events certwatch would emit
/// polling them in turn.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show the events certwatch would emit between saved Douyin responses (JSON lines).",
        discussion: """
            The responses are polls of one watch, oldest first: each is diffed against the one before, as
            the watcher does (what a snapshot carries, such as the refund request count, carries on).
            OLD is observed at its extra.now (or --old-time), each later one at its extra.now (or
            --new-time for the second; default the previous + 1). Certificates first seen in a later
            response are discovered. Use /dev/null or an empty file as OLD for a first poll.
            Example: a certificate's status 1 → 3 → 5 gives refund_requested, then refund_failed.
            Drift read anyway is printed as `warning: FILE: PATH: …` on standard error (see inspect).
            Exit status: 0, 1 when a response cannot be read or decoded, 2 when it is an error envelope,
            64 for a usage error (e.g. fewer than two responses).
            """)

    @Argument(help: "The earliest response (an empty file: none).") var old: String
    @Argument(help: "The later responses, in order (at least one).") var new: [String]
    @Option(help: "Observation time of OLD, Unix seconds.") var oldTime: Int64?
    @Option(help: "Observation time of the second response, Unix seconds.") var newTime: Int64?
    @Option(help: "expiring_soon lead times (durations, comma-separated).") var expiringLeadTimes: String = "24h"
    @Option(help: "order_id to show in data.watch.") var orderId: String = "unknown"

    func validate() throws {
        if new.isEmpty { throw ValidationError("give at least two responses: OLD NEW") }
    }

    func run() throws {
        let oldData = try readInput(old)
        let oldResult = oldData.allSatisfy({ $0 == 0x20 || $0 == 0x0A }) ? nil : try read(oldData, name: old)
        var leads: [Int64] = []
        for item in expiringLeadTimes.split(separator: ",") {
            guard let seconds = DurationText.seconds(String(item)) else {
                throw ValidationError("--expiring-lead-times: \(item) is not a duration")
            }
            leads.append(seconds)
        }
        let differ = Differ(expiringLeadTimes: leads)
        var observedAt = oldTime ?? oldResult?.serverNow ?? 0
        var previous: [String: CertificateSnapshot] = [:]
        for certificate in oldResult?.certificates ?? [] where previous[certificate.certificateID.value] == nil {
            previous[certificate.certificateID.value] = CertificateSnapshot(certificate, observedAt: observedAt)
        }
        let watch = WatchInfo(id: "w_diff", orderID: orderId)
        for (index, path) in new.enumerated() {
            let result = try read(try readInput(path), name: path)
            let given = index == 0 ? newTime : nil
            let now = given ?? result.serverNow.map { max($0, observedAt + 1) } ?? observedAt + 1
            for certificate in result.certificates {
                let id = certificate.certificateID.value
                let snapshot = differ.carried(CertificateSnapshot(certificate, observedAt: now), from: previous[id])
                for transition in differ.transitions(from: previous[id], to: snapshot, now: now) {
                    let event = CertWatchEvent(transition: transition, snapshot: snapshot, watch: watch, time: now)
                    print(String(decoding: event.jsonData(), as: UTF8.self))
                }
                previous[id] = snapshot
            }
            observedAt = now
        }
    }

    private func read(_ data: Data, name: String) throws -> CertificateQueryResult {
        do {
            let result = try CertificateQueryResult.read(body: data)
            for warning in result.warnings {
                FileHandle.standardError.write(Data("warning: \(displayName(name)): \(warning)\n".utf8))
            }
            return result
        } catch {
            // An unreadable file is a decoding error, not a Douyin error to retry: say it as inspect does.
            let text: String = if case .invalidBody(let decoding?) = error.source { "\(decoding)" } else { "\(error)" }
            FileHandle.standardError.write(Data("error: \(displayName(name)): \(text)\n".utf8))
            throw ExitCode(error.source == .business ? 2 : 1)
        }
    }
}
