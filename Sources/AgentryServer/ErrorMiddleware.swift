import AgentryStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the API's JSON error shape, with the request id, and logs the unexpected ones.
///
/// This is the one place errors become HTTP: domain errors map through `APIError.from`, Hummingbird's
/// own 404 becomes 405 when the path exists with other methods, anything else is a 500 whose
/// details go to the log only.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AgentryRequestContext
    let routes: RouteCatalog
    /// The configured body limit, named in 413 errors.
    let bodyBytesMax: Int
    /// Tells database outages (503) apart from bugs (500).
    let store: any StoreBackend

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = classify(error, request: request, context: context)
            return Self.response(for: apiError, requestID: context.requestID)
        }
    }

    private func classify(_ error: any Error, request: Request, context: Context) -> APIError {
        if let apiError = APIError.from(store.unavailability(of: error) ?? error) {
            if apiError.status == .serviceUnavailable {
                context.logger.error(
                    "request.database_unavailable", metadata: ["error.message": .string(apiError.message)])
            }
            return apiError
        }
        if let error = error as? HTTPError {
            switch error.status {
            case .notFound:
                let allowed = routes.methods(forPath: request.uri.path)
                return allowed.isEmpty
                    ? .routeNotFound(request.uri.path) : .methodNotAllowed(request.method, allowed: allowed)
            case .contentTooLarge: return .bodyTooLarge(limit: bodyBytesMax)
            default:
                return APIError(error.status, "http_\(error.status.code)", error.status.reasonPhrase)
            }
        }
        context.logger.error(
            "request.failed",
            metadata: [
                "error.type": .string(String(reflecting: type(of: error))), "error.description": .string("\(error)"),
            ])
        return .internalError
    }

    /// The JSON error response for `error`.
    static func response(for error: APIError, requestID: String) -> Response {
        let body = ErrorBody(error: .init(code: error.code, message: error.message, requestID: requestID))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        var headers = error.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The wire shape of every registry API error.
struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        let code: String
        let message: String
        let requestID: String

        enum CodingKeys: String, CodingKey {
            case code, message
            case requestID = "request_id"
        }
    }

    let error: Detail
}
