import ArgumentParser
import Foundation

/// `agentry tools …`: the tool catalog admins write, and calling a tool with a Sandbox key.
struct ToolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools", abstract: "Tools agents reach through Agentry: the catalog, and calls (docs/tools.md).",
        subcommands: [PolicyCommand<ToolCatalogTarget>.self, List.self, Call.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tools and operations a Sandbox key may call (pass the key with --token).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let answer = try await client.client().send(.GET, "/v1/tools")
            guard let list = try client.object(answer) else { return }
            var rows: [[String]] = []
            for tool in list["data"] as? [[String: Any]] ?? [] {
                for operation in tool["operations"] as? [[String: Any]] ?? [] {
                    rows.append([
                        Table.cell(tool["name"]), Table.cell(operation["name"]), Table.cell(operation["scope"]),
                        Table.cell(tool["price_usd"]),
                    ])
                }
            }
            print(Table.render(headers: ["TOOL", "OPERATION", "SCOPE", "PRICE"], rows: rows))
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a tool operation with a Sandbox key (--token) and print its result as JSON.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The tool's name.") var tool: String
        @Argument(help: "The operation's name.") var operation: String
        @Option(name: .customLong("arg"), help: "An argument as name=value (repeat); the value is sent as text.")
        var arguments: [String] = []
        @Option(name: .customLong("arguments"), help: "The arguments as one JSON object, for values that are not text.")
        var object: String?

        func run() async throws {
            var body: [String: Any] = [:]
            if let object {
                guard let parsed = (try? JSONSerialization.jsonObject(with: Data(object.utf8))) as? [String: Any]
                else { throw CLIError("--arguments must be a JSON object of the operation's arguments") }
                body = parsed
            }
            for argument in arguments {
                let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(
                    String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw CLIError("--arg takes name=value, not '\(argument)'")
                }
                body[parts[0]] = parts[1]
            }
            let answer = try await client.client().send(
                .POST, "/v1/tools/\(Query.escape(tool))/\(Query.escape(operation))", json: body)
            print(String(decoding: answer.body, as: UTF8.self))
        }
    }
}
