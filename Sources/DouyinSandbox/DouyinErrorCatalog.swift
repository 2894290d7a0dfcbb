/// The Douyin business error codes the sandbox answers with, and their documented descriptions
/// (error table of 券状态批量查询, `douyin/reference/certificate-query-compre-retail.zh.md`).
///
/// Every code is sent with HTTP 200 in the envelope
/// `{"data": {"error_code": C, "description": D}, "extra": {"error_code": C, "description": D, …}}`.
package enum DouyinErrorCatalog {
    /// 2100001 未知错误.
    package static let unknown: Int64 = 2_100_001
    /// 2100004 系统繁忙 (fault `busy`).
    package static let busy: Int64 = 2_100_004
    /// 2100005 参数不合法: neither or both of `order_id` / `encrypted_code`; for the list APIs a
    /// missing `account_id` (`cursor`, `size`) or a value out of range, named in `sub_description`.
    package static let invalidParameter: Int64 = 2_100_005
    /// 2190002 access_token无效: missing, unknown or malformed `access-token`.
    package static let invalidToken: Int64 = 2_190_002
    /// 2190004 应用未获得该能力: the app's scope for the API is revoked (`POST /sandbox/scopes/{api}/revoke`).
    package static let noCapability: Int64 = 2_190_004
    /// 2190008 access_token过期: expired (or replaced and past its grace period, or fault `token_expired`).
    package static let tokenExpired: Int64 = 2_190_008
    /// 2119001 参数不合法: the sandbox's answer for an unknown `order_id` / `encrypted_code`
    /// (the order does not exist, or not under the given `account_id`). Douyin does not document a
    /// dedicated "order not found" code for this API; 2119001 is this API's own parameter error.
    package static let orderNotFound: Int64 = 2_119_001
    /// 2119002 系统繁忙 (fault `system_busy`).
    package static let systemBusy: Int64 = 2_119_002
    /// 2119003 请求太过频繁: the API's QPS token bucket is empty (the certificate query's from the
    /// fault profile, each list API's from ``SandboxConfiguration``).
    package static let tooFrequent: Int64 = 2_119_003
    /// 2119005 应用未获商家授权: the merchant account is deauthorized (`POST /sandbox/accounts/{account_id}/deauthorize`).
    package static let notAuthorized: Int64 = 2_119_005
    /// 5000001 服务器打瞌睡了.
    package static let serverSleepy: Int64 = 5_000_001

    /// Client-token endpoint: wrong `client_key` (Douyin's OAuth code 10003).
    package static let tokenBadClientKey: Int64 = 10_003
    /// Client-token endpoint: wrong `client_secret` or malformed request (Douyin's OAuth code 10002, 参数错误).
    package static let tokenBadRequest: Int64 = 10_002

    /// The documented description of `code`.
    package static func description(of code: Int64) -> String {
        switch code {
        case 0: return ""
        case 2_100_001: return "未知错误"
        case 2_100_004: return "系统繁忙,此时请开发者稍候再试"
        case 2_100_005: return "参数不合法"
        case 2_190_002: return "access_token无效"
        case 2_190_004: return "应用未获得该能力, 请去https://open.douyin.com/申请"
        case 2_190_008: return "access_token过期,请刷新或重新授权"
        case 2_119_001: return "参数不合法"
        case 2_119_002: return "系统繁忙,请稍候再试"
        case 2_119_003: return "请求太过频繁,请稍后再试"
        case 2_119_005: return "应用未获商家授权"
        case 3_000_001, 4_000_001: return "以实际错误信息为准"
        case 4_000_002: return "根据实际业务错误返回"
        case 5_000_001: return "服务器打瞌睡了,请稍后再试。"
        case 10_002: return "参数错误"
        case 10_003: return "client_key 错误"
        default: return "未知错误"
        }
    }
}
