import ArgumentParser
import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation

/// `certwatch watch add|list|show|rm|import`.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Register, list, show and remove watches.",
        subcommands: [Add.self, List.self, Show.self, Poll.self, Remove.self, Import.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an order (or encrypted code). Idempotent: the same target returns the existing watch.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Douyin order_id.") var orderId: String?
        @Option(help: "encrypted_code from 验券准备.") var encryptedCode: String?
        @Option(help: "Label k=v (repeatable).") var label: [String] = []
        @Option(help: "Endpoint family: compre_retail (pickup vouchers) or fulfilment (group-buying).")
        var api: CertificateAPI = .compreRetail
        @Option(help: "account_id of the merchant.") var accountId: String?
        @Option(help: "Output format: table or json.") var format: OutputFormat = .table

        /// The registration the options describe.
        func registration() throws -> WatchRegistration {
            WatchRegistration(
                orderID: orderId, encryptedCode: encryptedCode, api: api, accountID: accountId, labels: try parseLabels(label))
        }

        /// A malformed id or label is a usage mistake (exit 64), found before the database is opened (and perhaps created).
        func validate() throws {
            do { _ = try registration().validated() } catch let error as CertWatch.ValidationError {
                throw ArgumentParser.ValidationError(error.description)
            }
        }

        func run() async throws {
            let registration = try registration()
            let store = try await global.openStore(creating: true)
            let configuration = try global.loadConfiguration()
            let now = UnixTime.now()
            do {
                let (watch, created) = try await store.register(
                    registration, now: now, firstPollAt: configuration.watcher.policy.firstPoll(now: now))
                try printWatches([watch], format: format)
                if format == .table { print(created ? "registered" : "already registered (labels merged)") }
            } catch let error as CertWatch.ValidationError {
                throw CommandFailure(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List watches.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only watches in this state: active, stalled (active but its polls keep failing), done, failed, removed, paused (the account has not authorized the app, 2119005).") var state: Watch.State?
        @Option(help: "Only watches with label k=v (repeatable).") var label: [String] = []
        @Option(help: "Only the watches of this merchant account (account_id).") var accountId: String?
        @Option(help: "At most this many.") var limit: Int = 1000
        @Option(help: "Start after this watch id (cursor).") var after: String?
        @Option(help: "Output format: table or json.") var format: OutputFormat = .table

        func run() async throws {
            let store = try await global.openStore()
            let watches = try await store.watches(
                state: state, labels: try parseLabels(label), accountID: accountId, after: after, limit: limit)
            try printWatches(watches, format: format)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a watch and its certificates' current state.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Watch id (w_…), order_id, encrypted_code or certificate_id (an order watched on both endpoint families shows both).")
        var id: String
        @Option(help: "Output format: table or json.") var format: OutputFormat = .table

        func run() async throws {
            let store = try await global.openStore()
            let watches = try await store.watches(matching: id)
            guard !watches.isEmpty else { throw CommandFailure("no watch \(id) (give a w_… id, an order_id, an encrypted_code or a certificate_id)") }
            for (index, watch) in watches.enumerated() {
                if index > 0 { print("") }
                try await show(watch, store: store)
            }
        }

        func show(_ watch: Watch, store: any CertWatchStorage) async throws {
            let certificates = try await store.snapshots(watchID: watch.id).values.map { $0.masked() }
                .sorted { $0.certificateID < $1.certificateID }
            switch format {
            case .json:
                let view = WatchView(watch: watch, certificates: certificates)
                print(String(decoding: try DouyinJSON.normalizedEncoded(view, pretty: true), as: UTF8.self))
            case .table:
                try printWatches([watch], format: .table)
                if let error = watch.lastError { print("last error: \(error)") }
                print("")
                let rows = certificates.map { snapshot -> [String] in
                    [
                        snapshot.certificateID, snapshot.state.rawValue, snapshot.status.map(String.init) ?? "-",
                        snapshot.timesCard.map { "\($0.timesUsed)/\($0.timesCount)" } ?? "-",
                        snapshot.verifications.map { $0.verifyID + ($0.canCancel ? " (cancellable)" : "") }
                            .joined(separator: ", "),
                        snapshot.expireTime.map(UnixTime.rfc3339) ?? "-", UnixTime.rfc3339(snapshot.observedAt),
                    ]
                }
                print(
                    TextTable(
                        header: ["certificate_id", "state", "status", "times", "verifications", "expire_time", "observed_at"],
                        rows: rows
                    ).rendered)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Unregister a watch (its events and certificates are kept).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Watch id (w_…), order_id, encrypted_code or certificate_id (every watch it names).") var id: String

        func run() async throws {
            let store = try await global.openStore()
            let watches = try await store.watches(matching: id).filter { $0.state != .removed }
            guard !watches.isEmpty else { throw CommandFailure("no watch \(id) (give a w_… id, an order_id, an encrypted_code or a certificate_id)") }
            for watch in watches where try await store.remove(id: watch.id, now: UnixTime.now()) {
                print("removed \(watch.id)")
            }
        }
    }

    struct Poll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Poll a watch now (within the QPS budget), instead of at its next scheduled poll.",
            discussion: """
                The running `certwatch serve` on the same database takes the poll within about a second, \
                inside poll.qps. Its events appear in `events list`; with --wait they are printed here.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Watch id (w_…), order_id, encrypted_code or certificate_id (every watch it names).") var id: String
        @Flag(help: "Wait until the running serve has polled, then print the events that poll recorded.") var wait = false
        @Option(help: "With --wait: give up after this many seconds (exit 1).") var timeout: Double?

        func validate() throws {
            if timeout != nil && !wait { throw ValidationError("--timeout goes with --wait") }
            if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be more than 0 seconds") }
        }

        func run() async throws {
            let store = try await global.openStore()
            let watches = try await store.watches(matching: id)
            guard !watches.isEmpty else { throw CommandFailure("no watch \(id) (give a w_… id, an order_id, an encrypted_code or a certificate_id)") }
            let after = try await store.lastSequence()
            var polled: [Watch] = []
            for watch in watches {
                if try await store.pollSoon(id: watch.id, at: UnixTime.now()) {
                    print("\(watch.id): due now")
                    polled.append(watch)
                } else {
                    print("\(watch.id): not polled (state \(watch.state.rawValue))")
                }
            }
            if polled.isEmpty {
                throw CommandFailure("no active watch for \(id) (`certwatch watch add` registers a removed or failed one again)")
            }
            guard wait else { return }
            let database = try global.loadConfiguration().database
            // On SQLite a running serve holds <database>.lock: without one, waiting is pointless.
            guard PostgresLocation.isURL(database) || database == ":memory:" || InstanceLock.holder(database: database) != nil else {
                throw CommandFailure(
                    "no certwatch serve is running on \(database) (none holds \(database).lock): the poll is due and waits for it")
            }
            try await waitForPolls(of: polled, store: store)
            let ids = Set(polled.map(\.id))
            let events = try await store.events(after: after, type: nil, orderID: nil, limit: 1_000).filter { ids.contains($0.data.watch.id) }
            print(events.isEmpty ? "polled: no change" : TextTable(header: EventsCommand.List.header, rows: events.map(row)).rendered)
            if let failed = events.first(where: { $0.type == .watchFailed }) {
                let error = failed.data.error
                throw CommandFailure(
                    "\(failed.data.watch.id) failed: code \(error?.code.map(String.init) ?? "-") \(error?.description ?? "")"
                        + " (logid \(error?.logid ?? "-")); it is no longer polled")
            }
        }

        /// Waits until every watch's poll count has grown (the running serve polled it), looking
        /// every 100 ms; throws after ``timeout`` seconds, naming the watches not polled.
        func waitForPolls(of watches: [Watch], store: any CertWatchStorage) async throws {
            let timeout = self.timeout ?? 30
            let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
            var waiting = watches
            while !waiting.isEmpty {
                var still: [Watch] = []
                for watch in waiting {
                    let now = try await store.watch(id: watch.id)
                    if let now, now.pollCount <= watch.pollCount, now.state == watch.state { still.append(watch) }
                }
                waiting = still
                guard !waiting.isEmpty else { return }
                guard ContinuousClock.now < deadline else {
                    throw CommandFailure(
                        "\(waiting.map(\.id).joined(separator: ", ")) not polled within \(timeout) s (the QPS budget may be busy; it stays due)")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register many watches from a CSV file (header: order_id,encrypted_code,api,account_id,labels,label.<k>) or JSON lines.",
            discussion: "Bad rows are reported with their line number and skipped; the rest are imported. Exit 1 when any row was skipped.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The file, or - for standard input.") var file: String

        func run() async throws {
            let store = try await global.openStore(creating: true)
            let configuration = try global.loadConfiguration()
            let text = String(decoding: try readInput(file), as: UTF8.self)
            let rows: [WatchImport.Row]
            do {
                rows = try WatchImport.parse(text)
            } catch {
                throw CommandFailure("\(displayName(file)): \(error)")
            }
            var created = 0
            var existing = 0
            var bad = 0
            let progress = ProgressBar(total: rows.count)
            let batchSize = 500
            for start in stride(from: 0, to: rows.count, by: batchSize) {
                let batch = rows[start..<min(start + batchSize, rows.count)]
                var valid: [(line: Int, registration: WatchRegistration)] = []
                for row in batch {
                    switch row.result {
                    case .success(let registration): valid.append((row.line, registration))
                    case .failure(let error):
                        bad += 1
                        progress.clear()
                        FileHandle.standardError.write(Data("\(displayName(file)):\(row.line): \(error) (skipped)\n".utf8))
                    }
                }
                let now = UnixTime.now()
                let results = try await store.registerMany(
                    valid.map(\.registration), now: now, firstPollAt: configuration.watcher.policy.firstPoll(now: now))
                for (item, result) in zip(valid, results) {
                    switch result {
                    case .success(let outcome): if outcome.created { created += 1 } else { existing += 1 }
                    case .failure(let error):
                        bad += 1
                        progress.clear()
                        FileHandle.standardError.write(Data("\(displayName(file)):\(item.line): \(error) (skipped)\n".utf8))
                    }
                }
                progress.update(min(start + batchSize, rows.count))
            }
            progress.finish()
            print("read \(rows.count) rows: \(created) registered, \(existing) already registered, \(bad) skipped")
            // The good rows are imported; a script still learns that some were not.
            if bad > 0 { throw CommandFailure("\(bad) row\(bad == 1 ? "" : "s") skipped (listed above with their line numbers)") }
        }
    }
}

/// `certwatch watch show --format json`.
struct WatchView: Encodable {
    var watch: Watch
    var certificates: [CertificateSnapshot]
}

func parseLabels(_ pairs: [String]) throws -> [String: String] {
    var labels: [String: String] = [:]
    for pair in pairs {
        guard let (key, value) = Watch.labelPair(pair) else {
            throw ValidationError("label \(pair.debugDescription): expected k=v (or k:v)")
        }
        labels[key] = value
    }
    return labels
}

func printWatches(_ watches: [Watch], format: OutputFormat) throws {
    switch format {
    case .json:
        for watch in watches { print(String(decoding: try DouyinJSON.normalizedEncoded(watch), as: UTF8.self)) }
    case .table:
        let rows = watches.map { watch -> [String] in
            [
                watch.id, watch.orderID ?? "-", watch.encryptedCode ?? "-", watch.api.rawValue, watch.state.rawValue,
                watch.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                watch.nextPollAt.map(UnixTime.rfc3339) ?? "-", String(watch.pollCount),
            ]
        }
        print(TextTable(header: ["id", "order_id", "encrypted_code", "api", "state", "labels", "next_poll_at", "polls"], rows: rows).rendered)
    }
}

extension CertificateAPI: ExpressibleByArgument {}
extension Watch.State: ExpressibleByArgument {}

/// A progress bar on stderr when it is a terminal; silent otherwise.
final class ProgressBar: @unchecked Sendable {
    let total: Int
    let enabled = isatty(STDERR_FILENO) == 1

    init(total: Int) { self.total = total }

    func update(_ done: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total)".utf8))
    }

    func clear() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
