import AgentryStore
import Hummingbird
import Prometheus

/// `/healthz`, `/readyz` and `/metrics`: for load balancers, orchestrators and Prometheus.
struct HealthController: Sendable {
    let store: any StoreBackend
    let metrics: PrometheusCollectorRegistry
    let checkpointer: AuditCheckpointer

    struct Health: Encodable {
        let status: String
    }

    struct Readiness: Encodable {
        let status: String
        let database: String
        let schemaVersion: Int
    }

    func register(on router: Router<AgentryRequestContext>, catalog: inout [(HTTPRequest.Method, String)]) {
        router.get("healthz") { _, _ in try JSONResponse.make(Health(status: "ok")) }
        router.get("readyz") { _, _ in try await ready() }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        catalog += [(.get, "/healthz"), (.get, "/readyz"), (.get, "/metrics")]
    }

    /// Ready when the database answers and holds every migration this binary knows.
    private func ready() async throws -> Response {
        let version: Int
        do {
            version = try await store.schemaVersion()
        } catch {
            throw StoreError.unavailable(reason: "the \(store.kind) database did not answer")
        }
        guard version == Migrations.latestVersion else {
            throw APIError(
                .serviceUnavailable, "not_migrated",
                "the database schema is at version \(version), this agentry expects \(Migrations.latestVersion); "
                    + (version < Migrations.latestVersion
                        ? "run 'agentry migrate'"
                        : "upgrade this instance, the database was migrated by a newer agentry")
            )
        }
        if let problem = await checkpointer.problem {
            throw APIError(.serviceUnavailable, "audit_inconsistent", problem)
        }
        return try JSONResponse.make(Readiness(status: "ready", database: store.kind, schemaVersion: version))
    }
}
