import DouyinOpenAPI

/// A `verify_type` given to the admin API or a scenario: Douyin's number (1…4) or the channel's
/// name (`self`, `qr_scan`, `code_input`, `open_api`; see ``VerifyChannel``). Anything else is a
/// decoding error that names the field (HTTP 400 `invalid_argument` in the admin API).
package struct VerifyTypeInput: Sendable, Hashable, Codable {
    /// The channel.
    package var channel: VerifyChannel

    package init(_ channel: VerifyChannel) {
        self.channel = channel
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            guard let channel = VerifyChannel(verifyType: number) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "verify_type must be 1…4 (self, qr_scan, code_input, open_api), got \(number)")
            }
            self.channel = channel
            return
        }
        let text = (try? container.decode(String.self)) ?? ""
        if let channel = VerifyChannel(rawValue: text) ?? Int64(text).flatMap(VerifyChannel.init(verifyType:)) {
            self.channel = channel
            return
        }
        throw DecodingError.dataCorruptedError(
            in: container, debugDescription: "verify_type must be 1…4 or self, qr_scan, code_input, open_api; got \"\(text)\"")
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(channel.verifyType)
    }
}
