import DouyinModels
import Foundation

/// The shape of a JSON value that rule expressions and templates may reference.
package indirect enum SchemaNode: Sendable, Hashable {
    /// An integer (ids are strings; amounts are fen; times are Unix seconds).
    case int
    /// A boolean.
    case bool
    /// A string, optionally restricted to known values (event types, states, …).
    case string(enumValues: [String]?)
    /// A list of elements of one shape.
    case list(SchemaNode)
    /// A map from any string key to values of one shape (`data.watch.labels`).
    case map(SchemaNode)
    /// An object with known members.
    case object([String: SchemaField])
    /// Any JSON value (`data.changes[].before`).
    case any

    /// Plain string without known values.
    package static let string = SchemaNode.string(enumValues: nil)
}

/// A member of an object schema.
package struct SchemaField: Sendable, Hashable {
    /// The member's shape.
    package var node: SchemaNode
    /// Whether the member may be absent or `null` (optional in the Swift type).
    package var nullable: Bool

    package init(_ node: SchemaNode, nullable: Bool = false) {
        self.node = node
        self.nullable = nullable
    }
}

/// The event schema, derived from the Swift event types rather than written by hand: a fully
/// populated sample event (every optional set) is encoded to JSON and walked for paths and types;
/// two sparse samples (optionals unset at the top and inside nested objects) tell which members are
/// nullable. `data.watch.labels` is a string map and `data.changes[].before/after` are any JSON.
package enum EventSchema {
    /// The schema of an event's JSON envelope.
    package static let event: SchemaNode = derive()

    /// Known values of string fields, from the Swift enums.
    static let enumValues: [String: [String]] = [
        "type": EventType.allCases.map(\.rawValue),
        "data.certificate.state": CertificateState.allCases.map(\.rawValue),
        "data.watch.api": CertificateAPI.allCases.map(\.rawValue),
        "data.detected_by": Detection.allCases.map(\.rawValue),
        "data.error.class": DouyinErrorClass.allCases.map(\.rawValue),
        "data.verification.verify_channel": VerifyChannel.allCases.map(\.rawValue),
        "data.certificate.verifications[].verify_channel": VerifyChannel.allCases.map(\.rawValue),
    ]

    static let special: [String: SchemaNode] = [
        "data.watch.labels": .map(.string),
        "data.changes[].before": .any,
        "data.changes[].after": .any,
    ]

    /// The JSON tree of an event, as rules and templates see it (the CloudEvents envelope in
    /// certwatch's normalized encoding).
    package static func tree(of event: CertWatchEvent) -> JSONValue {
        (try? JSONValueEncoder.encode(event)) ?? textTree(of: event)
    }

    /// The same tree through Foundation's `JSONEncoder` text; slower, the reference for tests.
    package static func textTree(of event: CertWatchEvent) -> JSONValue {
        guard let data = try? JSONEncoder().encode(event), let tree = try? JSONValue(parsing: data) else {
            return .null
        }
        return tree
    }

    /// A sample event of `type` with every optional field set (used for the schema and by tests).
    package static func sampleEvent(type: EventType = .verified) -> CertWatchEvent {
        let verification = Verification(
            verifyID: "7212345678901234567", poiID: "6601234567890123456", verifyTime: 1_734_169_082, verifyType: 1,
            canCancel: true, timesCardSerialNum: 1)
        var snapshot = CertificateSnapshot(
            Certificate(certificateID: DouyinID("7301234567890123456")), observedAt: 1_734_169_100)
        snapshot.code = "123456789012"
        snapshot.encryptedCode = "CgYIASAHKAESLgos"
        snapshot.status = 2
        snapshot.usedStatusType = 1
        snapshot.startTime = 1_734_000_000
        snapshot.expireTime = 1_736_000_000
        snapshot.amount = Amount(
            brandTicketAmount: 0, couponPayAmount: 9900, listMarketAmount: 12800, merchantTicketAmount: 0,
            originListMarketAmount: 12800, originalAmount: 9900, originalCurrency: "CNY", payAmount: 9900,
            paymentDiscountAmount: 0, platformDiscountAmount: 0)
        snapshot.sku = SKU(
            accountID: "7000000000000000001", grouponType: 1, marketPrice: 12800, productID: "1800000000000000001",
            productOutID: "p-001", skuID: "1800000000000000002", skuOutID: "s-001", soldStartTime: 1_733_000_000,
            thirdSkuID: "t-001", title: "双人套餐")
        snapshot.timesCard = TimesCard(timesCount: 5, timesUsed: 1)
        snapshot.verifications = [verification]
        snapshot.reserveUsers = [ReserveUser(name: "张三", phone: "13812345678", credentialType: 1, credentialNumb: "110101199001011234")]
        snapshot.state = .verified
        let watch = WatchInfo(
            id: "w_sample", orderID: "1088000000000000001", encryptedCode: "CgYIASAHKAESLgos", api: .compreRetail,
            accountID: "7000000000000000001", labels: ["store": "sh-01"])
        var failure = WatchFailure(
            DouyinAPIError(
                errorClass: .permanent, source: .business, code: 2_100_005, subErrorCode: 1, errorDescription: "参数不合法",
                logid: "20241214093802010203040506"))
        var event = CertWatchEvent(
            transition: Transition(
                type: type, discriminator: verification.verifyID, verification: verification,
                use: TimesCardUse(number: 1, timesUsed: 1, timesCount: 5),
                changes: [FieldChange(field: "status", before: .int(1), after: .int(2))], leadTime: 86_400),
            snapshot: snapshot, watch: watch, time: 1_734_169_100)
        event.sequence = 1
        failure.httpStatus = 200
        event.data.error = failure
        event.data.stall = WatchStall(since: 1_734_165_500, consecutiveFailures: 5)
        event.data.detectedBy = .poll
        return event
    }

    /// Sparse samples: every optional unset at the top level, and inside each nested object.
    static func sparseEvents() -> [CertWatchEvent] {
        let top = CertWatchEvent(
            id: "evt_0", source: "/s", type: .discovered, subject: "1", time: 0, data: EventData(watch: WatchInfo(id: "w")))
        var snapshot = CertificateSnapshot(Certificate(certificateID: DouyinID("1"), raw: .null), observedAt: 0)
        snapshot.amount = Amount()
        snapshot.sku = SKU()
        snapshot.timesCard = TimesCard(timesCount: 1, timesUsed: 0)
        snapshot.verifications = [Verification(verifyID: "v")]
        snapshot.reserveUsers = [ReserveUser()]
        var error = WatchFailure(DouyinAPIError(errorClass: .permanent, source: .transport))
        error.code = nil
        let nested = CertWatchEvent(
            id: "evt_0", source: "/s", type: .discovered, subject: "1", time: 0,
            data: EventData(
                watch: WatchInfo(id: "w"), certificate: snapshot, verification: Verification(verifyID: "v"),
                use: TimesCardUse(number: 1, timesUsed: 1, timesCount: 1),
                changes: [FieldChange(field: "f", before: .null, after: .null)], leadTime: nil, error: error))
        return [top, nested]
    }

    static func derive() -> SchemaNode {
        let full = tree(of: sampleEvent())
        let sparse = sparseEvents().map { tree(of: $0) }
        return node(of: full, path: "", sparse: sparse.map { Optional($0) })
    }

    /// `sparse` holds, per sparse sample, the value at the same path (nil when its parent is absent).
    private static func node(of value: JSONValue, path: String, sparse: [JSONValue?]) -> SchemaNode {
        if let special = special[path] { return special }
        switch value {
        case .null, .double: return .any
        case .bool: return .bool
        case .int, .uint: return .int
        case .string: return .string(enumValues: enumValues[path])
        case .array(let elements):
            guard let first = elements.first else { return .list(.any) }
            return .list(node(of: first, path: path + "[]", sparse: sparse.map { $0?[0] }))
        case .object(let members):
            var fields: [String: SchemaField] = [:]
            for (key, member) in members {
                let childPath = path.isEmpty ? key : path + "." + key
                let nullable = sparse.contains { parent in
                    guard let parent, case .object = parent else { return false }
                    return parent[key] == nil || parent[key] == .null
                }
                fields[key] = SchemaField(
                    node(of: member, path: childPath, sparse: sparse.map { $0?[key] }), nullable: nullable)
            }
            return .object(fields)
        }
    }

    /// Every leaf path of a schema with its type, for documentation (`rules/README.md`).
    package static func paths(of node: SchemaNode = event, prefix: String = "", nullable: Bool = false) -> [(String, String)] {
        switch node {
        case .object(let fields):
            return fields.keys.sorted().flatMap { key in
                let field = fields[key]!
                return paths(of: field.node, prefix: prefix.isEmpty ? key : prefix + "." + key, nullable: field.nullable)
            }
        case .list(let element):
            if case .object = element { return [(prefix, "list of objects" + (nullable ? "?" : ""))] }
            return [(prefix, ExprType(node: node).description + (nullable ? "?" : ""))]
        default:
            return [(prefix, ExprType(node: node).description + (nullable ? "?" : ""))]
        }
    }
}
