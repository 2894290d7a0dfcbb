import ArgumentParser
import CertWatchCore
import DouyinOpenAPI
import Foundation

/// `certwatch inspect FILE`: decode a saved Douyin certificate response and show what certwatch sees.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode a saved Douyin certificate query response and show the merged certificates.",
        discussion: """
            Exit status: 0 on success, 1 when the input cannot be read or decoded (the error names the JSON path),
            2 when the response is a Douyin error envelope (prints class, code, description and logid; with
            --format json as {"error": {class, code, sub_error_code, description, logid}}), 64 for a usage error.
            Drift read anyway — integers as strings are silent; times in milliseconds (normalized to
            seconds), fields of unexpected types that state is not derived from (set aside), and
            contradictions (times_used > times_count, verify_time in the future, a certificate_id twice,
            an unknown status) — is printed as `warning: PATH: …` on standard error, and under
            "warnings" with --format json.
            """
    )

    @Argument(help: "A saved response body (JSON), or - for standard input.")
    var file: String

    @Option(help: "Output format: table or json (normalized: every id a string).")
    var format: OutputFormat = .table

    func run() throws {
        let body = try readInput(file)
        let response: CertificateQueryResponse
        let certificates: [Certificate]
        do {
            response = try CertificateQueryResponse.decode(body)
            if let error = response.businessError() {
                if format == .json {
                    print(String(decoding: try DouyinJSON.normalizedEncoded(["error": WatchFailure(error)], pretty: true), as: UTF8.self))
                } else {
                    printErrorEnvelope(error)
                }
                throw ExitCode(2)
            }
            certificates = try response.mergedCertificates()
        } catch let error as DouyinDecodingError {
            FileHandle.standardError.write(Data("error: \(displayName(file)): \(error)\n".utf8))
            throw ExitCode(1)
        }
        let warnings = response.warnings + response.consistencyWarnings()
        for warning in warnings {
            FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
        }
        switch format {
        case .json:
            let output = InspectOutput(
                certificates: certificates, logid: response.extra?.logid, now: response.extra?.now, warnings: warnings)
            print(String(decoding: try DouyinJSON.normalizedEncoded(output, pretty: true), as: UTF8.self))
        case .table:
            printTable(certificates)
            if let logid = response.extra?.logid { print("logid \(logid)") }
        }
    }

    private func printErrorEnvelope(_ error: DouyinAPIError) {
        let lines = [
            "error envelope",
            "class        \(error.errorClass.rawValue)",
            "code         \(error.code.map(String.init) ?? "-")",
            "sub_code     \(error.subErrorCode.map(String.init) ?? "-")",
            "description  \(error.errorDescription ?? "-")",
            "sub_desc     \(error.subDescription ?? "-")",
            "logid        \(error.logid ?? "-")",
        ]
        print(lines.joined(separator: "\n"))
    }

    private func printTable(_ certificates: [Certificate]) {
        let header = ["certificate_id", "status", "used", "times", "verifications", "can_cancel", "pay_amount", "expire_time"]
        let rows = certificates.map { certificate -> [String] in
            let times = certificate.timeCard.map { "\($0.timesUsed.map(String.init) ?? "?")/\($0.timesCount.map(String.init) ?? "?")" }
            let cancellable = certificate.allVerifications.contains { $0.canCancel == true }
            return [
                certificate.certificateID.value,
                certificate.status.map(String.init) ?? "-",
                certificate.usedStatusType.map(String.init) ?? "-",
                times ?? "-",
                String(certificate.allVerifications.count),
                cancellable ? "yes" : "no",
                certificate.amount?.payAmount.map(String.init) ?? "-",
                certificate.expireTime.map(String.init) ?? "-",
            ]
        }
        print(TextTable(header: header, rows: rows).rendered)
        print("\(certificates.count) certificate(s)")
    }
}

/// The JSON printed by `certwatch inspect --format json`.
struct InspectOutput: Encodable {
    var certificates: [Certificate]
    var logid: String?
    var now: Int64?
    var warnings: [DouyinDecodeWarning]
}

/// Output formats of listing commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// Reads a file (a device such as `/dev/null` too), or standard input for `-`. When it cannot be
/// read, prints `error: cannot read PATH: …` and exits 1.
func readInput(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    var isDirectory: ObjCBool = false
    let why: String
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        why = "no such file"
    } else if isDirectory.boolValue {
        why = "it is a directory"
    } else if let handle = FileHandle(forReadingAtPath: path) {
        defer { try? handle.close() }
        return handle.readDataToEndOfFile()
    } else {
        why = "not readable"
    }
    FileHandle.standardError.write(Data("error: cannot read \(path): \(why)\n".utf8))
    throw ExitCode(1)
}

func displayName(_ path: String) -> String { path == "-" ? "<stdin>" : path }

/// A plain left-aligned text table.
struct TextTable {
    var header: [String]
    var rows: [[String]]

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
