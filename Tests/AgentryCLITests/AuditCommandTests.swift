import AgentryAudit
import AgentryTesting
import AsyncHTTPClient
import Foundation
import Testing

/// `agentry audit` as real processes against a server's data directory.
@Suite("agentry audit", .serialized)
struct AuditCommandTests {
    @Test func keygenWritesAPrivateFileOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = directory.file("signing.key")
        let first = try await AgentryProcess.run(["audit", "keygen", "--origin", "example.com/audit", "--out", key])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("example.com/audit+"))
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try await AgentryProcess.run(["audit", "keygen", "--out", key])
        #expect(again.status != 0)
        #expect(again.stderr.contains("cannot create"))
    }

    @Test func verifyPassesThenNamesEachKindOfTampering() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let dataDirectory = location.serveArguments[1]
            let server = try RunningProcess(["serve", "--port", "0", "--data-dir", dataDirectory])
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let secret = try #require(token)
            let verifierKey = try #require(
                server.stdout.firstMatch(of: /agentry\.local\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+\/=]+/)?.output)
            for name in ["alpha", "beta", "gamma"] {
                _ = try await HTTP.send(
                    "POST", "\(url)/api/v1/teams", token: secret, json: #"{"name":"\#(name)","department":"D"}"#)
            }
            let checkpoint = try await HTTP.send("POST", "\(url)/api/v1/audit/checkpoint", token: secret)
            #expect(checkpoint.status == 200, "\(checkpoint.body)")
            let prove = try await AgentryProcess.run(
                ["audit", "prove", "3", "--server", url, "--token", secret, "--verifier-key", String(verifierKey)])
            #expect(prove.status == 0, "stderr: \(prove.stderr)")
            #expect(prove.stdout.contains("kind team.created"))
            server.signal(SIGTERM)
            _ = try await server.wait(timeout: .seconds(30))

            let clean = try await AgentryProcess.run(["audit", "verify", "--data-dir", dataDirectory])
            #expect(clean.status == 0, "stderr: \(clean.stderr)")
            #expect(clean.stdout.contains("Verified 6 records"))
            let incremental = try await AgentryProcess.run([
                "audit", "verify", "--data-dir", dataDirectory, "--incremental",
            ])
            #expect(incremental.status == 0, "stderr: \(incremental.stderr)")
            let bundle = dataDirectory + "-bundle"
            defer { try? FileManager.default.removeItem(atPath: bundle) }
            let export = try await AgentryProcess.run(["audit", "export", "--data-dir", dataDirectory, "--out", bundle])
            #expect(export.status == 0, "stderr: \(export.stderr)")
            let bundled = try await AgentryProcess.run([
                "audit", "verify-bundle", bundle, "--verifier-key", String(verifierKey),
            ])
            #expect(bundled.status == 0, "stderr: \(bundled.stderr)")
            #expect(bundled.stdout.contains("Verified 6 records"))
            let records = bundle + "/records.jsonl"
            let original = try String(contentsOfFile: records, encoding: .utf8)
            try original.replacingOccurrences(of: "kind team.created", with: "kind team.updated")
                .write(toFile: records, atomically: false, encoding: .utf8)
            let forgedBundle = try await AgentryProcess.run([
                "audit", "verify-bundle", bundle, "--verifier-key", String(verifierKey),
            ])
            #expect(forgedBundle.status == 11, "stderr: \(forgedBundle.stderr)")
            let otherKey = try NoteSigner.generate(name: "agentry.local/audit").signer.verifierKey
            let wrongKey = try await AgentryProcess.run([
                "audit", "verify", "--data-dir", dataDirectory, "--verifier-key", otherKey,
            ])
            #expect(wrongKey.status == 10, "stderr: \(wrongKey.stderr)")

            try await AuditFixtures.dropAppendOnlyGuards(location)
            try await RawSQL.execute(
                "UPDATE audit_records SET leaf = replace(leaf, 'team.created', 'team.updated') WHERE idx = 3",
                on: location)
            let modified = try await AgentryProcess.run(["audit", "verify", "--data-dir", dataDirectory])
            #expect(modified.status == 13, "stderr: \(modified.stderr)")
            #expect(modified.stderr.contains("record 3"))

            for statement in [
                "DELETE FROM audit_records WHERE idx >= 3",
                "DELETE FROM audit_hashes WHERE idx >= \(MerkleTree.storedHashCount(size: 3))",
                "DELETE FROM audit_checkpoints", "UPDATE audit_state SET size = 3",
            ] { try await RawSQL.execute(statement, on: location) }
            let truncated = try await AgentryProcess.run(["audit", "verify", "--data-dir", dataDirectory])
            #expect(truncated.status == 12, "stderr: \(truncated.stderr)")

            try FileManager.default.removeItem(atPath: dataDirectory + "/audit-checkpoints.jsonl")
            try await RawSQL.execute(
                "INSERT INTO audit_checkpoints (size, note, created_at) VALUES (2, 'forged', 0)", on: location)
            try FileManager.default.removeItem(atPath: dataDirectory + "/audit-signing.key")
            let missingKey = try await AgentryProcess.run(["serve", "--port", "0", "--data-dir", dataDirectory])
            #expect(missingKey.status != 0)
            #expect(missingKey.stderr.contains("is missing"), "stderr: \(missingKey.stderr)")
        }
    }

    @Test func aWrongSigningKeyIsRefusedAtStart() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let dataDirectory = location.serveArguments[1]
            let server = try RunningProcess(["serve", "--port", "0", "--data-dir", dataDirectory])
            defer { server.stop() }
            _ = try await ServeProcessTests.started(server)
            // The bootstrap events are checkpointed within a second or two.
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? String(contentsOfFile: dataDirectory + "/audit-checkpoints.jsonl", encoding: .utf8)) == nil,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(200))
            }
            server.signal(SIGTERM)
            _ = try await server.wait(timeout: .seconds(30))
            let key = dataDirectory + "/audit-signing.key"
            try FileManager.default.removeItem(atPath: key)
            #expect(try await AgentryProcess.run(["audit", "keygen", "--out", key]).status == 0)
            let restart = try await AgentryProcess.run(["serve", "--port", "0", "--data-dir", dataDirectory])
            #expect(restart.status != 0)
            #expect(restart.stderr.contains("did not sign the log's checkpoints"), "stderr: \(restart.stderr)")
            let malformed = dataDirectory + "/malformed.key"
            try "PRIVATE+KEY+nonsense\n".write(toFile: malformed, atomically: false, encoding: .utf8)
            let broken = try await AgentryProcess.run(
                ["serve", "--port", "0", "--data-dir", dataDirectory, "--audit-signing-key-file", malformed])
            #expect(broken.status != 0)
            #expect(broken.stderr.contains("is not an audit signing key"), "stderr: \(broken.stderr)")
        }
    }
}
