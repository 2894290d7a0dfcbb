import ArgumentParser
import CertWatch
import CertWatchCore
import Foundation

/// `certwatch accounts add|list|show|rm`: the merchant accounts whose change feed and sweep
/// certwatch runs (stored in the database; the configuration's `accounts:` are saved at start).
struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Merchant accounts (account_id): their change feed, sweep and authorization.",
        discussion: """
            A merchant account's change feed (the order query by update time, every 15 s) and sweep \
            (orders created and verifications recorded, every 5 min) find every change Douyin records for \
            it, registered or not. A running serve picks up changes within a second (POST /v1/accounts) \
            or within 5 s (this command).
            """,
        subcommands: [Add.self, List.self, Show.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an account, or change one: options left out keep their stored values (a new account: every store, feed every 15 s, sweep every 300 s); its feed and sweep state is kept.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account_id (1–32 digits).") var accountID: String
        @Option(help: "A name for people (\"\" clears it).") var name: String?
        @Option(name: .customLong("poi-id"), help: "A store (poi_id) to look at; repeat for several (replaces the stored list).")
        var poiIDs: [String] = []
        @Flag(help: "Look at every store of the account (clears the stored poi_ids).") var allStores = false
        @Option(help: "The change feed: on or off.") var feed: Switch?
        @Option(help: "Seconds between feed runs (1–86400).") var feedInterval: Int64?
        @Option(help: "The sweep: on or off.") var sweep: Switch?
        @Option(help: "Seconds between sweep runs (1–86400).") var sweepInterval: Int64?

        func validate() throws {
            guard AccountSettings.isDouyinID(accountID) else {
                throw ArgumentParser.ValidationError("account_id must be 1–32 decimal digits, found \(accountID.debugDescription)")
            }
            if allStores, !poiIDs.isEmpty { throw ArgumentParser.ValidationError("--all-stores and --poi-id exclude each other") }
        }

        func run() async throws {
            let store = try await global.openStore(creating: true)
            var settings = try await store.account(id: accountID)?.settings ?? AccountSettings(accountID: accountID)
            if let name { settings.name = name.isEmpty ? nil : name }
            if !poiIDs.isEmpty { settings.poiIDs = poiIDs }
            if allStores { settings.poiIDs = [] }
            if let feed { settings.feed.enabled = feed == .on }
            if let feedInterval { settings.feed.interval = feedInterval }
            if let sweep { settings.sweep.enabled = sweep == .on }
            if let sweepInterval { settings.sweep.interval = sweepInterval }
            do {
                try settings.validate()
            } catch {
                try await store.close()
                throw ArgumentParser.ValidationError(error.message)
            }
            let saved = try await store.saveAccount(settings, source: .api, now: Int64(Date().timeIntervalSince1970))
            try await store.close()
            print("\(saved.created ? "added" : "updated") account \(accountID)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts with their detectors' state.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try await global.openStore()
            var rows: [[String]] = []
            for account in try await store.accounts() {
                let counts = try await store.watchCounts(accountID: account.accountID)
                rows.append([
                    account.accountID, account.settings.name ?? "", account.authorization.status.rawValue,
                    Self.detector(account.settings.feed, account.feedState), Self.detector(account.settings.sweep, account.sweepState),
                    String(counts.values.reduce(0, +)), String(counts[.paused] ?? 0),
                ])
            }
            try await store.close()
            print(TextTable(header: ["account_id", "name", "authorization", "feed", "sweep", "watches", "paused"], rows: rows).rendered)
        }

        static func detector(_ schedule: AccountSettings.Schedule, _ state: DetectorState) -> String {
            schedule.enabled ? "\(state.status.rawValue) every \(schedule.interval)s" : "off"
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one account: authorization, feed and sweep state (high-water marks, last error with logid), watches.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account_id.") var accountID: String

        func run() async throws {
            let store = try await global.openStore()
            guard let account = try await store.account(id: accountID) else {
                try await store.close()
                throw CommandFailure("no account \(accountID); `certwatch accounts list` shows the stored ones")
            }
            let counts = try await store.watchCounts(accountID: accountID)
            let paused = try await store.watches(accountID: accountID, state: .paused, limit: 20)
            try await store.close()
            var lines = ["account_id     \(account.accountID)"]
            if let name = account.settings.name { lines.append("name           \(name)") }
            lines.append("stores         \(account.settings.poiIDs.isEmpty ? "every store" : account.settings.poiIDs.joined(separator: ", "))")
            lines.append("source         \(account.source.rawValue)")
            var authorization = "authorization  \(account.authorization.status.rawValue)"
            if let since = account.authorization.since { authorization += " since \(UnixTime.rfc3339(since))" }
            lines.append(authorization)
            if let reason = account.authorization.reason, account.authorization.status == .unauthorized {
                lines.append("               \(reason)")
            }
            for (detector, schedule, state) in [
                ("feed", account.settings.feed, account.feedState), ("sweep", account.settings.sweep, account.sweepState),
            ] {
                var line = "\(detector.padding(toLength: 15, withPad: " ", startingAt: 0))"
                line += schedule.enabled ? "\(state.status.rawValue), every \(schedule.interval) s" : "off"
                line += ", runs \(state.runs), seen \(state.seen), hinted \(state.hinted)"
                if let at = state.lastRunAt { line += ", last run \(UnixTime.rfc3339(at))" }
                if let mark = state.highWater { line += ", high-water \(UnixTime.rfc3339(mark))" }
                lines.append(line)
                if let error = state.lastError { lines.append("               last error: \(error)") }
            }
            let shown = Watch.State.allCases.compactMap { state in counts[state].map { "\(state.rawValue) \($0)" } }
            lines.append("watches        \(shown.isEmpty ? "none" : shown.joined(separator: ", "))")
            if !paused.isEmpty {
                lines.append("paused         " + paused.map(\.id).joined(separator: " ") + (counts[.paused, default: 0] > paused.count ? " …" : ""))
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove an account: its watches stay, paused ones resume at once; an account in the configuration comes back at the next start.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account_id.") var accountID: String

        func run() async throws {
            let store = try await global.openStore()
            let removed = try await store.removeAccount(id: accountID, now: Int64(Date().timeIntervalSince1970))
            try await store.close()
            guard removed else { throw CommandFailure("no account \(accountID); `certwatch accounts list` shows the stored ones") }
            print("removed account \(accountID)")
        }
    }

    enum Switch: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }
}
