import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// `x-request-id`, carried on every response.
    static let requestID = Self("x-request-id")!
}

/// Gives every request an id (the caller's `x-request-id` when it is sane, a random one otherwise),
/// puts it in the request's logger metadata and echoes it on the response.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AgentryRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = Self.acceptable(request.headers[.requestID]) ?? Self.generate()
        context.requestID = id
        context.logger[metadataKey: "request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    /// The caller's id if it is 1…128 characters of `[A-Za-z0-9._-]`, so it can be logged as is.
    static func acceptable(_ candidate: String?) -> String? {
        guard let candidate, !candidate.isEmpty, candidate.count <= ServerLimits.requestIDCharactersMax else {
            return nil
        }
        let ok = candidate.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
        }
        return ok ? candidate : nil
    }

    /// 128 random bits as 32 hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let text = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }
}
