import Hummingbird

/// Percent-decodes every path parameter once, before any route reads it, so a client that encodes
/// its path segments (`encodeURIComponent`, Python's `quote`) is understood on every route alike:
/// `/api/v1/teams/%66inance` is the team `finance`, `/api/v1/caps/team%3Afinance` the scope
/// `team:finance`. A segment that is not valid percent-encoding is left as it came.
struct PathParameterMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard context.parameters.contains(where: { $0.value.contains("%") }) else {
            return try await next(request, context)
        }
        var context = context
        var decoded = Parameters()
        for (key, value) in context.parameters {
            decoded.append(key: key, value: value.removingPercentEncoding.map { Substring($0) } ?? value)
        }
        context.coreContext.parameters = decoded
        return try await next(request, context)
    }
}
