import AgentryTesting
import Foundation
import Testing

/// `agentry credentials` and `agentry catalog` against a real server with a vault key file.
@Suite("agentry credentials and catalog", .serialized)
struct GatewayCommandTests {
    @Test func credentialsAndTheCatalogAreManagedFromTheCommandLine() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-vault")
            defer { files.remove() }
            let keyFile = files.file("vault.key")
            let keygen = try await AgentryProcess.run(["vault", "keygen", "--out", keyFile])
            #expect(keygen.status == 0, "stderr: \(keygen.stderr)")
            let server = try RunningProcess(
                ["serve", "--port", "0", "--vault-key-file", keyFile] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let auth = ["--server", url, "--token", try #require(token)]
            let secret = "sk-cli-3e9a-never-printed"

            let set = try await AgentryProcess.run(
                ["credentials", "set", "openai-prod", "--from-env", "PROVIDER_KEY"] + auth,
                environment: ["PROVIDER_KEY": secret])
            #expect(set.status == 0, "stderr: \(set.stderr)")
            let list = try await AgentryProcess.run(["credentials", "list"] + auth)
            #expect(list.status == 0 && list.stdout.contains("openai-prod"), "\(list.stdout)")
            for (arguments, environment, message) in [
                (["credentials", "set", "Bad Name", "--from-env", "PROVIDER_KEY"], ["PROVIDER_KEY": "x"], "name:"),
                (["credentials", "set", "ok", "--from-env", "UNSET_VARIABLE"], [:], "not set"),
                (["credentials", "delete", "absent"], [:], "no credential"),
            ] {
                let refused = try await AgentryProcess.run(arguments + auth, environment: environment)
                #expect(refused.status != 0, "\(arguments) succeeded")
                #expect(refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
            }

            let bad = files.file("bad.yaml")
            try "models:\n  - name: x\n".write(toFile: bad, atomically: false, encoding: .utf8)
            let refused = try await AgentryProcess.run(["catalog", "set", bad] + auth)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("models[0]"), "\(refused.stderr)")
            let good = files.file("catalog.yaml")
            try """
            providers:
              - { name: openai, api: openai, base_url: 'https://api.openai.example/v1', credential: openai-prod }
            models:
              - name: gpt-house
                provider: openai
                upstream: gpt-house-2026
                prices: { input: "2.50", cached_input: "1.25", output: "10" }
                context_window: 128000
                max_output_tokens: 16384
                data_classifications: [public, internal]
                zones: [sandbox, catalog]
            """.write(toFile: good, atomically: false, encoding: .utf8)
            let applied = try await AgentryProcess.run(["catalog", "set", good] + auth)
            #expect(applied.status == 0, "stderr: \(applied.stderr)")
            #expect(applied.stdout.contains("gpt-house"), "\(applied.stdout)")
            let shown = try await AgentryProcess.run(["catalog", "show"] + auth)
            #expect(shown.stdout.contains("# source: admin") && shown.stdout.contains("openai-prod"))
            let reset = try await AgentryProcess.run(["catalog", "reset"] + auth)
            #expect(reset.stdout.contains("shipped"), "\(reset.stdout)")
            let deleted = try await AgentryProcess.run(["credentials", "delete", "openai-prod"] + auth)
            #expect(deleted.status == 0, "stderr: \(deleted.stderr)")

            server.signal(SIGTERM)
            _ = try await server.wait(timeout: .seconds(30))
            for text in [set.stdout, set.stderr, list.stdout, server.stdout, server.stderr] {
                #expect(!text.contains(secret), "the credential leaked: \(text.prefix(300))")
            }
        }
    }

    @Test func aVaultKeyFileThatCannotBeReadStopsTheStart() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-vault")
            defer { files.remove() }
            let open = files.file("open.key")
            let keygen = try await AgentryProcess.run(["vault", "keygen", "--out", open])
            #expect(keygen.status == 0)
            chmod(open, 0o644)
            for (path, message) in [(open, "chmod 600"), (files.file("absent.key"), "cannot read")] {
                let outcome = try await AgentryProcess.run(
                    ["serve", "--port", "0", "--vault-key-file", path] + location.serveArguments)
                #expect(outcome.status != 0)
                #expect(outcome.stderr.contains(message), "\(outcome.stderr)")
            }
        }
    }
}
