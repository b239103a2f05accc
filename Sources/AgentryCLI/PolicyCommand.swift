import ArgumentParser
import Foundation

/// A policy IT writes, as the CLI reaches it.
protocol PolicyTarget {
    /// The API path (`/api/v1/sandbox/policy`).
    static var path: String { get }
    /// How help texts name it.
    static var title: String { get }
    /// Where its format is documented.
    static var document: String { get }
    /// The subcommand's name (`policy` unless the target says otherwise).
    static var commandName: String { get }
}

extension PolicyTarget {
    static var commandName: String { "policy" }
}

/// `agentry tools catalog`.
enum ToolCatalogTarget: PolicyTarget {
    static let path = "/api/v1/tools/catalog"
    static let title = "tool catalog"
    static let document = "docs/tools.md"
    static let commandName = "catalog"
}

/// `agentry sandbox policy`.
enum SandboxPolicyTarget: PolicyTarget {
    static let path = "/api/v1/sandbox/policy"
    static let title = "Sandbox policy"
    static let document = "docs/sandboxes.md"
}

/// `agentry review policy`.
enum ApprovalPolicyTarget: PolicyTarget {
    static let path = "/api/v1/review/policy"
    static let title = "approval policy"
    static let document = "docs/review.md"
}

/// `… policy show|set|reset|history`: a policy IT writes; admins change it, every change a revision.
struct PolicyCommand<Target: PolicyTarget>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Target.commandName,
            abstract: "Show or change the \(Target.title) (format in \(Target.document)).",
            subcommands: [Show.self, Set.self, Reset.self, History.self])
    }

    struct Show: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: "Print the \(Target.title) in effect as YAML.")
        }
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try PolicyCommand.print(try await client.client().send(.GET, Target.path), client, yaml: true)
        }
    }

    struct Set: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Make a YAML file the next revision of the \(Target.title); it is checked first.")
        }
        @OptionGroup var client: ClientOptions
        @Argument(help: "The policy file.") var file: String
        @Option(help: "Refuse the change unless the policy is still at this revision.") var expectedRevision: Int?

        func run() async throws {
            guard let yaml = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read \(file)")
            }
            var body: [String: Any] = ["yaml": yaml]
            if let expectedRevision { body["expected_revision"] = expectedRevision }
            try PolicyCommand.print(try await client.client().send(.PUT, Target.path, json: body), client, yaml: false)
        }
    }

    struct Reset: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: "Make the \(Target.title) Agentry started with the next revision.")
        }
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try PolicyCommand.print(try await client.client().send(.DELETE, Target.path), client, yaml: false)
        }
    }

    struct History: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: "List the stored revisions of the \(Target.title), newest first.")
        }
        @OptionGroup var client: ClientOptions
        @Option(help: "How many (1 to 500).") var limit = 20

        func run() async throws {
            try client.show(
                try await client.client().send(.GET, Target.path + "/revisions?limit=\(limit)"),
                columns: [("REVISION", "revision"), ("CREATED", "created_at"), ("BY", "created_by")])
        }
    }

    static func print(_ answer: APIClient.Answer, _ client: ClientOptions, yaml: Bool) throws {
        guard let object = try client.object(answer) else { return }
        if yaml {
            Swift.print("# revision \(object["revision"] ?? "?") (\(object["source"] ?? "?"))")
            Swift.print(object["yaml"] as? String ?? "")
        } else {
            Swift.print("The \(Target.title) is at revision \(object["revision"] ?? "?").")
        }
    }
}
