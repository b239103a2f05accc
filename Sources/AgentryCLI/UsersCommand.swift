import ArgumentParser
import Foundation

/// `agentry users …`: the user directory and user administration.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Show and manage users.",
        subcommands: [Me.self, List.self, Show.self, Create.self, Update.self])

    static let columns = [
        ("ID", "id"), ("EMAIL", "email"), ("NAME", "display_name"), ("TEAM", "team"), ("ROLES", "roles"),
        ("DISABLED", "disabled"),
    ]

    struct Me: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the signed-in user.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try client.show(try await client.client().send(.GET, "/api/v1/users/me"), columns: UsersCommand.columns)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (admin, auditor, reviewer, finance).")
        @OptionGroup var client: ClientOptions
        @Option(help: "Page size, 1 to 500.") var limit: Int = 100
        @Option(help: "Continue after this user id (from the previous page).") var after: String?

        func run() async throws {
            var path = "/api/v1/users?limit=\(limit)"
            if let after { path += "&after=\(Query.escape(after))" }
            try client.show(try await client.client().send(.GET, path), columns: UsersCommand.columns)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one user by id (yourself, or anyone for directory roles).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "User id, or 'me'.") var id: String

        func run() async throws {
            try client.show(
                try await client.client().send(.GET, "/api/v1/users/\(Query.escape(id))"), columns: UsersCommand.columns
            )
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (admin).")
        @OptionGroup var client: ClientOptions
        @Option(help: "Email address.") var email: String
        @Option(help: "Display name.") var name: String
        @Option(help: "Team name or id.") var team: String?
        @Option(help: "A role to grant (repeatable): member, reviewer, admin, auditor, finance.") var role: [String] =
            []

        func run() async throws {
            var body: [String: Any] = ["email": email, "display_name": name, "roles": role]
            if let team { body["team"] = team }
            try client.show(
                try await client.client().send(.POST, "/api/v1/users", json: body), columns: UsersCommand.columns)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a user (admin; anyone may rename themselves).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "User id.") var id: String
        @Option(help: "New display name.") var name: String?
        @Option(help: "New team name or id.") var team: String?
        @Flag(help: "Remove the user from its team.") var noTeam = false
        @Option(help: "Replace the roles (repeatable).") var role: [String] = []
        @Flag(help: "Disable the user.") var disable = false
        @Flag(help: "Re-enable the user.") var enable = false

        func validate() throws {
            guard !(disable && enable) else { throw ValidationError("--disable and --enable exclude each other") }
            guard !(noTeam && team != nil) else { throw ValidationError("--team and --no-team exclude each other") }
        }

        func run() async throws {
            var body: [String: Any] = [:]
            if let name { body["display_name"] = name }
            if let team { body["team"] = team }
            if noTeam { body["team"] = NSNull() }
            if !role.isEmpty { body["roles"] = role }
            if disable || enable { body["disabled"] = disable }
            guard !body.isEmpty else {
                throw CLIError("nothing to change: give --name, --team, --no-team, --role, --disable or --enable")
            }
            try client.show(
                try await client.client().send(.PATCH, "/api/v1/users/\(Query.escape(id))", json: body),
                columns: UsersCommand.columns)
        }
    }
}

/// Percent-escaping for path segments and query values.
enum Query {
    /// `text` with everything but unreserved characters percent-encoded.
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? text
    }
}
