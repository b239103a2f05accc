import ArgumentParser
import Foundation

/// `agentry teams …`: the organisation's teams.
struct TeamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "teams", abstract: "Show and manage teams.",
        subcommands: [List.self, Show.self, Create.self, Update.self])

    static let columns = [("ID", "id"), ("NAME", "name"), ("DEPARTMENT", "department")]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List teams.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Page size, 1 to 500.") var limit: Int = 100
        @Option(help: "Continue after this team id.") var after: String?

        func run() async throws {
            var path = "/api/v1/teams?limit=\(limit)"
            if let after { path += "&after=\(Query.escape(after))" }
            try client.show(try await client.client().send(.GET, path), columns: TeamsCommand.columns)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one team by name or id.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Team name or id.") var team: String

        func run() async throws {
            try client.show(
                try await client.client().send(.GET, "/api/v1/teams/\(Query.escape(team))"),
                columns: TeamsCommand.columns)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a team (admin).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Team name: lowercase letters, digits, '-' and '_'.") var name: String
        @Option(help: "Department the team belongs to.") var department: String

        func run() async throws {
            let body: [String: Any] = ["name": name, "department": department]
            try client.show(
                try await client.client().send(.POST, "/api/v1/teams", json: body), columns: TeamsCommand.columns)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a team or change its department (admin).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Team name or id.") var team: String
        @Option(help: "New name.") var name: String?
        @Option(help: "New department.") var department: String?

        func run() async throws {
            var body: [String: Any] = [:]
            if let name { body["name"] = name }
            if let department { body["department"] = department }
            guard !body.isEmpty else { throw CLIError("nothing to change: give --name or --department") }
            try client.show(
                try await client.client().send(.PATCH, "/api/v1/teams/\(Query.escape(team))", json: body),
                columns: TeamsCommand.columns)
        }
    }
}
