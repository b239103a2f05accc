import AgentryTesting
import Foundation
import Testing

/// The client commands against a real server process: login, users, teams, tokens, and their errors.
@Suite("agentry client commands", .serialized)
struct ClientCommandTests {
    /// Starts a server on a fresh store of `backend`, then runs `body` with a CLI bound to a fresh config dir.
    static func withServer(_ backend: TestBackend, _ body: (CLI) async throws -> Void) async throws {
        try await StoreFixture.withLocation(backend) { location in
            let server = try RunningProcess(["serve", "--port", "0"] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let config = try TemporaryDirectory(prefix: "agentry-config")
            defer { config.remove() }
            try await body(CLI(url: url, adminToken: try #require(token), configDirectory: config.path))
            server.signal(SIGTERM)
            _ = try await server.wait(timeout: .seconds(30))
        }
    }

    /// Runs `agentry` with the config dir isolated to the test.
    struct CLI {
        let url: String
        let adminToken: String
        let configDirectory: String

        func callAsFunction(_ arguments: String...) async throws -> AgentryProcess.Outcome {
            try await AgentryProcess.run(arguments, environment: ["XDG_CONFIG_HOME": configDirectory])
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anAdminSignsInAndManagesTeamsUsersAndTokens(_ backend: TestBackend) async throws {
        try await Self.withServer(backend) { agentry in
            let login = try await agentry("login", "--server", agentry.url, "--token", agentry.adminToken)
            #expect(login.status == 0, "stderr: \(login.stderr)")
            #expect(login.stdout.contains("admin@agentry.local"))
            let file = agentry.configDirectory + "/agentry/credentials.json"
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try await agentry("teams", "create", "finance", "--department", "Finance").status == 0)
            let created = try await agentry(
                "users", "create", "--email", "Ada@Example.com", "--name", "Ada Lovelace", "--team", "finance",
                "--role",
                "reviewer")
            #expect(created.status == 0, "stderr: \(created.stderr)")
            let list = try await agentry("users", "list")
            #expect(list.stdout.contains("ada@example.com"))
            #expect(list.stdout.contains("EMAIL"))
            let json = try await agentry("users", "list", "--json")
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect((object?["items"] as? [Any])?.count == 2)
            let token = try await agentry("tokens", "create", "--name", "laptop", "--expires-in-days", "7")
            #expect(token.stdout.contains("agt_pat_"))
            let tokens = try await agentry("tokens", "list")
            #expect(tokens.stdout.contains("laptop"))
            #expect(!tokens.stdout.contains(agentry.adminToken))
            let me = try await agentry("users", "show", "me", "--json")
            #expect(me.stdout.contains("\"admin\""))
        }
    }

    @Test func errorsPrintWhatAndHowAndExitNonZero() async throws {
        try await Self.withServer(.sqlite) { agentry in
            let notSignedIn = try await agentry("users", "me")
            #expect(notSignedIn.status != 0)
            #expect(notSignedIn.stderr.contains("agentry login"))
            let badToken = try await agentry("login", "--server", agentry.url, "--token", "agt_pat_wrong")
            #expect(badToken.status != 0)
            #expect(badToken.stderr.contains("invalid_token"))
            #expect(!FileManager.default.fileExists(atPath: agentry.configDirectory + "/agentry/credentials.json"))
            #expect(try await agentry("login", "--server", agentry.url, "--token", agentry.adminToken).status == 0)
            let invalid = try await agentry("users", "create", "--email", "not-an-email", "--name", "X")
            #expect(invalid.status != 0)
            #expect(invalid.stderr.contains("email address is invalid"))
            let duplicate = try await agentry("teams", "create", "Bad Name", "--department", "D")
            #expect(duplicate.status != 0)
            #expect(duplicate.stderr.contains("invalid_field"))
            let nothing = try await agentry("users", "update", "usr_x")
            #expect(nothing.status != 0)
            #expect(nothing.stderr.contains("nothing to change"))
            let unreachable = try await agentry("users", "me", "--server", "http://127.0.0.1:1")
            #expect(unreachable.status != 0)
            #expect(unreachable.stderr.contains("cannot reach Agentry"))
            #expect(!unreachable.stderr.contains(agentry.adminToken))
        }
    }
}
