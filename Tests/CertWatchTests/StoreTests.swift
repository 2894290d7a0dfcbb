import GRDB
@testable import CertWatch
import CertWatchCore
import DouyinOpenAPI
import Foundation
import Testing

@Suite("Store")
struct StoreTests {
    @Test("registration is idempotent by target and merges labels; a removed watch comes back")
    func idempotentRegistration() async throws {
        let store = try temporaryStore()
        let (first, created) = try await store.register(
            WatchRegistration(orderID: "1001", labels: ["store": "sh-01"]), now: 100, firstPollAt: 101)
        #expect(created)
        let (second, createdAgain) = try await store.register(
            WatchRegistration(orderID: "1001", labels: ["env": "prod"]), now: 200, firstPollAt: 201)
        #expect(!createdAgain)
        #expect(second.id == first.id)
        #expect(second.labels == ["store": "sh-01", "env": "prod"])
        // The same order on the other endpoint family is another watch.
        let (other, _) = try await store.register(WatchRegistration(orderID: "1001", api: .fulfilment), now: 1, firstPollAt: 1)
        #expect(other.id != first.id)
        #expect(try await store.remove(id: first.id, now: 300))
        #expect(try await store.watch(id: first.id)?.state == .removed)
        let (back, _) = try await store.register(WatchRegistration(orderID: "1001"), now: 400, firstPollAt: 401)
        #expect(back.id == first.id && back.state == .active && back.nextPollAt == 401)
    }

    @Test("a reference names a watch by id, or every watch of an order id or encrypted code")
    func matching() async throws {
        let store = try temporaryStore()
        let retail = try await store.register(WatchRegistration(orderID: "1001"), now: 0, firstPollAt: 0).watch
        let fulfilment = try await store.register(WatchRegistration(orderID: "1001", api: .fulfilment), now: 0, firstPollAt: 0).watch
        let code = try await store.register(WatchRegistration(encryptedCode: "CgYIASAHKAESLgos"), now: 0, firstPollAt: 0).watch
        #expect(Set(try await store.watches(matching: "1001").map(\.id)) == [retail.id, fulfilment.id])
        #expect(try await store.watches(matching: retail.id).map(\.id) == [retail.id])
        #expect(try await store.watches(matching: "CgYIASAHKAESLgos").map(\.id) == [code.id])
        #expect(try await store.watches(matching: "1002").isEmpty)
        // A certificate seen in a watch's snapshots names it too, by certificate id or encrypted code.
        var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID("7230000000002418006"), raw: .null), observedAt: 10)
        snapshot.encryptedCode = "CgwIARCuhikb"
        try await store.commitPoll(
            PollCommit(
                watchID: retail.id, polledAt: 10, certificates: [StoredCertificate(snapshot: snapshot, raw: .null)], nextPollAt: 300),
            route: nil)
        #expect(try await store.watches(matching: "7230000000002418006").map(\.id) == [retail.id])
        #expect(try await store.watches(matching: "CgwIARCuhikb").map(\.id) == [retail.id])
    }

    @Test("one instance per database: a second lock names the holder; released when the holder goes")
    func instanceLock() throws {
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("cw-lock-\(UUID().uuidString).sqlite").path
        var first: InstanceLock? = try InstanceLock(database: database)
        do {
            _ = try InstanceLock(database: database)
            Issue.record("a second instance took the lock")
        } catch let held as InstanceLock.Held {
            #expect(held.holder?.hasPrefix("pid \(ProcessInfo.processInfo.processIdentifier), started ") == true)
            #expect(held.description.contains("in use by another certwatch serve"))
        }
        // Another path to the same file (a symbolic link) takes the same lock.
        try Data().write(to: URL(fileURLWithPath: database))
        let link = database + "-link.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: database)
        #expect(throws: InstanceLock.Held.self) { _ = try InstanceLock(database: link) }
        #expect(first != nil)
        first = nil
        #expect(throws: Never.self) { _ = try InstanceLock(database: database) }
    }

    @Test("leases left by a process that is gone are released at start")
    func releaseAllLeases() async throws {
        let store = try temporaryStore()
        _ = try await store.register(WatchRegistration(orderID: "1001"), now: 0, firstPollAt: 0)
        #expect(try await store.claimDue(now: 10, limit: 10, lease: 120).count == 1)
        #expect(try await store.claimDue(now: 11, limit: 10, lease: 120).isEmpty)
        #expect(try await store.releaseAllLeases() == 1)
        #expect(try await store.claimDue(now: 12, limit: 10, lease: 120).count == 1)
    }

    @Test("a label is key:value or key=value, split at the first separator")
    func labelPairs() {
        #expect(Watch.labelPair("store=sh:01").map { [$0.key, $0.value] } == ["store", "sh:01"])
        #expect(Watch.labelPair("store:sh=01").map { [$0.key, $0.value] } == ["store", "sh=01"])
        #expect(Watch.labelPair("store=").map { [$0.key, $0.value] } == ["store", ""])
        #expect(Watch.labelPair("store") == nil)
        #expect(Watch.labelPair("=sh") == nil)
    }

    @Test("bad registrations name the field")
    func validation() async throws {
        let store = try temporaryStore()
        await #expect(throws: ValidationError(field: "order_id", message: "order_id or encrypted_code is required")) {
            _ = try await store.register(WatchRegistration(), now: 1, firstPollAt: 1)
        }
        let results = try await store.registerMany(
            [WatchRegistration(orderID: "1"), WatchRegistration(orderID: "2", encryptedCode: "x")], now: 1, firstPollAt: 1)
        #expect((try? results[0].get()) != nil)
        #expect((try? results[1].get()) == nil)
    }

    @Test("ids are digits, encrypted codes printable ASCII; an id sent as a JSON number is refused", arguments: [
        #"{"order_id": "null"}"#, #"{"order_id": "abc; DROP TABLE watches"}"#, #"{"order_id": "1 2"}"#,
        #"{"order_id": "١٢٣"}"#, #"{"encrypted_code": "a b"}"#, #"{"encrypted_code": "码"}"#,
        #"{"order_id": "1", "account_id": "è Èý®g"}"#,
        // As docs/openapi.yaml states: an empty id is wrong, not absent; only spaces are trimmed.
        #"{"order_id": "", "encrypted_code": "x"}"#, #"{"order_id": "1", "encrypted_code": " "}"#,
        #"{"order_id": "\t1"}"#, #"{"order_id": "1\n"}"#, #"{"order_id": "1", "labels": {"": "x"}}"#,
    ])
    func badIDs(body: String) throws {
        let registration = try DouyinJSON.decode(WatchRegistration.self, from: Data(body.utf8))
        #expect(throws: ValidationError.self) { try registration.validated() }
    }

    @Test("what docs/openapi.yaml calls valid is accepted: null is absent, spaces trimmed, lengths in Unicode scalars")
    func goodIDs() throws {
        func valid(_ body: String) throws -> WatchRegistration {
            try DouyinJSON.decode(WatchRegistration.self, from: Data(body.utf8)).validated()
        }
        #expect(try valid(#"{"order_id": null, "encrypted_code": "x", "api": null, "labels": null}"#).encryptedCode == "x")
        #expect(try valid(#"{"order_id": "  12  ", "account_id": ""}"#) == WatchRegistration(orderID: "12"))
        // 63 scalars that are fewer Characters (e + combining acute) is a key of 63.
        let key = String(repeating: "e\u{301}", count: 31) + "k"
        #expect(throws: Never.self) { try WatchRegistration(orderID: "1", labels: [key: "v"]).validated() }
        #expect(throws: ValidationError.self) { try WatchRegistration(orderID: "1", labels: [key + "x": "v"]).validated() }
        // The label filter splits at the first `:` or `=` scalar, even one a combining mark follows.
        #expect(Watch.labelPair("a:\u{301}b").map { [$0.key, $0.value] } == ["a", "\u{301}b"])
        #expect(Watch.labelPair("=x") == nil)
    }

    @Test("the limits: 32 digits, 512 characters; a JSON number names the field and says to send a string")
    func idLimits() throws {
        #expect(throws: Never.self) { try WatchRegistration(orderID: String(repeating: "9", count: 32)).validated() }
        #expect(throws: ValidationError.self) { try WatchRegistration(orderID: String(repeating: "9", count: 5_000)).validated() }
        #expect(throws: Never.self) { try WatchRegistration(encryptedCode: String(repeating: "A", count: 512)).validated() }
        #expect(throws: ValidationError.self) { try WatchRegistration(encryptedCode: String(repeating: "A", count: 513)).validated() }
        do {
            _ = try DouyinJSON.decode(WatchRegistration.self, from: Data(#"{"order_id": 1068000000001745533}"#.utf8))
            Issue.record("a number was accepted")
        } catch {
            #expect(error.path == "order_id")
            #expect(error.message.contains("send ids as JSON strings"))
        }
    }

    @Test("due watches are claimed earliest first and never twice while leased")
    func claimDue() async throws {
        let store = try temporaryStore()
        for (order, due) in [("30", 30), ("10", 10), ("20", 20), ("999", 999)] {
            _ = try await store.register(WatchRegistration(orderID: order), now: 0, firstPollAt: Int64(due))
        }
        let claimed = try await store.claimDue(now: 100, limit: 2, lease: 60)
        #expect(claimed.map(\.orderID) == ["10", "20"])
        #expect(try await store.claimDue(now: 100, limit: 10, lease: 60).map(\.orderID) == ["30"])
        #expect(try await store.claimDue(now: 100, limit: 10, lease: 60).isEmpty)
        // After the lease runs out (a crashed poll), the watch is due again.
        #expect(try await store.claimDue(now: 161, limit: 10, lease: 60).map(\.orderID) == ["10", "20", "30"])
        #expect(try await store.nextDue(now: 161) == 999)
        // Claimed but not polled (shutdown): releasing makes them due at once, not after the lease.
        let unpolled = try await store.claimDue(now: 300, limit: 2, lease: 60)
        #expect(try await store.claimDue(now: 300, limit: 10, lease: 60).map(\.orderID) == ["30"])
        try await store.releaseLeases(watchIDs: unpolled.map(\.id))
        #expect(try await store.claimDue(now: 300, limit: 10, lease: 60).map(\.orderID) == ["10", "20"])
    }

    @Test("snapshots of several watches are read in one query, by watch and certificate")
    func snapshotsOfSeveralWatches() async throws {
        let store = try temporaryStore()
        let first = try await store.register(WatchRegistration(orderID: "91"), now: 0, firstPollAt: 0).watch
        let second = try await store.register(WatchRegistration(orderID: "92"), now: 0, firstPollAt: 0).watch
        for (watch, ids) in [(first, ["1", "2"]), (second, ["3"])] {
            let certificates = ids.map { id in
                StoredCertificate(
                    snapshot: CertificateSnapshot(Certificate(certificateID: DouyinID(id), raw: .null), observedAt: 10),
                    raw: .object(["certificate_id": .string(id)]))
            }
            try await store.commitPoll(PollCommit(watchID: watch.id, polledAt: 10, certificates: certificates, nextPollAt: 300))
        }
        let all = try await store.snapshots(watchIDs: [first.id, second.id, "w_none"])
        #expect(all.keys.sorted() == [first.id, second.id].sorted())
        #expect(all[first.id]?.keys.sorted() == ["1", "2"])
        #expect(all[second.id]?["3"]?.observedAt == 10)
        #expect(try await store.snapshots(watchID: first.id) == all[first.id])
        #expect(try await store.snapshots(watchIDs: []).isEmpty)
    }

    @Test("label filters and cursor pagination")
    func listing() async throws {
        let store = try temporaryStore()
        for index in 0..<5 {
            _ = try await store.register(
                WatchRegistration(orderID: "\(100 + index)", labels: ["store": index % 2 == 0 ? "sh" : "bj"]), now: 0, firstPollAt: 0)
        }
        #expect(try await store.watches(labels: ["store": "sh"]).count == 3)
        // Any key is a plain value (schemathesis sent a NUL; a quote was once dropped, matching `ab`).
        let odd = try temporaryStore()
        _ = try await odd.register(WatchRegistration(orderID: "200", labels: ["a\"b": "1", "x.y": "2"]), now: 0, firstPollAt: 0)
        _ = try await odd.register(WatchRegistration(orderID: "201", labels: ["ab": "1"]), now: 0, firstPollAt: 0)
        #expect(try await odd.watches(labels: ["a\"b": "1"]).map(\.orderID) == ["200"])
        #expect(try await odd.watches(labels: ["x.y": "2", "a\"b": "1"]).count == 1)
        #expect(try await odd.watches(labels: ["x\u{0}": "y"]).isEmpty)
        let page1 = try await store.watches(limit: 2)
        let page2 = try await store.watches(after: page1.last?.id, limit: 2)
        let page3 = try await store.watches(after: page2.last?.id, limit: 2)
        #expect(Set((page1 + page2 + page3).map(\.id)).count == 5)
        #expect(page3.count == 1)
    }
}

@Suite("Watch import")
struct WatchImportTests {
    @Test("CSV with labels; bad rows reported by line and skipped")
    func csv() throws {
        let text = """
            order_id,encrypted_code,api,labels,label.region
            1001,,,store=sh-01;env=prod,east
            ,,,,
            1003,,group,,
            1004,,fulfilment,,
            """
        let rows = try WatchImport.parse(text)
        #expect(rows.map(\.line) == [2, 3, 4, 5])
        #expect(try rows[0].result.get().labels == ["store": "sh-01", "env": "prod", "region": "east"])
        #expect(throws: ValidationError.self) { try rows[1].result.get() }
        #expect(throws: ValidationError.self) { try rows[2].result.get() }
        #expect(try rows[3].result.get().api == .fulfilment)
        #expect(throws: ValidationError.self) { _ = try WatchImport.parse("order,foo\n1,2") }
    }

    @Test("JSON lines")
    func jsonLines() throws {
        let rows = try WatchImport.parse(#"{"order_id":"1"}"# + "\n\n" + #"{"order_id": 5}"# + "\n" + #"{"encrypted_code":"x","labels":{"a":"b"}}"#)
        #expect(rows.map(\.line) == [1, 3, 4])
        #expect(throws: (any Error).self) { try rows[1].result.get() }
        #expect(try rows[2].result.get().encryptedCode == "x")
    }
}

@Suite("Configuration")
struct ConfigurationTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cw-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("values, ${VAR} references and CERTWATCH_* overrides")
    func load() throws {
        let path = try write(
            """
            database: /tmp/x.sqlite
            douyin:
              client_key: key
              client_secret: ${SECRET}
            poll:
              base_interval: 10m
              expiring_lead_times: [24h, 2h]
            """)
        let configuration = try CertWatchConfiguration.load(
            path: path, environment: ["SECRET": "s", "CERTWATCH_POLL_QPS": "3"])
        #expect(configuration.douyin.clientSecret == "s")
        #expect(configuration.watcher.policy.baseInterval == 600)
        #expect(configuration.watcher.policy.expiringLeadTimes == [86_400, 7_200])
        #expect(configuration.watcher.qps == 3)
        #expect(configuration.database == "/tmp/x.sqlite")
    }

    @Test("errors name the key and file:line:col")
    func errors() throws {
        let unknown = try write("poll:\n  base_intervall: 5m\n")
        #expect(throws: ConfigurationError(location: "\(unknown):2:3", key: "poll.base_intervall", message: "unknown key (did you mean \"poll.base_interval\"?)")) {
            _ = try CertWatchConfiguration.load(path: unknown, environment: [:])
        }
        let bad = try write("poll:\n  base_interval: soon\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: bad, environment: [:])
        } throws: { error in
            "\(error)" == "\(bad):2:18: poll.base_interval: expected a duration like 30s or 5m, found \"soon\""
        }
        let missing = try write("http:\n  listen: ${NOPE}\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: missing, environment: [:])
        } throws: { error in "\(error)" == "\(missing):2:11: http.listen: environment variable NOPE is not set (set it, or set CERTWATCH_HTTP_LISTEN to override this key)" }
        let typo = try write("pol:\n  qps: 3\n")
        #expect(throws: ConfigurationError(location: "\(typo):1:1", key: "pol", message: "unknown key (did you mean \"poll\"?)")) {
            _ = try CertWatchConfiguration.load(path: typo, environment: [:])
        }
        let typos = try write("pol:\n  qps: 3\nhttp:\n  lisen: 127.0.0.1:1\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: typos, environment: [:])
        } throws: { error in
            "\(error)" == """
                \(typos):1:1: pol: unknown key (did you mean "poll"?)
                \(typos):4:3: http.lisen: unknown key (did you mean "http.listen"?)
                """
        }
        let sinkTypo = try write("sinks:\n  erp:\n    type: webhook\n    urll: https://x.example\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: sinkTypo, environment: [:])
        } throws: { error in "\(error)".hasSuffix("sinks.erp.urll: unknown key (did you mean \"sinks.erp.url\"?)") }
    }

    @Test("a CERTWATCH_ variable overrides a key without its ${VAR}; credentials are needed only when used")
    func overridesAndDeferredVariables() throws {
        let path = try write(
            """
            douyin:
              client_key: ${DOUYIN_CLIENT_KEY}
              client_secret: ${DOUYIN_CLIENT_SECRET}
            http:
              api_keys:
                - ${CERTWATCH_API_KEY}
            sinks:
              erp:
                type: webhook
                url: https://erp.example.com/hooks
                secret: ${ERP_WEBHOOK_SECRET}
            """)
        let environment = [
            "CERTWATCH_DOUYIN_CLIENT_KEY": "k", "CERTWATCH_DOUYIN_CLIENT_SECRET": "s", "CERTWATCH_API_KEY": "api",
            "CERTWATCH_SINKS_ERP_SECRET": testSecret,
        ]
        let configuration = try CertWatchConfiguration.load(path: path, environment: environment)
        try configuration.requireCredentials()
        #expect(configuration.douyin.clientKey == "k" && configuration.douyin.clientSecret == "s")
        #expect(configuration.apiKeys == ["api"])
        #expect(configuration.sinks.first { $0.name == "erp" }?.secrets == [testSecret])
        // Without the credentials' variables the file loads; only requireCredentials (serve) fails, located.
        let partial = try CertWatchConfiguration.load(path: path, environment: ["ERP_WEBHOOK_SECRET": testSecret])
        #expect {
            try partial.requireCredentials()
        } throws: { error in "\(error)".contains(":2:15: douyin.client_key: environment variable DOUYIN_CLIENT_KEY is not set") }
        // rules check needs only the sink names: no variable at all.
        #expect(try CertWatchConfiguration.sinkNames(path: path, environment: [:]) == ["erp", "stdout"])
    }

    @Test("deploy/certwatch.example.yaml loads and shows every key certwatch knows")
    func exampleIsComplete() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("deploy/certwatch.example.yaml").path
        let environment = [
            "DOUYIN_CLIENT_KEY": "k", "DOUYIN_CLIENT_SECRET": "s", "CERTWATCH_API_KEY": "a", "ERP_WEBHOOK_SECRET": testSecret,
        ]
        let configuration = try CertWatchConfiguration.load(path: path, environment: environment)
        #expect(Set(configuration.sinks.map(\.name)) == ["erp", "archive", "console", "stdout"])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Each key appears as `name:` (set, or commented out for deprecated and optional ones) under its section.
        for key in CertWatchConfiguration.knownKeys {
            let name = key.split(separator: ".").last { $0 != "*" }.map(String.init) ?? key
            #expect(text.contains("\(name):"), "\(key) is not in deploy/certwatch.example.yaml")
        }
    }

    @Test("a sink target the guard refuses is a located configuration error at start; allow_private lets it through")
    func refusedTargets() throws {
        let path = try write(
            """
            sinks:
              erp:
                type: webhook
                url: http://127.0.0.1:9/hooks
              archive:
                type: file
                path: /tmp/x.jsonl
            """)
        let configuration = try CertWatchConfiguration.load(path: path, environment: [:])
        #expect {
            _ = try configuration.checkTargets()
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("\(path):4:10: sinks.erp.url: target 127.0.0.1 refused: resolves to a loopback address")
                && text.contains("allow_private: true")
        }
        let allowed = try CertWatchConfiguration.load(
            path: path, environment: ["CERTWATCH_SINKS_ERP_ALLOW_PRIVATE": "true"])
        #expect(try allowed.checkTargets().isEmpty)
        // A name that does not resolve here is a warning: DNS may not be reachable where the file is checked.
        let unresolved = try CertWatchConfiguration.load(
            path: path, environment: ["CERTWATCH_SINKS_ERP_URL": "https://erp.invalid/hooks"])
        let warnings = try unresolved.checkTargets()
        #expect(warnings.count == 1 && warnings[0].contains("sinks.erp.url") && warnings[0].contains("does not resolve"))
    }

    @Test("the preflight serve and config check share collects every problem: credentials, targets, rule paths")
    func preflightCollectsEveryProblem() throws {
        let path = try write(
            """
            rules:
              paths: [norules/]
            sinks:
              erp:
                type: webhook
                url: http://127.0.0.1:9/hooks
            http:
              listen: 127.0.0.1:99999
            """)
        let report = Preflight(try CertWatchConfiguration.load(path: path, environment: [:]))
        #expect(report.errors.count == 4, "\(report.errors)")
        #expect(report.errors[0].hasPrefix("\(path):8:11: http.listen: expected host:port"))
        #expect(report.errors[1].contains("douyin.client_key, douyin.client_secret: required"))
        #expect(report.errors[2].hasPrefix("\(path):6:10: sinks.erp.url: target 127.0.0.1 refused"))
        #expect(report.errors[3].hasPrefix("\(path):2:10: rules.paths: no such file or directory"))
        #expect(report.ruleCount == 0)
    }

    @Test("relative paths in the file resolve against the file's directory, not the working directory")
    func relativePaths() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/certwatch.yaml"
        try """
            database: data/certwatch.sqlite
            rules:
              paths: [rules/, /etc/certwatch/rules]
            sinks:
              archive:
                type: file
                path: events.jsonl
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let configuration = try CertWatchConfiguration.load(path: path, environment: [:])
        #expect(configuration.database == directory + "/data/certwatch.sqlite")
        #expect(configuration.rulePaths == [directory + "/rules/", "/etc/certwatch/rules"])
        #expect(try CertWatchConfiguration.rulePaths(path: path, environment: [:]) == configuration.rulePaths)
        #expect(configuration.sinks.first { $0.name == "archive" }?.path == directory + "/events.jsonl")
        // From the environment: relative to the working directory, as given.
        let fromEnvironment = try CertWatchConfiguration.load(path: path, environment: ["CERTWATCH_DATABASE": "x.sqlite"])
        #expect(fromEnvironment.database == "x.sqlite")
    }
}

@Suite("SQLite migrations")
struct StoreMigrationTests {
    @Test("the shipped migrations keep their names and order, so existing databases open")
    func migrationNames() {
        #expect(Store.migrator.migrations == [
            "v1-watches-certificates-events", "v2-deliveries", "v3-rule-groups", "v4-push-hints", "v5-watch-stalls",
            "v6-targeted-polls", "v7-leased-index", "v8-replicas", "v9-accounts",
        ])
    }
}

@Suite("Store query plans")
struct StoreQueryPlanTests {
    @Test("the store's due-watch queries walk their next_poll_at index (releasing leases: the leased index), no scan and sort", arguments: [
        (Store.claimDueSQL, [1, 1, 1] as [Int], "watches_due"), (Store.nextDueSQL, [1, 1], "watches_due"),
        (Store.claimTargetedSQL, [1, 1, 1], "watches_targeted"), (Store.releaseAllLeasesSQL, [], "watches_leased"),
    ])
    func dueQueriesUseIndex(sql: String, arguments: [Int], index: String) async throws {
        let store = try temporaryStore()
        let plan = try await store.testingWriter.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments))
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains(index))
        #expect(!plan.contains("TEMP B-TREE"))
    }

    @Test("hinted watches are found on their own partial index, no scan and sort")
    func hintedQueryUsesIndex() async throws {
        let store = try temporaryStore()
        let plan = try await store.testingWriter.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + Store.claimHintedSQL, arguments: [1, 1, 1])
                .map { $0["detail"] as String }.joined(separator: "; ")
        }
        #expect(plan.contains("watches_hinted"))
        #expect(!plan.contains("TEMP B-TREE"))
    }
}
