import DouyinOpenAPI
import Foundation
import Yams

/// Decoding of admin bodies (JSON) and sandbox files (YAML) into typed input, with errors that
/// name the offending field as a JSON path (`certificates[0].times_count`).
enum SandboxInput {
    /// Decodes a JSON body. An empty body decodes as `{}`.
    static func json<T: Decodable>(_ type: T.Type, from data: Data) throws(SandboxAdminError) -> T {
        let body = data.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 } ? Data("{}".utf8) : data
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch let error as DecodingError {
            throw adminError(error, invalidJSONCode: "invalid_json")
        } catch {
            throw SandboxAdminError(status: 400, code: "invalid_json", message: "body is not JSON: \(error)")
        }
    }

    /// Decodes YAML (or JSON) text; `source` names the file in messages.
    static func yaml<T: Decodable>(_ type: T.Type, from text: String, source: String) throws(SandboxAdminError) -> T {
        do {
            return try YAMLDecoder().decode(type, from: text)
        } catch let error as DecodingError {
            var adminError = adminError(error, invalidJSONCode: "invalid_yaml")
            adminError.message = "\(source): " + adminError.message
            throw adminError
        } catch {
            throw SandboxAdminError(status: 400, code: "invalid_yaml", message: "\(source): \(error)")
        }
    }

    static func adminError(_ error: DecodingError, invalidJSONCode: String) -> SandboxAdminError {
        switch error {
        case .typeMismatch(let type, let context):
            return .invalid(path(context.codingPath), "expected \(typeName(type)): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return .invalid(path(context.codingPath), "expected \(typeName(type)), found null")
        case .keyNotFound(let key, let context):
            return .invalid(path(context.codingPath + [key]), "required field is missing")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return SandboxAdminError(
                    status: 400, code: invalidJSONCode, message: "not valid: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)")
            }
            return .invalid(path(context.codingPath), context.debugDescription)
        @unknown default:
            return .invalid(nil, "\(error)")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String { JSONPath.render(keys) }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "string"
        case is Bool.Type: return "boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type: return "integer"
        case is Double.Type: return "number"
        default: return "\(type)"
        }
    }
}
