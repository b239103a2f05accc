import ArgumentParser
import Foundation

/// `agentry tokens …`: personal access tokens.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Create, list and revoke personal access tokens.",
        subcommands: [List.self, Create.self, Revoke.self])

    static let columns = [
        ("ID", "id"), ("NAME", "name"), ("HINT", "hint"), ("CREATED", "created_at"), ("EXPIRES", "expires_at"),
        ("REVOKED", "revoked_at"),
    ]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List your tokens (admins: --user for anyone's).")
        @OptionGroup var client: ClientOptions
        @Option(help: "User id whose tokens to list (admin).") var user: String?

        func run() async throws {
            let path = "/api/v1/tokens" + (user.map { "?user_id=\(Query.escape($0))" } ?? "")
            try client.show(try await client.client().send(.GET, path), columns: TokensCommand.columns)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; its secret is printed once.")
        @OptionGroup var client: ClientOptions
        @Option(help: "A name you will recognise.") var name: String
        @Option(help: "Days until it expires (1 to 1826); default: never.") var expiresInDays: Int?
        @Option(help: "pat (for the API and CLI) or sandbox (a key for the model gateway and the vendors' SDKs).")
        var kind: String = "pat"

        func run() async throws {
            var body: [String: Any] = ["name": name, "kind": kind]
            if let expiresInDays { body["expires_in_days"] = expiresInDays }
            let answer = try await client.client().send(.POST, "/api/v1/tokens", json: body)
            if client.json {
                print(String(decoding: answer.body, as: UTF8.self))
                return
            }
            let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
            let record = object?["record"] as? [String: Any] ?? [:]
            print("Created token \(record["id"] ?? "?") (\(name)). It is shown now and never again:\n")
            print("    \(object?["token"] ?? "?")\n")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id; it stops working at once.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Token id (tok_…).") var id: String

        func run() async throws {
            try client.show(
                try await client.client().send(.DELETE, "/api/v1/tokens/\(Query.escape(id))"),
                columns: TokensCommand.columns)
        }
    }
}
