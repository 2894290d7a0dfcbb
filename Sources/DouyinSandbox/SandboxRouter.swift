import DouyinOpenAPI
import Foundation
import HTTPTypes
import Hummingbird

/// The HTTP routes of the sandbox: Douyin's endpoints and the admin API under `/sandbox/`.
enum SandboxRouter {
    static let maxBody = 1 << 20

    static func make(_ sandbox: DouyinSandbox) -> Router<BasicRequestContext> {
        let router = Router()
        addDouyinRoutes(router, sandbox)
        addAdminRoutes(router, sandbox)
        return router
    }

    // MARK: Douyin endpoints

    static func addDouyinRoutes(_ router: Router<BasicRequestContext>, _ sandbox: DouyinSandbox) {
        for endpoint in [DouyinEndpoint.clientToken, .stableClientToken] {
            let path = DouyinRequest(endpoint: endpoint).path
            router.post(RouterPath(path)) { request, _ in try await douyin(endpoint, request, sandbox) }
        }
        for endpoint in [DouyinEndpoint.query(.compreRetail), .query(.fulfilment), .get, .orderQuery, .verifyRecordQuery] {
            let path = DouyinRequest(endpoint: endpoint).path
            router.get(RouterPath(path)) { request, _ in try await douyin(endpoint, request, sandbox) }
        }
    }

    static func douyin(_ endpoint: DouyinEndpoint, _ request: Request, _ sandbox: DouyinSandbox) async throws -> Response {
        var body = Data()
        if case .clientToken = endpoint {
            body = Data(buffer: try await request.body.collect(upTo: 64 << 10))
        } else if case .stableClientToken = endpoint {
            body = Data(buffer: try await request.body.collect(upTo: 64 << 10))
        }
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        let reply = await sandbox.handle(
            DouyinRequest(
                endpoint: endpoint, method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
                parameters: parameters, accessToken: request.headers[.accessToken], body: body,
                contentType: request.headers[.contentType],
                requestedFault: request.headers[.sandboxFault].flatMap(FaultKind.init(rawValue:)),
                arrivedAt: request.headers[.sandboxArrival].flatMap(Double.init)))
        if reply.delayMs > 0 { try await Task.sleep(for: .milliseconds(reply.delayMs)) }
        let (bytes, contentType) = reply.encoded()
        var headers = HTTPFields()
        headers[.contentType] = contentType
        if let logid = reply.logid { headers[.ttLogid] = logid }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Admin API

    static func addAdminRoutes(_ router: Router<BasicRequestContext>, _ sandbox: DouyinSandbox) {
        let admin = router.group("sandbox")
        admin.get { _, _ in json(AdminIndex()) }
        admin.post("orders") { request, _ in
            await respond { () async throws(SandboxAdminError) in
                let spec = try SandboxInput.json(OrderSpec.self, from: try await body(request))
                return json(try await sandbox.createOrder(spec), status: 201)
            }
        }
        admin.get("orders") { _, _ in json(OrderList(orders: await sandbox.listOrders())) }
        admin.post("orders/random") { request, _ in
            await respond { () async throws(SandboxAdminError) in
                let spec = try SandboxInput.json(RandomOrdersSpec.self, from: try await body(request))
                return json(OrderList(orders: try await sandbox.createRandomOrders(spec)), status: 201)
            }
        }
        admin.get("orders/:order_id") { _, context in
            await respond { () async throws(SandboxAdminError) in
                let (order, certificates) = try await sandbox.order(id: context.parameters.get("order_id") ?? "")
                return json(OrderDetail(order: order, certificates: certificates))
            }
        }
        admin.post("certificates/:certificate_id/:action") { request, context in
            await respond { () async throws(SandboxAdminError) in
                let id = context.parameters.get("certificate_id") ?? ""
                let input = try SandboxInput.json(ActionInput.self, from: try await body(request))
                let poiID = try input.poiID.map { id throws(SandboxAdminError) -> UInt64 in
                    guard let value = UInt64(id.value) else { throw .invalid("poi_id", "poi_id must be a positive integer") }
                    return value
                }
                let certificate: Certificate
                let channel = input.verifyType?.channel ?? .qrScan
                switch context.parameters.get("action") ?? "" {
                case "verify": certificate = try await sandbox.verify(certificateID: id, poiID: poiID, channel: channel)
                case "use": certificate = try await sandbox.use(certificateID: id, poiID: poiID, channel: channel)
                case "cancel": certificate = try await sandbox.cancelVerification(certificateID: id, verifyID: input.verifyID)
                case "refund": certificate = try await sandbox.refund(certificateID: id)
                case "request_refund": certificate = try await sandbox.requestRefund(certificateID: id)
                case "approve_refund":
                    certificate = try await sandbox.approveRefund(
                        certificateID: id, refunding: input.refundingSeconds ?? VoucherLifecycle.defaultRefunding)
                case "reject_refund": certificate = try await sandbox.rejectRefund(certificateID: id)
                case "expire": certificate = try await sandbox.expire(certificateID: id)
                case let other:
                    throw .notFound(
                        "no action \(other); use verify, use, cancel, refund, request_refund, approve_refund, reject_refund or expire",
                        field: "action")
                }
                return json(CertificateAnswer(certificate: certificate))
            }
        }
        admin.get("clock") { _, _ in json(await sandbox.clockReading()) }
        admin.post("clock/advance") { request, _ in
            await respond { () async throws(SandboxAdminError) in
                let input = try SandboxInput.json(AdvanceInput.self, from: try await body(request))
                return json(try await sandbox.advanceClock(by: input.seconds))
            }
        }
        admin.get("faults") { _, _ in json(FaultsAnswer(profile: await sandbox.faultProfile(), pending: await sandbox.pendingFaults())) }
        admin.put("faults") { request, _ in
            await respond { () async throws(SandboxAdminError) in
                let text = String(decoding: try await body(request), as: UTF8.self)
                try await sandbox.setFaultProfile(try FaultProfile.parse(yaml: text.isEmpty ? "{}" : text, source: "body"))
                return json(FaultsAnswer(profile: await sandbox.faultProfile(), pending: await sandbox.pendingFaults()))
            }
        }
        admin.post("faults/next") { request, _ in
            await respond { () async throws(SandboxAdminError) in
                let fault = try SandboxInput.json(QueuedFault.self, from: try await body(request))
                try await sandbox.enqueueFault(fault)
                return json(FaultsAnswer(profile: await sandbox.faultProfile(), pending: await sandbox.pendingFaults()))
            }
        }
        admin.get("access") { _, _ in json(await sandbox.accessState()) }
        admin.post("accounts/:account_id/:action") { _, context in
            await respond { () async throws(SandboxAdminError) in
                let accountID = context.parameters.get("account_id") ?? ""
                switch context.parameters.get("action") ?? "" {
                case "deauthorize": return json(try await sandbox.deauthorize(accountID: accountID))
                case "authorize": return json(try await sandbox.authorize(accountID: accountID))
                case let other: throw .notFound("no action \(other); use authorize or deauthorize", field: "action")
                }
            }
        }
        admin.post("scopes/:api/:action") { _, context in
            await respond { () async throws(SandboxAdminError) in
                let name = context.parameters.get("api") ?? ""
                guard let api = DouyinAPIKind(rawValue: name) else {
                    throw .notFound(
                        "no API \(name); use \(DouyinAPIKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "api")
                }
                switch context.parameters.get("action") ?? "" {
                case "revoke": return json(await sandbox.revokeScope(api))
                case "grant": return json(await sandbox.grantScope(api))
                case let other: throw .notFound("no action \(other); use grant or revoke", field: "action")
                }
            }
        }
        admin.post("tokens/expire") { _, _ in
            await sandbox.expireAllTokens()
            return json(["expired": true])
        }
        admin.post("reset") { _, _ in
            await sandbox.reset()
            return json(["reset": true])
        }
        admin.get("requests") { request, _ in
            await respond { () async throws(SandboxAdminError) in
                let query = request.uri.queryParameters
                let since = try integer(query["since"], field: "since") ?? 0
                let limit = try integer(query["limit"], field: "limit") ?? 1_000
                return json(RequestsAnswer(requests: await sandbox.requests(since: since, limit: limit)))
            }
        }
        admin.get("scenario") { _, _ in
            let status = await sandbox.scenarioStatus()
            return json(ScenarioAnswer(name: status.name, start: status.start, applied: status.applied, remaining: status.remaining))
        }
        admin.on("**", method: .get) { _, _ in notFound() }
        admin.on("**", method: .post) { _, _ in notFound() }
        admin.on("**", method: .put) { _, _ in notFound() }
        admin.on("**", method: .delete) { _, _ in notFound() }
    }

    static func notFound() -> Response {
        error(.notFound("no such admin endpoint; GET /sandbox/ lists them"))
    }

    static func integer(_ text: Substring?, field: String) throws(SandboxAdminError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 0 else { throw .invalid(field, "\(field) must be a non-negative integer") }
        return value
    }

    static func body(_ request: Request) async throws(SandboxAdminError) -> Data {
        do {
            return Data(buffer: try await request.body.collect(upTo: maxBody))
        } catch {
            throw SandboxAdminError(status: 413, code: "payload_too_large", message: "body larger than \(maxBody) bytes")
        }
    }

    static func respond(_ work: () async throws(SandboxAdminError) -> Response) async -> Response {
        do {
            return try await work()
        } catch {
            return Self.error(error)
        }
    }

    static func error(_ error: SandboxAdminError) -> Response {
        json(["error": error], status: error.status)
    }

    static func json(_ value: some Encodable, status: Int = 200) -> Response {
        let bytes = (try? DouyinJSON.wireEncoded(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPField.Name {
    static let accessToken = HTTPField.Name("access-token")!
    static let ttLogid = HTTPField.Name("x-tt-logid")!
    static let sandboxFault = HTTPField.Name("x-sandbox-fault")!
}

// MARK: Admin bodies and answers

struct ActionInput: Decodable {
    var poiID: DouyinID?
    var verifyID: String?
    var verifyType: VerifyTypeInput?
    var refundingSeconds: Int64?
    enum CodingKeys: String, CodingKey {
        case poiID = "poi_id", verifyID = "verify_id", verifyType = "verify_type", refundingSeconds = "refunding_seconds"
    }
}

struct AdvanceInput: Decodable {
    var seconds: Double
}

struct OrderList: Encodable {
    var orders: [CreatedOrder]
}

struct OrderDetail: Encodable {
    var order: CreatedOrder
    var certificates: [Certificate]

    enum CodingKeys: String, CodingKey { case orderID = "order_id", label, certificates }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(order.orderID, forKey: .orderID)
        try c.encodeIfPresent(order.label, forKey: .label)
        try c.encode(certificates, forKey: .certificates)
    }
}

struct CertificateAnswer: Encodable {
    var certificate: Certificate
}

struct FaultsAnswer: Encodable {
    var profile: FaultProfile
    var pending: [QueuedFault]
}

struct RequestsAnswer: Encodable {
    var requests: [RequestLogEntry]
}

struct ScenarioAnswer: Encodable {
    var name: String?
    var start: Int64
    var applied: [ScenarioStepResult]
    var remaining: Int
}

struct AdminIndex: Encodable {
    var endpoints = [
        "POST /sandbox/orders", "GET /sandbox/orders", "GET /sandbox/orders/{order_id}", "POST /sandbox/orders/random",
        "POST /sandbox/certificates/{certificate_id}/verify|use|cancel|refund|request_refund|approve_refund|reject_refund|expire", "GET /sandbox/clock",
        "POST /sandbox/clock/advance", "GET /sandbox/faults", "PUT /sandbox/faults", "POST /sandbox/faults/next",
        "POST /sandbox/tokens/expire", "POST /sandbox/reset", "GET /sandbox/requests?since=N&limit=N",
        "GET /sandbox/scenario", "GET /sandbox/access", "POST /sandbox/accounts/{account_id}/authorize|deauthorize",
        "POST /sandbox/scopes/{certificate_query|order_query|verify_record_query}/grant|revoke",
    ]
}
