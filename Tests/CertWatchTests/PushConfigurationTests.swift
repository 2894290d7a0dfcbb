import CertWatch
import DouyinOpenAPI
import Foundation
import Testing

/// `push.*` is read and checked with the other keys, errors located at file:line:col.
extension ConfigurationTests {
    @Test("push defaults: served, no auto-registration, compre_retail")
    func pushDefaults() throws {
        #expect(try CertWatchConfiguration.load(path: nil, environment: [:]).push == PushConfiguration())
        #expect(PushConfiguration() == PushConfiguration(enabled: true, autoRegister: false, api: .compreRetail))
    }

    @Test("push values from the file and CERTWATCH_PUSH_* overrides")
    func pushValues() throws {
        let path = try write("push:\n  auto_register: yes\n  api: fulfilment\n")
        let push = try CertWatchConfiguration.load(path: path, environment: ["CERTWATCH_PUSH_ENABLED": "false"]).push
        #expect(push == PushConfiguration(enabled: false, autoRegister: true, api: .fulfilment))
    }

    @Test("a malformed push value is an error at its file:line:col")
    func pushErrors() throws {
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
    func pushDisabled() async throws {
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
