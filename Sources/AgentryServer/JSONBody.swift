import AgentryGateway
import Foundation
import Hummingbird
import NIOCore

/// A request body with a closed set of fields: any other field is refused, so typos do not pass silently.
protocol ClosedJSONBody: Decodable, Sendable {
    /// The JSON names of every field the body may carry.
    static var fields: [String] { get }
}

/// Reads every key of a JSON object without decoding the values.
private struct FieldNames: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let names: [String]

    init(from decoder: any Decoder) throws {
        names = try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)
    }
}

extension Request {
    /// Reads and decodes a JSON body: size limit (413), media type (415), syntax with position (400),
    /// closed field set (400 `unknown_field`), then typed decoding with the field path in errors (400).
    mutating func decodeJSON<Body: ClosedJSONBody>(_ type: Body.Type, limit: Int) async throws -> Body {
        let mediaType = headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard mediaType?.lowercased() == "application/json" else { throw APIError.unsupportedMediaType }
        let bytes = try await bytes(limit: limit)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError.invalidJSON("the body is not valid UTF-8")
        }
        do {
            try JSONSyntax.check(bytes, depthMax: ServerLimits.jsonDepthMax)
        } catch {
            throw APIError.invalidJSON(error.description)
        }
        let data = Data(bytes)
        let decoder = JSONDecoder()
        do {
            let names = try decoder.decode(FieldNames.self, from: data).names
            if let unknown = names.sorted().first(where: { !Body.fields.contains($0) }) {
                throw APIError.unknownField(unknown, allowed: Body.fields)
            }
            return try decoder.decode(Body.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                let field = JSONValue.parse(bytes).flatMap(Self.wideNumber)
            {
                // The syntax check passed, so Foundation refused a number it cannot hold.
                throw APIError(
                    .badRequest, "invalid_field", "field '\(field)' is out of range: whole numbers must fit in 64 bits")
            }
            throw APIError(.badRequest, "invalid_field", Self.describe(error))
        }
    }

    /// The dotted path of the first whole number in `value` too wide for 64 bits, if any.
    private static func wideNumber(in value: JSONValue) -> String? {
        switch value {
        case .double(let number) where number.rounded() == number && abs(number) >= 9.2e18: return ""
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let inner = wideNumber(in: member) { return inner.isEmpty ? key : key + "." + inner }
            }
            return nil
        case .array(let items):
            for (offset, item) in items.enumerated() {
                if let inner = wideNumber(in: item) { return inner.isEmpty ? "\(offset)" : "\(offset)." + inner }
            }
            return nil
        default: return nil
        }
    }

    /// Says which field failed and why, in the API's snake_case names.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "body" : "field '" + keys.map(\.stringValue).joined(separator: ".") + "'"
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) must be \(Self.jsonKind(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) must be \(Self.jsonKind(type)), not null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is required"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)) is invalid: \(context.debugDescription)"
        @unknown default:
            return "the body does not match the expected shape"
        }
    }

    private static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [Any].Type, is [String].Type: "an array"
        default: "an object"
        }
    }

    /// The whole body, refused with 413 `body_too_large` past `limit` bytes (declared or sent).
    mutating func bytes(limit: Int) async throws -> [UInt8] {
        if let declared = headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        do {
            return Array(try await collectBody(upTo: limit).readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.bodyTooLarge(limit: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }
}
