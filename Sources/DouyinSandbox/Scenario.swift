import Foundation

/// A scripted timeline of voucher activity, loaded from YAML (`--scenario FILE`).
///
/// ```yaml
/// name: pickup-store-day
/// speed: 60                 # suggested clock speed (the CLI uses it unless --speed is given)
/// steps:
///   - at: 0s
///     create: {order: A, certificates: [{kind: voucher}], expire_in: 10h}
///   - at: 30s
///     verify: {order: A, certificate: 1, poi_id: 7100000000000001}
///   - at: 40m
///     cancel: {order: A, certificate: 1}
/// ```
///
/// `at` is an offset from when the scenario is loaded, in sandbox time: seconds as a number, or
/// text like `45s`, `30m`, `1h30m`, `2d`. Actions: `create` (order label, certificates, `expire_in`,
/// `start_in`, `account_id`); `verify` / `use` / `cancel` / `refund` / `request_refund` /
/// `approve_refund` / `reject_refund` / `expire` (order label and 1-based `certificate` index;
/// `poi_id` and `verify_type` — 1…4 or `self`, `qr_scan`, `code_input`, `open_api`, default 2 — for
/// verify and use; `refunding`, how long an approved refund shows `status` 6 before 4, default 30m,
/// for approve_refund); `faults` (a built-in fault profile name, or `configured` for the profile the
/// sandbox started with). `refund` is request and approval at once (`status` 4 right away).
/// Steps are applied in order when the sandbox clock reaches them (lazily, on the next request
/// or admin call, with their scheduled time), so a run is the same however it is observed.
package struct Scenario: Sendable, Hashable, Codable {
    package var name: String?
    package var description: String?
    /// Suggested clock speed.
    package var speed: Double?
    package var steps: [ScenarioStep]

    package init(name: String? = nil, description: String? = nil, speed: Double? = nil, steps: [ScenarioStep]) {
        self.name = name
        self.description = description
        self.speed = speed
        self.steps = steps
    }

    /// Reads and validates a scenario file.
    package static func load(path: String) throws(SandboxAdminError) -> Scenario {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .notFound("cannot read scenario file \(path)")
        }
        return try parse(yaml: text, source: path)
    }

    /// Parses and validates scenario YAML.
    package static func parse(yaml text: String, source: String = "scenario") throws(SandboxAdminError) -> Scenario {
        var scenario = try SandboxInput.yaml(Scenario.self, from: text, source: source)
        do {
            try scenario.validate()
        } catch {
            var error = error
            error.message = "\(source): " + error.message
            throw error
        }
        scenario.steps = scenario.steps.enumerated().sorted { ($0.element.at.seconds, $0.offset) < ($1.element.at.seconds, $1.offset) }
            .map(\.element)
        return scenario
    }

    func validate() throws(SandboxAdminError) {
        var created: [String: Int] = [:]
        let ordered = steps.enumerated().sorted { ($0.element.at.seconds, $0.offset) < ($1.element.at.seconds, $1.offset) }
        for (index, step) in ordered {
            let field = "steps[\(index)]"
            guard step.at.seconds >= 0 else { throw .invalid("\(field).at", "at must not be negative") }
            let actions = step.actionCount
            guard actions == 1 else {
                throw .invalid(
                    field,
                    "a step has exactly one of create, \(ScenarioStep.Action.allCases.map(\.rawValue).joined(separator: ", ")), faults (found \(actions))")
            }
            if let create = step.create {
                guard created[create.order] == nil else { throw .invalid("\(field).create.order", "order label \(create.order) is created twice") }
                try create.orderSpec.validate()
                created[create.order] = create.certificates.count
            } else if let (name, target) = step.target {
                guard let count = created[target.order] else {
                    throw .invalid("\(field).\(name.rawValue).order", "order \(target.order) is not created by an earlier step")
                }
                guard (1...count).contains(target.certificate ?? 1) else {
                    throw .invalid("\(field).\(name.rawValue).certificate", "order \(target.order) has certificates 1…\(count)")
                }
                if let refunding = target.refunding {
                    try VoucherLifecycle.validateRefunding(refunding.seconds, field: "\(field).\(name.rawValue).refunding")
                }
            } else if let faults = step.faults, FaultProfile.builtins[faults] == nil, faults != ScenarioStep.configuredFaults {
                throw .invalid("\(field).faults", "unknown built-in fault profile \(faults)")
            }
        }
    }
}

/// An offset or duration in a scenario: a number of seconds or text like `90s`, `15m`, `1h30m`, `2d`.
package struct ScenarioDuration: Sendable, Hashable, Codable, ExpressibleByIntegerLiteral {
    package var seconds: Int64

    package init(seconds: Int64) {
        self.seconds = seconds
    }

    package init(integerLiteral value: Int64) {
        self.seconds = value
    }

    /// Parses `90`, `90s`, `15m`, `1h30m`, `2d`; `nil` if malformed.
    package init?(text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let value = Int64(text) {
            seconds = value
            return
        }
        var total: Int64 = 0
        var number = ""
        for character in text {
            if character.isASCII, character.isNumber {
                number.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Int64(number) else { return nil }
            total += value * unit
            number = ""
        }
        guard number.isEmpty, !text.isEmpty else { return nil }
        seconds = total
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            seconds = value
        } else {
            let text = try container.decode(String.self)
            guard let parsed = ScenarioDuration(text: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected seconds or a duration like 30s, 15m, 1h30m, 2d; got \"\(text)\"")
            }
            self = parsed
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(seconds)
    }
}

/// One step of a ``Scenario``: `at` plus exactly one action.
package struct ScenarioStep: Sendable, Hashable, Codable {
    /// `create`: an order with a label other steps refer to.
    package struct Create: Sendable, Hashable, Codable {
        package var order: String
        package var certificates: [OrderSpec.CertificateSpec]
        package var expireIn: ScenarioDuration?
        package var startIn: ScenarioDuration?
        package var accountID: String?

        enum CodingKeys: String, CodingKey {
            case order, certificates, expireIn = "expire_in", startIn = "start_in", accountID = "account_id"
        }

        var orderSpec: OrderSpec {
            OrderSpec(certificates: certificates, expireIn: expireIn?.seconds, startIn: startIn?.seconds, accountID: accountID)
        }
    }

    /// The certificate an action applies to: order label and 1-based index (default 1).
    package struct Target: Sendable, Hashable, Codable {
        package var order: String
        package var certificate: Int?
        /// verify / use: the store (default: the configured one).
        package var poiID: UInt64?
        /// verify / use: `verify_type` (default 2, QR scan).
        package var verifyType: VerifyTypeInput?
        /// approve_refund: how long `status` stays 6 (refunding) before 4 (default 30m).
        package var refunding: ScenarioDuration?

        enum CodingKeys: String, CodingKey {
            case order, certificate, poiID = "poi_id", verifyType = "verify_type", refunding
        }
    }

    /// A certificate action.
    package enum Action: String, Sendable, Hashable, CaseIterable {
        case verify, use, cancel, refund
        case requestRefund = "request_refund"
        case approveRefund = "approve_refund"
        case rejectRefund = "reject_refund"
        case expire
    }

    /// The `faults` value that restores the profile the sandbox started with (`--faults`).
    package static let configuredFaults = "configured"

    package var at: ScenarioDuration
    package var create: Create?
    package var verify: Target?
    package var use: Target?
    package var cancel: Target?
    package var refund: Target?
    package var requestRefund: Target?
    package var approveRefund: Target?
    package var rejectRefund: Target?
    package var expire: Target?
    /// Switches the fault profile to this built-in one.
    package var faults: String?

    enum CodingKeys: String, CodingKey {
        case at, create, verify, use, cancel, refund, requestRefund = "request_refund", approveRefund = "approve_refund"
        case rejectRefund = "reject_refund", expire, faults
    }

    var targets: [(Action, Target?)] {
        [
            (.verify, verify), (.use, use), (.cancel, cancel), (.refund, refund), (.requestRefund, requestRefund),
            (.approveRefund, approveRefund), (.rejectRefund, rejectRefund), (.expire, expire),
        ]
    }

    var actionCount: Int {
        targets.filter { $0.1 != nil }.count + (create != nil ? 1 : 0) + (faults != nil ? 1 : 0)
    }

    /// The action and target of a certificate action.
    var target: (Action, Target)? {
        targets.lazy.compactMap { action, target in target.map { (action, $0) } }.first
    }
}

/// What happened to one scenario step (`GET /sandbox/scenario`).
package struct ScenarioStepResult: Sendable, Hashable, Codable {
    /// Index in the (time-ordered) steps.
    package var index: Int
    /// Sandbox time the step was applied at, Unix seconds.
    package var time: Int64
    /// The action, e.g. `verify A#1`.
    package var action: String
    /// Why it was refused, when it was.
    package var error: String?
}
