import AgentryIdentity
import AgentryServer
import AgentryTesting
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Users and teams API")
struct UsersAndTeamsAPITests {
    @Test(arguments: TestBackend.allCases)
    func adminsManageTeamsAndUsers(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                let team = try await client.call(
                    .post, "/api/v1/teams", token: token, body: #"{"name":"finance","department":"Finance"}"#)
                #expect(team.status == .created)
                let teamID = try #require(team.json["id"] as? String)
                #expect(teamID.hasPrefix("team_"))
                expectError(
                    try await client.call(
                        .post, "/api/v1/teams", token: token, body: #"{"name":"finance","department":"Other"}"#),
                    .conflict, "team_name_taken")
                let created = try await client.call(
                    .post, "/api/v1/users", token: token,
                    body:
                        #"{"email":"Ada@Example.com","display_name":"Ada Lovelace","team":"finance","roles":["reviewer"]}"#
                )
                #expect(created.status == .created)
                #expect(created.json["email"] as? String == "ada@example.com")
                #expect(created.json["team"] as? String == "finance")
                #expect(created.json["roles"] as? [String] == ["member", "reviewer"])
                let userID = try #require(created.json["id"] as? String)
                expectError(
                    try await client.call(
                        .post, "/api/v1/users", token: token,
                        body: #"{"email":"ada@example.com","display_name":"Again"}"#),
                    .conflict, "email_taken")
                let moved = try await client.call(
                    .patch, "/api/v1/users/\(userID)", token: token, body: #"{"team":null,"roles":["finance"]}"#)
                #expect(moved.json["team"] == nil)
                #expect(moved.json["roles"] as? [String] == ["finance", "member"])
                let renamed = try await client.call(
                    .patch, "/api/v1/teams/finance", token: token, body: #"{"name":"finance-ops"}"#)
                #expect(renamed.json["name"] as? String == "finance-ops")
                #expect(
                    try await client.call(.get, "/api/v1/teams/\(teamID)", token: token).json["name"] as? String
                        == "finance-ops")
                expectError(
                    try await client.call(.get, "/api/v1/teams/finance", token: token), .notFound, "team_not_found")
                expectError(
                    try await client.call(.get, "/api/v1/users/usr_missing", token: token), .notFound, "user_not_found")
                expectError(
                    try await client.call(
                        .patch, "/api/v1/users/\(fixture.admin.id)", token: token, body: #"{"roles":["member"]}"#),
                    .conflict, "last_admin")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func invalidInputIsRefusedWithTheField(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                for email in ["nope", "a@b", "x@@example.com", "'; DROP TABLE users;--", "ada@example.com\u{0}"] {
                    let reply = try await client.call(
                        .post, "/api/v1/users", token: token, body: json(["email": email, "display_name": "X"]))
                    expectError(reply, .badRequest, "invalid_email")
                }
                let role = try await client.call(
                    .post, "/api/v1/users", token: token,
                    body: #"{"email":"r@example.com","display_name":"R","roles":["root"]}"#)
                expectError(role, .badRequest, "invalid_field")
                #expect(role.errorMessage.contains("root"))
                for name in ["Finance", "fin ance", "fin'; DROP TABLE teams;--", "", "-x"] {
                    expectError(
                        try await client.call(
                            .post, "/api/v1/teams", token: token, body: json(["name": name, "department": "D"])),
                        .badRequest, "invalid_field")
                }
                for displayName in ["", " padded", "tab\tname", "bell\u{7}"] {
                    expectError(
                        try await client.call(
                            .post, "/api/v1/users", token: token,
                            body: json(["email": "n@example.com", "display_name": displayName])),
                        .badRequest, "invalid_field")
                }
                expectError(
                    try await client.call(
                        .post, "/api/v1/users", token: token,
                        body: #"{"email":"t@example.com","display_name":"T","team":"ghost"}"#),
                    .notFound, "team_not_found")
                #expect(try await client.call(.get, "/api/v1/users", token: token).items.count == 1)
                #expect(try await client.call(.get, "/api/v1/teams", token: token).items.isEmpty)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func sqlMetacharactersInFreeTextAreStoredVerbatim(_ backend: TestBackend) async throws {
        try await ServerFixture.with(backend) { fixture in
            try await fixture.application().test(.router) { client in
                let token = fixture.adminToken
                for (index, text) in IdentityFixtures.hostileStrings.enumerated() {
                    let team = try await client.call(
                        .post, "/api/v1/teams", token: token, body: json(["name": "t\(index)", "department": text]))
                    #expect(team.json["department"] as? String == text)
                    let user = try await client.call(
                        .post, "/api/v1/users", token: token,
                        body: json(["email": "u\(index)@example.com", "display_name": text, "team": "t\(index)"]))
                    let id = try #require(user.json["id"] as? String)
                    #expect(
                        try await client.call(.get, "/api/v1/users/\(id)", token: token).json["display_name"] as? String
                            == text)
                    let created = try await client.call(
                        .post, "/api/v1/tokens", token: token, body: json(["name": text]))
                    #expect((created.json["record"] as? [String: Any])?["name"] as? String == text)
                }
                #expect(
                    try await client.call(.get, "/api/v1/users?limit=500", token: token).items.count == IdentityFixtures
                        .hostileStrings.count + 1)
            }
        }
    }

    @Test func listingsPageWithACursor() async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            for index in 0..<5 { _ = try await fixture.identity.createTeam(name: "team-\(index)", department: "D") }
            try await fixture.application().test(.router) { client in
                var names: [String] = []
                var after: String?
                repeat {
                    let query = "/api/v1/teams?limit=2" + (after.map { "&after=\($0)" } ?? "")
                    let page = try await client.call(.get, query, token: fixture.adminToken)
                    names += page.items.compactMap { $0["name"] as? String }
                    after = page.json["next_after"] as? String
                    #expect(page.json.keys.contains("next_after"))
                } while after != nil
                #expect(names.sorted() == (0..<5).map { "team-\($0)" })
                for hostile in ["%27%20OR%20%271%27%3D%271", "%3B%20DROP%20TABLE%20teams%3B--", "%00"] {
                    let page = try await client.call(.get, "/api/v1/teams?after=\(hostile)", token: fixture.adminToken)
                    #expect(page.status == .ok)
                }
                #expect(
                    try await client.call(.get, "/api/v1/teams?limit=500", token: fixture.adminToken).items.count == 5)
            }
        }
    }
}
