import DouyinOpenAPI

/// Douyin's push (券消息通知) at `POST /douyin/webhook` (`push.*`): whether the route is served, and
/// what an unknown order in a push does. The signature key is `douyin.client_secret`.
public struct PushConfiguration: Sendable, Hashable {
    /// Serve `/douyin/webhook` (`push.enabled`, default true).
    public var enabled: Bool
    /// Register orders a push names that no watch follows yet (`push.auto_register`, default false).
    public var autoRegister: Bool
    /// Endpoint family of auto-registered orders (`push.api`: `compre_retail`, the default, or `fulfilment`).
    public var api: CertificateAPI

    public init(enabled: Bool = true, autoRegister: Bool = false, api: CertificateAPI = .compreRetail) {
        self.enabled = enabled
        self.autoRegister = autoRegister
        self.api = api
    }

    /// Reads `push.*` from `file`. Throws ``ConfigurationError`` with the value's file:line:col when
    /// a value is malformed (`push.enabled: maybe`, `push.api: retail`).
    public init(file: ConfigurationFile) throws(ConfigurationError) {
        let defaults = PushConfiguration()
        self.init(
            enabled: try file.bool("push.enabled") ?? defaults.enabled,
            autoRegister: try file.bool("push.auto_register") ?? defaults.autoRegister,
            api: try file.choice("push.api", as: CertificateAPI.self) ?? defaults.api)
    }
}
