import CertWatch
import DouyinOpenAPI
import Foundation
import Testing

/// `push.*` is read and checked with the other keys, errors located at file:line:col.
@Suite("push configuration")
struct PushConfigurationTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("certwatch-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults: served, no auto-registration, compre_retail")
    func defaults() throws {
        #expect(try CertWatchConfiguration.load(path: nil, environment: [:]).push == PushConfiguration())
        #expect(PushConfiguration() == PushConfiguration(enabled: true, autoRegister: false, api: .compreRetail))
    }

    @Test("values from the file and CERTWATCH_PUSH_* overrides")
    func values() throws {
        let path = try write("push:\n  auto_register: yes\n  api: fulfilment\n")
        let push = try CertWatchConfiguration.load(path: path, environment: ["CERTWATCH_PUSH_ENABLED": "false"]).push
        #expect(push == PushConfiguration(enabled: false, autoRegister: true, api: .fulfilment))
    }

    @Test("a malformed value is an error at its file:line:col")
    func errors() throws {
        let badAPI = try write("push:\n  api: retail\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: badAPI, environment: [:])
        } throws: { error in
            "\(error)" == "\(badAPI):2:8: push.api: expected one of compre_retail, fulfilment, found \"retail\""
        }
        let badFlag = try write("push:\n  enabled: maybe\n")
        #expect {
            _ = try CertWatchConfiguration.load(path: badFlag, environment: [:])
        } throws: { error in
            "\(error)" == "\(badFlag):2:12: push.enabled: expected true or false, found \"maybe\""
        }
    }

    @Test("push.enabled: false serves no /douyin/webhook intake")
    func disabled() async throws {
        var configuration = try CertWatchConfiguration.load(path: nil, environment: [:])
        configuration.push.enabled = false
        configuration.rulePaths = []
        let services = try CertWatchServices(configuration: configuration, options: .init(store: try temporaryStore()))
        #expect(services.push == nil)
        try await services.shutdown()
        configuration.push.enabled = true
        configuration.push.autoRegister = true
        let enabled = try CertWatchServices(configuration: configuration, options: .init(store: try temporaryStore()))
        #expect(enabled.push?.autoRegister == true)
        try await enabled.shutdown()
    }
}
