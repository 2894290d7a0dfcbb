import DouyinOpenAPI
import Foundation
import SwiftCSV

/// Reads watch registrations from a file for `certwatch watch import`: CSV with a header, or JSON
/// lines (one object per line, the `POST /v1/watches` body).
///
/// CSV columns: `order_id`, `encrypted_code`, `api`, `account_id`, `labels` (`k=v;k2=v2`) and any
/// `label.<key>` column. Unknown columns are an error for the whole file; a bad row is reported with
/// its line number and skipped.
public enum WatchImport {
    /// One row: its line number and the registration or what is wrong with it.
    public struct Row: Sendable {
        /// 1-based line in the file (CSV rows assume no line breaks inside quoted fields).
        public var line: Int
        /// The registration, or the error message.
        public var result: Result<WatchRegistration, ValidationError>
    }

    /// Parses `text`. Throws ``ValidationError`` when the file as a whole cannot be read (bad CSV header).
    public static func parse(_ text: String) throws(ValidationError) -> [Row] {
        let trimmed = text.drop { $0.isWhitespace }
        return trimmed.first == "{" ? jsonLines(text) : try csv(text)
    }

    static func jsonLines(_ text: String) -> [Row] {
        var rows: [Row] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            do {
                let registration = try DouyinJSON.decode(WatchRegistration.self, from: Data(content.utf8))
                rows.append(Row(line: index + 1, result: Result { () throws(ValidationError) in try registration.validated() }))
            } catch {
                rows.append(Row(line: index + 1, result: .failure(ValidationError(message: error.description))))
            }
        }
        return rows
    }

    static func csv(_ text: String) throws(ValidationError) -> [Row] {
        let table: CSV<Named>
        do {
            table = try CSV<Named>(string: text, delimiter: .comma, loadColumns: false)
        } catch {
            throw ValidationError(message: "not a CSV file: \(error)")
        }
        let known: Set<String> = ["order_id", "encrypted_code", "api", "account_id", "labels"]
        for column in table.header where !known.contains(column) && !column.hasPrefix("label.") {
            throw ValidationError(
                field: column,
                message: "unknown CSV column (expected order_id, encrypted_code, api, account_id, labels, label.<key>)")
        }
        return table.rows.enumerated().map { index, fields in
            Row(line: index + 2, result: Result { () throws(ValidationError) in try registration(fields) })
        }
    }

    static func registration(_ fields: [String: String]) throws(ValidationError) -> WatchRegistration {
        func value(_ key: String) -> String? {
            fields[key].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var api: CertificateAPI?
        if let text = value("api") {
            guard let parsed = CertificateAPI(rawValue: text) else {
                throw ValidationError(field: "api", message: "expected compre_retail or fulfilment, found \(text.debugDescription)")
            }
            api = parsed
        }
        var labels: [String: String] = [:]
        for pair in (value("labels") ?? "").split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else {
                throw ValidationError(field: "labels", message: "expected k=v;k2=v2, found \(String(pair).debugDescription)")
            }
            labels[parts[0]] = parts[1]
        }
        for (key, text) in fields where key.hasPrefix("label.") && !text.isEmpty {
            labels[String(key.dropFirst("label.".count))] = text
        }
        return try WatchRegistration(
            orderID: value("order_id"), encryptedCode: value("encrypted_code"), api: api, accountID: value("account_id"),
            labels: labels.isEmpty ? nil : labels
        ).validated()
    }
}
