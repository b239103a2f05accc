import AgentryIdentity
import Testing

@Suite("EmailAddress")
struct EmailAddressTests {
    @Test(arguments: ["ada@example.com", "Ada.Lovelace+agents@Example.CO.uk", "a_b-c@sub-domain.example.org", "x@y.io"])
    func acceptsAndLowercases(_ text: String) throws {
        #expect(try EmailAddress(text).value == text.lowercased())
    }

    @Test(arguments: [
        "", "plain", "@example.com", "ada@", "ada@localhost", "ada@@example.com", "a@b@example.com", ".ada@example.com",
        "ada.@example.com", "a..b@example.com", "ada@-example.com", "ada@example..com", "ada lovelace@example.com",
        "ada@exa mple.com", "adä@example.com", "ada@example.com\n", "'; DROP TABLE users;--@example.com",
        String(repeating: "a", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 250) + ".com",
    ])
    func rejectsWithAReason(_ text: String) {
        #expect(throws: IdentityError.self) { try EmailAddress(text) }
        do {
            _ = try EmailAddress(text)
        } catch {
            #expect(error.code == "invalid_email")
            #expect(!error.message.isEmpty)
        }
    }
}

@Suite("Validate")
struct ValidateTests {
    @Test(arguments: ["Ada Lovelace", "Fin'; DROP TABLE users;--", "ünïcødé 🤖"])
    func labelsKeepAnyVisibleText(_ text: String) throws {
        #expect(try Validate.label(text, field: "display_name", max: 200) == text)
    }

    @Test(arguments: [
        "", " leading", "trailing ", "tab\there", "nul\u{0}byte", "zero\u{200B}width",
        String(repeating: "x", count: 201),
    ])
    func labelsRefuseInvisibleOrEmpty(_ text: String) {
        #expect(throws: IdentityError.self) { try Validate.label(text, field: "display_name", max: 200) }
    }

    @Test(arguments: ["finance", "finance-ops", "team_42", "9lives"])
    func slugsAccept(_ text: String) throws {
        #expect(try Validate.slug(text, field: "name", max: 100) == text)
    }

    @Test(arguments: [
        "", "Finance", "-lead", "_lead", "has space", "semi;colon", "quote'", "ünï", String(repeating: "a", count: 101),
    ])
    func slugsRefuse(_ text: String) {
        #expect(throws: IdentityError.self) { try Validate.slug(text, field: "name", max: 100) }
    }
}
