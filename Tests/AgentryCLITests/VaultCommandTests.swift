import AgentryGateway
import AgentryTesting
import Foundation
import Testing

/// `agentry vault keygen`: a private key file that the vault reads, never overwritten.
@Suite("agentry vault")
struct VaultCommandTests {
    @Test func keygenWritesAPrivateKeyFileOnce() async throws {
        let directory = try TemporaryDirectory(prefix: "agentry-vault")
        defer { directory.remove() }
        let path = directory.file("vault.key")
        let made = try await AgentryProcess.run(["vault", "keygen", "--out", path])
        #expect(made.status == 0, "\(made.stderr)")
        let key = try VaultKey.load(path: path)
        #expect(made.stdout.contains("vault key \(key.id)"))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!made.stdout.contains(text.trimmingCharacters(in: .whitespacesAndNewlines)), "the key was printed")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try await AgentryProcess.run(["vault", "keygen", "--out", path])
        #expect(again.status != 0 && again.stderr.contains("File exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text, "an existing key was overwritten")
        let missing = try await AgentryProcess.run(["vault", "keygen"])
        #expect(missing.status == 64, "\(missing.stderr)")
    }
}
