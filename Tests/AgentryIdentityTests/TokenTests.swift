import AgentryIdentity
import Foundation
import Testing

@Suite("Tokens")
struct TokenTests {
    @Test(arguments: TokenKind.allCases)
    func secretsCarryTheirKindAndAtLeast128Bits(_ kind: TokenKind) {
        let issued = IssuedToken.issue(kind: kind, userID: "usr_x", name: "n", now: Date(), expiresAt: nil)
        #expect(issued.secret.hasPrefix(kind.secretPrefix))
        #expect(TokenKind.of(secret: issued.secret) == kind)
        let randomPart = issued.secret.dropFirst(kind.secretPrefix.count)
        // base32 carries 5 bits per character.
        #expect(randomPart.count * 5 >= 256)
        #expect(randomPart.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        #expect(issued.record.secretHash == TokenHash.of(issued.secret))
        #expect(!issued.record.hint.contains(String(randomPart.suffix(10))))
        #expect(issued.record.kind == kind)
    }

    @Test func secretsAreNeverRepeated() {
        let secrets = (0..<2000).map { _ in
            IssuedToken.issue(kind: .pat, userID: "u", name: "n", now: Date(), expiresAt: nil).secret
        }
        #expect(Set(secrets).count == secrets.count)
    }

    @Test func hashIsLowercaseHexSHA256() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        #expect(TokenHash.of("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test(arguments: ["", "agt_", "agt_xyz_abc", "Bearer agt_pat_x", "ghp_abcdef", "AGT_PAT_abc"])
    func garbageHasNoKind(_ text: String) {
        #expect(TokenKind.of(secret: text) == nil)
    }

    @Test func rolesParseStrictly() throws {
        #expect(try Role.parse("admin", field: "roles") == .admin)
        #expect(throws: IdentityError.self) { try Role.parse("Admin", field: "roles") }
        #expect(throws: IdentityError.self) { try Role.parse("root", field: "roles") }
    }
}
