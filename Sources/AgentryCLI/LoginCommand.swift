import ArgumentParser
import Foundation

/// `agentry login`: checks a token against a server and saves both for later commands.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Save a server URL and token (checked against the server first).")

    @Option(help: "Server URL, e.g. http://127.0.0.1:8080.")
    var server: String
    @Option(help: "A personal access token (agt_pat_…).")
    var token: String

    func run() async throws {
        let credentials = Credentials(server: server, token: token)
        let answer = try await APIClient(credentials: credentials).send(.GET, "/api/v1/users/me")
        let me = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
        try credentials.save()
        let email = me?["email"] as? String ?? "?"
        let roles = (me?["roles"] as? [String] ?? []).joined(separator: ", ")
        print("Signed in to \(server) as \(email) (\(roles)). Credentials saved in \(Credentials.path).")
    }
}
