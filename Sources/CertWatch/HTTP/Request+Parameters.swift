import Hummingbird

extension Request {
    /// The query parameter `name` as a non-negative integer, `nil` when absent.
    /// Throws ``APIError`` 422 naming the parameter when it is not one.
    func integerParameter(_ name: String) throws(APIError) -> Int64? {
        guard let text = uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text), value >= 0 else {
            throw APIError.invalid("\(name) must be a non-negative integer", field: name)
        }
        return value
    }

    /// The `limit` query parameter: `value` when absent. Throws ``APIError`` 422 outside 1…`maximum`.
    func limitParameter(default value: Int, maximum: Int) throws(APIError) -> Int {
        guard let limit = try integerParameter("limit") else { return value }
        guard (1...Int64(maximum)).contains(limit) else {
            throw APIError.invalid("limit must be between 1 and \(maximum)", field: "limit")
        }
        return Int(limit)
    }
}
