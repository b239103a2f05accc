import AgentryServer
import AgentryStore
import AgentryTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing

@Suite("Health, readiness, metrics, request ids")
struct HealthTests {
    @Test(arguments: TestBackend.allCases)
    func healthAndReadiness(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            try await fixture.application().test(.router) { client in
                let health = try await client.call(.get, "/healthz")
                #expect(health.status == .ok)
                #expect(health.json["status"] as? String == "ok")
                let ready = try await client.call(.get, "/readyz")
                #expect(ready.status == .ok)
                #expect(ready.json["database"] as? String == backend.rawValue)
                #expect(ready.json["schema_version"] as? Int == Migrations.latestVersion)
            }
        }
    }

    @Test func readinessFailsWhenTheDatabaseIsGone() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.store.close()
            try await fixture.application().test(.router) { client in
                expectError(try await client.call(.get, "/readyz"), .serviceUnavailable, "database_unavailable")
                #expect(try await client.call(.get, "/healthz").status == .ok)
            }
        }
    }

    @Test func metricsCountRequestsByRoutePatternAndStatus() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let registry = PrometheusCollectorRegistry()
            try await fixture.application(metrics: registry).test(.router) { client in
                _ = try await client.call(.get, "/api/v1/users/me", token: fixture.adminToken)
                _ = try await client.call(.get, "/api/v1/users/\(fixture.admin.id)", token: fixture.adminToken)
                _ = try await client.call(.get, "/api/v1/users/me")
                let metrics = try await client.call(.get, "/metrics")
                #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(
                    metrics.text.contains(
                        #"agentry_http_requests_total{route="/api/v1/users/me",method="GET",status="200"} 1"#))
                #expect(
                    metrics.text.contains(
                        #"agentry_http_requests_total{route="/api/v1/users/me",method="GET",status="401"} 1"#))
                #expect(metrics.text.contains(#"route="/api/v1/users/{id}""#))
                #expect(!metrics.text.contains(fixture.admin.id), "raw paths must not become labels")
                #expect(metrics.text.contains("agentry_http_request_duration_seconds_bucket"))
            }
        }
    }

    @Test func everyResponseCarriesARequestIDAndSaneOnesAreKept() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                let name = HTTPField.Name("x-request-id")!
                let generated = try await client.call(.get, "/healthz")
                #expect(generated.headers[name]?.count == 32)
                let kept = try await client.call(.get, "/nowhere", headers: [name: "trace-123.abc_DEF"])
                #expect(kept.headers[name] == "trace-123.abc_DEF")
                expectError(kept, .notFound, "not_found")
                for hostile in ["has space", "quote\"s", String(repeating: "a", count: 129), "new\\nline"] {
                    let replaced = try await client.call(.get, "/healthz", headers: [name: hostile])
                    #expect(replaced.headers[name] != hostile)
                    #expect(replaced.headers[name]?.count == 32)
                }
            }
        }
    }

    @Test func everyRequestLogLineCarriesTheRequestID() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.live) { client in
                _ = try await client.call(.get, "/api/v1/users/me", token: fixture.adminToken)
                _ = try await client.call(
                    .post, "/api/v1/teams", token: fixture.adminToken, body: #"{"name":"ops","department":"IT"}"#)
                _ = try await client.call(.get, "/api/v1/users/me", token: "agt_pat_garbage")
            }
            let requestLines = fixture.logs.lines.filter { $0.contains("\"hb.request.id\"") }
            #expect(requestLines.count >= 4)
            for line in requestLines { #expect(line.contains("\"request.id\":"), "line without request id: \(line)") }
            let completed = fixture.logs.lines.filter { $0.contains("\"message\":\"request.completed\"") }
            #expect(completed.count == 3)
        }
    }
}
