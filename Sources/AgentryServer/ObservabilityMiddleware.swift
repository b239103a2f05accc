import Hummingbird
import Logging
import Metrics

/// Logs one `request.completed` line per request and records request count and latency by route
/// pattern, method and status through swift-metrics.
///
/// The factory is injected (not the global one) so each application, and each test, has its own registry.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = AgentryRequestContext
    let factory: any MetricsFactory

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        // The route pattern (e.g. /api/v1/users/{id}), never the raw path, keeps the label set bounded.
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [
            ("route", route), ("method", request.method.rawValue), ("status", String(response.status.code)),
        ]
        Counter(label: "agentry_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Metrics.Timer(label: "agentry_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            .recordNanoseconds(Int64(elapsed / .nanoseconds(1)))
        context.logger.info(
            "request.completed",
            metadata: [
                "http.method": .string(request.method.rawValue), "http.route": .string(route),
                "http.status": .stringConvertible(response.status.code),
                "http.duration_ms": .stringConvertible(Double(elapsed / .microseconds(1)) / 1000),
            ])
        return response
    }
}
