import Hummingbird

/// Authenticates every request of the group it is added to and stores the `Principal` in the context.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AgentryRequestContext
    let authenticator: Authenticator

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let principal = try await authenticator.principal(for: request, context: context)
        context.principal = principal
        context.logger[metadataKey: "user.id"] = .string(principal.user.id)
        return try await next(request, context)
    }
}
