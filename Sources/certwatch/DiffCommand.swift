import ArgumentParser
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation

/// `certwatch diff OLD NEW`: two saved responses → the events certwatch would emit.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show the events certwatch would emit between two saved Douyin responses (JSON lines).",
        discussion: """
            OLD is observed at its extra.now (or --old-time), NEW at its extra.now (or --new-time; default OLD + 1).
            Certificates only in NEW are discovered. Use /dev/null or an empty file as OLD for a first poll.
            """)

    @Argument(help: "The earlier response (an empty file: none).") var old: String
    @Argument(help: "The later response.") var new: String
    @Option(help: "Observation time of OLD, Unix seconds.") var oldTime: Int64?
    @Option(help: "Observation time of NEW, Unix seconds.") var newTime: Int64?
    @Option(help: "expiring_soon lead times (durations, comma-separated).") var expiringLeadTimes: String = "24h"
    @Option(help: "order_id to show in data.watch.") var orderId: String = "unknown"

    func run() throws {
        let oldData = try readInput(old)
        let oldResult = oldData.allSatisfy({ $0 == 0x20 || $0 == 0x0A }) ? nil : try read(oldData, name: old)
        let newResult = try read(try readInput(new), name: new)
        let t0 = oldTime ?? oldResult?.serverNow ?? 0
        let t1 = newTime ?? newResult.serverNow.map { max($0, t0 + 1) } ?? t0 + 1
        var leads: [Int64] = []
        for item in expiringLeadTimes.split(separator: ",") {
            guard let seconds = DurationText.seconds(String(item)) else {
                throw ValidationError("--expiring-lead-times: \(item) is not a duration")
            }
            leads.append(seconds)
        }
        let differ = Differ(expiringLeadTimes: leads)
        let previous = Dictionary(
            (oldResult?.certificates ?? []).map { ($0.certificateID.value, CertificateSnapshot($0, observedAt: t0)) }
        ) { first, _ in first }
        let watch = WatchInfo(id: "w_diff", orderID: orderId)
        for certificate in newResult.certificates {
            let snapshot = CertificateSnapshot(certificate, observedAt: t1)
            for transition in differ.transitions(from: previous[snapshot.certificateID], to: snapshot, now: t1) {
                let event = CertWatchEvent(transition: transition, snapshot: snapshot, watch: watch, time: t1)
                print(String(decoding: event.jsonData(), as: UTF8.self))
            }
        }
    }

    private func read(_ data: Data, name: String) throws -> CertificateQueryResult {
        do {
            return try CertificateQueryResult.read(body: data)
        } catch {
            FileHandle.standardError.write(Data("error: \(displayName(name)): \(error)\n".utf8))
            throw ExitCode(error.source == .business ? 2 : 1)
        }
    }
}
