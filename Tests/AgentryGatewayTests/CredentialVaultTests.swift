import AgentryGateway
import Foundation
import Testing

/// The credential vault: sealed credentials open only under their key and their name, every
/// change is caught, and no error ever carries a secret or a key.
@Suite("Credential vault")
struct CredentialVaultTests {
    static let secret = "sk-live-0123456789abcdefSECRET"

    @Test func aSealedCredentialOpensUnderItsKeyAndName() throws {
        let (key, text) = VaultKey.generate()
        let vault = CredentialVault(key: key)
        let sealed = try vault.seal(Self.secret, name: "openai-prod")
        #expect(!sealed.contains(Self.secret) && sealed.hasPrefix("v1.\(key.id)."))
        #expect(try vault.open(sealed, name: "openai-prod") == Self.secret)
        // The same key read back from its text opens it; sealing twice gives different texts (random nonces).
        #expect(try CredentialVault(key: VaultKey(text: text)).open(sealed, name: "openai-prod") == Self.secret)
        #expect(try vault.seal(Self.secret, name: "openai-prod") != sealed)
    }

    @Test func changesWrongKeysAndOtherNamesAreRefused() throws {
        let (key, _) = VaultKey.generate()
        let vault = CredentialVault(key: key)
        let sealed = try vault.seal(Self.secret, name: "openai-prod")
        var errors: [VaultError] = []
        func refusal(_ body: () throws -> String) {
            do {
                _ = try body()
                Issue.record("opened what it should not")
            } catch let error as VaultError {
                errors.append(error)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        refusal { try vault.open(sealed, name: "anthropic-prod") }
        var bytes = Array(Data(base64Encoded: String(sealed.split(separator: ".")[2]))!)
        bytes[bytes.count / 2] ^= 0x01
        refusal { try vault.open("v1.\(key.id).\(Data(bytes).base64EncodedString())", name: "openai-prod") }
        refusal { try CredentialVault(key: VaultKey.generate().key).open(sealed, name: "openai-prod") }
        refusal { try vault.open("v2.\(key.id).AAAA", name: "openai-prod") }
        refusal { try vault.open("not sealed", name: "openai-prod") }
        #expect(
            errors == [
                .tampered(name: "anthropic-prod"), .tampered(name: "openai-prod"),
                .wrongKey(sealedWith: key.id, have: errors.count > 2 ? Self.have(errors[2]) : ""), .malformedSealed,
                .malformedSealed,
            ])
        for error in errors { #expect(!error.description.contains(Self.secret)) }
    }

    static func have(_ error: VaultError) -> String {
        if case .wrongKey(_, let have) = error { return have }
        return ""
    }

    @Test func keysAreReadStrictlyAndKeyFilesMustBePrivate() throws {
        let (_, text) = VaultKey.generate()
        for bad in [
            "", "agentry-vault-key:v1:", "agentry-vault-key:v1:AAAA", "agentry-vault-key:v2:" + text.suffix(44),
        ] {
            #expect(throws: VaultError.malformedKey) { try VaultKey(text: bad) }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("vault.key").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let open = #expect(throws: VaultError.self) { try VaultKey.load(path: path) }
        #expect(open?.description.contains("chmod 600") == true && open?.description.contains(text) == false)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try VaultKey.load(path: path).id == VaultKey(text: text).id)
        #expect(throws: VaultError.keyFileUnreadable(path: path + ".missing")) {
            try VaultKey.load(path: path + ".missing")
        }
    }
}
