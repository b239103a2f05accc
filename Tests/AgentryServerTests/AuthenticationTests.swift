import AgentryIdentity
import AgentryServer
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Authentication and roles")
struct AuthenticationTests {
    @Test func missingGarbageAndForeignCredentialsGet401() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            try await fixture.application().test(.router) { client in
                let missing = try await client.call(.get, "/api/v1/users/me")
                expectError(missing, .unauthorized, "unauthenticated")
                #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                for garbage in ["agt_pat_0000", "hello", "agt_pat_' OR 1=1 --", fixture.adminToken + "x"] {
                    expectError(
                        try await client.call(.get, "/api/v1/users/me", token: garbage), .unauthorized, "invalid_token")
                }
                let basic = try await client.call(
                    .get, "/api/v1/users/me", headers: [.authorization: "Basic YWRtaW46YWRtaW4="])
                expectError(basic, .unauthorized, "invalid_token")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func revokedExpiredWrongKindAndDisabled(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            let (user, token) = try await fixture.member("bo@example.com")
            let expired = IdentityFixtures.token(for: user.id, expiresAt: Date().addingTimeInterval(-1))
            try await fixture.store.identity.insertToken(expired.record)
            let sandbox = IdentityFixtures.token(for: user.id, kind: .sandbox)
            try await fixture.store.identity.insertToken(sandbox.record)
            let run = IdentityFixtures.token(for: user.id, kind: .run)
            try await fixture.store.identity.insertToken(run.record)
            try await fixture.application().test(.router) { client in
                #expect(try await client.call(.get, "/api/v1/users/me", token: token).status == .ok)
                expectError(
                    try await client.call(.get, "/api/v1/users/me", token: expired.secret), .unauthorized,
                    "token_expired")
                let wrongKind = try await client.call(.get, "/api/v1/users/me", token: sandbox.secret)
                expectError(wrongKind, .unauthorized, "wrong_token_kind")
                #expect(wrongKind.errorMessage.contains("sandbox"))
                expectError(
                    try await client.call(.get, "/api/v1/users/me", token: run.secret), .unauthorized,
                    "wrong_token_kind")
                let tokens = try await client.call(.get, "/api/v1/tokens", token: token)
                let id = try #require(
                    tokens.items.first { $0["hint"] as? String == String(token.prefix(12)) }?["id"] as? String)
                #expect(try await client.call(.delete, "/api/v1/tokens/\(id)", token: token).status == .ok)
                expectError(
                    try await client.call(.get, "/api/v1/users/me", token: token), .unauthorized, "token_revoked")
                let (_, other) = try await fixture.member("cy@example.com")
                let cy = try await client.call(.get, "/api/v1/users/me", token: other)
                let cyID = try #require(cy.json["id"] as? String)
                let disable = try await client.call(
                    .patch, "/api/v1/users/\(cyID)", token: fixture.adminToken, body: #"{"disabled":true}"#)
                #expect(disable.json["disabled"] as? Bool == true)
                expectError(
                    try await client.call(.get, "/api/v1/users/me", token: other), .unauthorized, "user_disabled")
            }
        }
    }

    @Test func membersCannotAdministrate() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (member, token) = try await fixture.member("member@example.com")
            try await fixture.application().test(.router) { client in
                let createUser = try await client.call(
                    .post, "/api/v1/users", token: token, body: #"{"email":"x@example.com","display_name":"X"}"#)
                expectError(createUser, .forbidden, "forbidden")
                #expect(createUser.errorMessage.contains("admin"))
                expectError(
                    try await client.call(
                        .post, "/api/v1/teams", token: token, body: #"{"name":"t","department":"d"}"#),
                    .forbidden, "forbidden")
                expectError(try await client.call(.get, "/api/v1/users", token: token), .forbidden, "forbidden")
                expectError(
                    try await client.call(.get, "/api/v1/users/\(fixture.admin.id)", token: token), .forbidden,
                    "forbidden")
                expectError(
                    try await client.call(
                        .patch, "/api/v1/users/\(member.id)", token: token, body: #"{"roles":["admin"]}"#),
                    .forbidden, "forbidden")
                expectError(
                    try await client.call(.get, "/api/v1/tokens?user_id=\(fixture.admin.id)", token: token), .forbidden,
                    "forbidden")
                let rename = try await client.call(
                    .patch, "/api/v1/users/\(member.id)", token: token, body: #"{"display_name":"Renamed Me"}"#)
                #expect(rename.status == .ok)
                #expect(rename.json["display_name"] as? String == "Renamed Me")
                #expect(rename.json["roles"] as? [String] == ["member"])
                #expect(try await client.call(.get, "/api/v1/teams", token: token).status == .ok)
            }
        }
    }

    @Test func meIsTheCallerForReadingAndRenaming() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (member, token) = try await fixture.member("me@example.com")
            try await fixture.application().test(.router) { client in
                #expect(
                    try await client.call(.get, "/api/v1/users/me", token: token).json["id"] as? String == member.id)
                let renamed = try await client.call(
                    .patch, "/api/v1/users/me", token: token, body: #"{"display_name":"Still Me"}"#)
                #expect(renamed.status == .ok, "\(renamed.text)")
                #expect(renamed.json["display_name"] as? String == "Still Me")
                expectError(
                    try await client.call(.patch, "/api/v1/users/me", token: token, body: #"{"roles":["admin"]}"#),
                    .forbidden,
                    "forbidden")
                #expect(try await client.call(.get, "/api/v1/tokens?user_id=me", token: token).items.count == 1)
                expectError(
                    try await client.call(.get, "/api/v1/tokens?user_id=usr_nobody", token: fixture.adminToken),
                    .notFound,
                    "user_not_found")
            }
        }
    }

    @Test func auditorsReadTheDirectoryButChangeNothing() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, token) = try await fixture.member("audit@example.com", roles: [.auditor])
            try await fixture.application().test(.router) { client in
                #expect(try await client.call(.get, "/api/v1/users", token: token).items.count == 2)
                #expect(try await client.call(.get, "/api/v1/users/\(fixture.admin.id)", token: token).status == .ok)
                expectError(
                    try await client.call(
                        .patch, "/api/v1/users/\(fixture.admin.id)", token: token, body: #"{"disabled":true}"#),
                    .forbidden, "forbidden")
            }
        }
    }
}
