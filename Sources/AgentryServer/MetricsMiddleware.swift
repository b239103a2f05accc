import Hummingbird
import Metrics

/// Counts requests and measures their latency by route pattern, method and status, through swift-metrics.
///
/// The factory is injected (not the global one) so each application, and each test, has its own registry.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = AgentryRequestContext
    let factory: any MetricsFactory

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // The route pattern (e.g. /api/v1/users/{id}), never the raw path, keeps the label set bounded.
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [
            ("route", route), ("method", request.method.rawValue), ("status", String(response.status.code)),
        ]
        Counter(label: "agentry_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Metrics.Timer(label: "agentry_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            .recordNanoseconds(Int64((ContinuousClock.now - start) / .nanoseconds(1)))
        return response
    }
}
