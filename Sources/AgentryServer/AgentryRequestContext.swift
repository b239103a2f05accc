import AgentryIdentity
import Hummingbird
import NIOCore

/// Per-request state: Hummingbird's core storage, the request id, the peer address and, once
/// authenticated, the user the request acts as.
public struct AgentryRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's storage (logger, parameters, endpoint path).
    public var coreContext: CoreRequestContextStorage
    /// The id echoed in `x-request-id`, error bodies and every log line of this request.
    public var requestID: String = ""
    /// The address the connection comes from; nil in router-level tests.
    public let remoteAddress: SocketAddress?
    /// The authenticated caller, set by `AuthenticationMiddleware` on `/api/v1` routes.
    public var principal: Principal?

    /// The authenticated caller; a route behind `AuthenticationMiddleware` always has one.
    func caller() throws -> Principal {
        guard let principal else { throw AuthenticationError.missingCredential }
        return principal
    }

    /// Creates the context for a request arriving on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

/// The user a request acts as and how that was established.
public struct Principal: Sendable {
    /// The authenticated, active user.
    public let user: User
    /// The token presented, or nil when a trusted proxy vouched for the user.
    public let token: TokenRecord?

    /// Throws 403 unless the user holds one of `roles`.
    func require(_ roles: [Role], to action: String) throws {
        guard roles.contains(where: user.has) else { throw APIError.forbidden(action, needs: roles) }
    }
}
