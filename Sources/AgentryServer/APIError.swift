import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryRegistry
import AgentryStore
import HTTPTypes

/// An error of the registry API: an HTTP status, a stable snake_case code and a message for humans.
///
/// Every error the API returns has this shape, rendered by `ErrorMiddleware` as
/// `{"error":{"code":"…","message":"…","request_id":"…"}}`; codes are listed in docs/api/errors.md.
public struct APIError: Error, Equatable, Sendable {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The stable code clients switch on.
    public var code: String
    /// What went wrong and how to fix it; never contains a secret or a stack trace.
    public var message: String
    /// Extra response headers, e.g. `Allow` on 405 or `WWW-Authenticate` on 401.
    public var headers: HTTPFields = [:]

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = GatewayError.bounded(message)
        self.headers = headers
    }

    /// 400: the body is not JSON; `message` carries the parse position.
    static func invalidJSON(_ detail: String) -> APIError {
        .init(.badRequest, "invalid_json", "malformed JSON: \(detail)")
    }
    /// 400: the body has a field the closed schema does not know.
    static func unknownField(_ name: String, allowed: [String]) -> APIError {
        .init(
            .badRequest, "unknown_field", "unknown field '\(name)'; allowed fields: \(allowed.joined(separator: ", "))")
    }
    /// 400: a query parameter is malformed.
    static func invalidQuery(_ name: String, _ reason: String) -> APIError {
        .init(.badRequest, "invalid_query", "query parameter '\(name)' \(reason)")
    }
    /// 413: the body is larger than the limit.
    static func bodyTooLarge(limit: Int) -> APIError {
        .init(.contentTooLarge, "body_too_large", "request body exceeds the limit of \(limit) bytes")
    }
    /// 415: the body is not declared as JSON.
    static let unsupportedMediaType = APIError(
        .unsupportedMediaType, "unsupported_media_type", "send the body as JSON with 'Content-Type: application/json'")
    /// 403: the caller lacks a role.
    static func forbidden(_ action: String, needs roles: [Role]) -> APIError {
        .init(
            .forbidden, "forbidden",
            "\(action) requires the role \(roles.map(\.rawValue).joined(separator: " or ")); ask an admin")
    }
    /// 404: no route has this path.
    static func routeNotFound(_ path: String) -> APIError {
        .init(.notFound, "not_found", "no route for \(path); see docs/api for the routes")
    }
    /// 405: the path exists with other methods.
    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> APIError {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        var headers = HTTPFields()
        headers[.allow] = list
        return .init(
            .methodNotAllowed, "method_not_allowed", "\(method.rawValue) is not allowed here; use \(list)",
            headers: headers)
    }
    /// 500: something unexpected; the details are in the log under the request id.
    static let internalError = APIError(
        .internalServerError, "internal_error", "internal error; quote the request id when reporting it")
}

extension APIError {
    /// Maps any error a handler throws to the API error the client sees.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError: error
        case let error as IdentityError: from(error)
        case let error as AuthenticationError: from(error)
        case let error as StoreError: .init(.serviceUnavailable, "database_unavailable", error.message)
        case let error as LedgerError: from(error)
        case let error as RegistryError: from(error)
        case let error as PackageError: from(error)
        case let error as ProofError:
            switch error {
            case .invalidInput(let reason): .init(.badRequest, "invalid_query", reason)
            case .mismatch: nil
            }
        default: nil
        }
    }

    private static func from(_ error: IdentityError) -> APIError {
        let status: HTTPResponse.Status =
            switch error {
            case .invalidField, .invalidEmail: .badRequest
            case .emailTaken, .teamNameTaken, .lastAdmin: .conflict
            case .userNotFound, .teamNotFound, .tokenNotFound: .notFound
            }
        return .init(status, error.code, error.message)
    }

    private static func from(_ error: LedgerError) -> APIError {
        let status: HTTPResponse.Status =
            switch error {
            case .capExceeded: .tooManyRequests
            case .existsWithDifferentAmount, .alreadyResolved, .reservationExpired: .conflict
            case .reservationNotFound: .notFound
            case .settleExceedsReserved, .invalidAmount, .invalidScope, .invalidRequest, .overflow: .badRequest
            }
        return .init(status, error.code, error.description)
    }

    private static func from(_ error: RegistryError) -> APIError {
        let status: HTTPResponse.Status =
            switch error {
            case .invalidTransition, .versionImmutable, .versionNotNewer, .conflict, .suspended: .conflict
            case .agentNotFound, .versionNotFound: .notFound
            case .notOwner: .forbidden
            case .ownerMismatch: .badRequest
            }
        return .init(status, error.code, error.description)
    }

    private static func from(_ error: PackageError) -> APIError {
        let status: HTTPResponse.Status =
            switch error {
            case .tooLarge: .contentTooLarge
            case .malformed, .unsafeEntry, .manifest: .badRequest
            }
        return .init(status, error.code, error.description)
    }

    private static func from(_ error: AuthenticationError) -> APIError {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer realm=\"agentry\""
        return .init(.unauthorized, error.code, error.message, headers: headers)
    }
}

/// Whole-number query parameters, parsed the same way by every route.
enum QueryInteger {
    /// `text` as a number in `range`, `fallback` when absent (nil: required), or 400 `invalid_query`.
    static func parse(_ text: String?, name: String, default fallback: Int64?, range: ClosedRange<Int64>) throws
        -> Int64
    {
        guard let text else {
            guard let fallback else { throw APIError.invalidQuery(name, "is required") }
            return fallback
        }
        guard let value = Int64(text), range.contains(value) else {
            throw APIError.invalidQuery(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}
