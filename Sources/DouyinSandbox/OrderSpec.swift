/// What to create with `POST /sandbox/orders` (and the `create` step of a scenario).
///
/// ```json
/// {"certificates": [{"kind": "voucher"}, {"kind": "times_card", "times_count": 5}], "expire_in": 86400}
/// ```
/// Every field but `certificates` is optional. Amounts are fen, durations seconds.
package struct OrderSpec: Sendable, Hashable, Codable {
    /// One certificate of the order.
    package struct CertificateSpec: Sendable, Hashable, Codable {
        /// `voucher` (default) or `times_card`.
        package var kind: CertificateKind?
        /// Uses of a times card, 1…100 (default 5); must be absent or 1 for a voucher.
        package var timesCount: Int64?
        /// What the buyer paid, fen (default: a price fitting the product).
        package var payAmount: Int64?
        /// `sku.title` (default: a pickup-store product).
        package var title: String?

        package init(kind: CertificateKind? = .voucher, timesCount: Int64? = nil, payAmount: Int64? = nil, title: String? = nil) {
            self.kind = kind
            self.timesCount = timesCount
            self.payAmount = payAmount
            self.title = title
        }

        enum CodingKeys: String, CodingKey {
            case kind, timesCount = "times_count", payAmount = "pay_amount", title
        }
    }

    /// The certificates, 1…50.
    package var certificates: [CertificateSpec]
    /// Seconds from now until `expire_time` (default 30 days; at least 1).
    package var expireIn: Int64?
    /// Seconds from now until `start_time` (default 0; may be positive for not-yet-valid vouchers).
    package var startIn: Int64?
    /// `sku.account_id` (default: the sandbox's merchant account).
    package var accountID: String?
    /// The order id to use (default: generated). Must be unused.
    package var orderID: String?

    package init(
        certificates: [CertificateSpec], expireIn: Int64? = nil, startIn: Int64? = nil, accountID: String? = nil,
        orderID: String? = nil
    ) {
        self.certificates = certificates
        self.expireIn = expireIn
        self.startIn = startIn
        self.accountID = accountID
        self.orderID = orderID
    }

    enum CodingKeys: String, CodingKey {
        case certificates, expireIn = "expire_in", startIn = "start_in", accountID = "account_id", orderID = "order_id"
    }

    /// Checks the limits; throws ``SandboxAdminError`` naming the field.
    func validate() throws(SandboxAdminError) {
        guard (1...50).contains(certificates.count) else {
            throw .invalid("certificates", "an order holds 1 to 50 certificates, got \(certificates.count)")
        }
        for (index, spec) in certificates.enumerated() {
            let kind = spec.kind ?? .voucher
            if let count = spec.timesCount {
                if kind == .voucher, count != 1 {
                    throw .invalid("certificates[\(index)].times_count", "a voucher is used once; use kind times_card")
                }
                guard (1...100).contains(count) else {
                    throw .invalid("certificates[\(index)].times_count", "times_count must be 1…100, got \(count)")
                }
            }
            if let pay = spec.payAmount, !(0...100_000_000).contains(pay) {
                throw .invalid("certificates[\(index)].pay_amount", "pay_amount is fen, 0…100000000, got \(pay)")
            }
        }
        if let expireIn, !(1...(10 * 365 * 86_400)).contains(expireIn) {
            throw .invalid("expire_in", "expire_in must be 1 s … 10 years, got \(expireIn)")
        }
        if let startIn, !(-(365 * 86_400)...(365 * 86_400)).contains(startIn) {
            throw .invalid("start_in", "start_in must be within a year, got \(startIn)")
        }
        if let orderID, orderID.isEmpty || orderID.count > 64 {
            throw .invalid("order_id", "order_id must be 1…64 characters")
        }
    }
}

/// The answer of `POST /sandbox/orders`: the ids needed to query and act on the order.
package struct CreatedOrder: Sendable, Hashable, Codable {
    /// A created certificate.
    package struct CreatedCertificate: Sendable, Hashable, Codable {
        /// `certificate_id` as a decimal string.
        package var certificateID: String
        /// `encrypted_code`.
        package var encryptedCode: String
        /// `code`.
        package var code: String
        /// `voucher` or `times_card`.
        package var kind: CertificateKind

        enum CodingKeys: String, CodingKey {
            case certificateID = "certificate_id", encryptedCode = "encrypted_code", code, kind
        }
    }

    /// `order_id`.
    package var orderID: String
    /// The scenario label of the order (`A`, `B`, …), when a scenario created it.
    package var label: String?
    /// The certificates, in the order of the request.
    package var certificates: [CreatedCertificate]

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", label, certificates
    }
}

/// The body of `POST /sandbox/orders/random`: `{"count": N, "seed": S}` (seed optional).
package struct RandomOrdersSpec: Sendable, Hashable, Codable {
    /// How many orders, 1…10000.
    package var count: Int
    /// Seed of the product mix (default: the sandbox's own generator).
    package var seed: UInt64?

    package init(count: Int, seed: UInt64? = nil) {
        self.count = count
        self.seed = seed
    }
}
