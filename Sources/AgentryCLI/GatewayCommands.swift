import ArgumentParser
import Foundation

/// `agentry credentials …`: provider keys the gateway injects, sealed by the vault (admin).
struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials", abstract: "Store provider keys for the model gateway (admin); never shown again.",
        subcommands: [List.self, Set.self, Delete.self])

    static let columns = [("NAME", "name"), ("KEY", "key_id"), ("UPDATED", "updated_at"), ("BY", "updated_by")]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List credential names (never their secrets).")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try client.show(try await client.client().send(.GET, "/api/v1/credentials"), columns: columns)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a credential: the secret is read from standard input (or an environment variable), "
                + "never from the command line, so it stays out of shell history and process lists.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The name providers refer to, e.g. openai.") var name: String
        @Option(help: "Read the secret from this environment variable instead of standard input.")
        var fromEnv: String?

        func run() async throws {
            let secret: String
            if let variable = fromEnv {
                guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                    throw CLIError("the environment variable \(variable) is not set")
                }
                secret = value
            } else {
                let input = FileHandle.standardInput.readDataToEndOfFile()
                secret = String(decoding: input, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard !secret.isEmpty else { throw CLIError("no secret: pipe it on standard input, or use --from-env") }
            let answer = try await client.client().send(
                .PUT, "/api/v1/credentials/\(Query.escape(name))", json: ["secret": secret])
            if client.json {
                print(String(decoding: answer.body, as: UTF8.self))
                return
            }
            print("Stored credential \(name), sealed by the vault; it is never shown again.")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a credential.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The credential's name.") var name: String

        func run() async throws {
            _ = try await client.client().send(.DELETE, "/api/v1/credentials/\(Query.escape(name))")
            print("Deleted credential \(name).")
        }
    }
}

/// `agentry catalog …`: the models the gateway offers (admins replace the shipped catalog).
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Show or replace the gateway's model catalog.",
        subcommands: [Show.self, Set.self, Reset.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the catalog in effect as YAML.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try CatalogCommand.printCatalog(try await client.client().send(.GET, "/api/v1/gateway/catalog"), client)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the catalog with a YAML file (format in docs/gateway.md); it is checked first.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The catalog file.") var file: String

        func run() async throws {
            guard let yaml = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw CLIError("cannot read \(file)")
            }
            let answer = try await client.client().send(.PUT, "/api/v1/gateway/catalog", json: ["yaml": yaml])
            try CatalogCommand.printSummary(answer, client)
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Go back to the catalog shipped with Agentry.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try CatalogCommand.printSummary(try await client.client().send(.DELETE, "/api/v1/gateway/catalog"), client)
        }
    }

    static func printCatalog(_ answer: APIClient.Answer, _ client: ClientOptions) throws {
        guard let object = try client.object(answer) else { return }
        print("# source: \(object["source"] ?? "?")")
        print(object["yaml"] as? String ?? "")
    }

    static func printSummary(_ answer: APIClient.Answer, _ client: ClientOptions) throws {
        guard let object = try client.object(answer) else { return }
        let models = (object["models"] as? [String]) ?? []
        print(
            "The \(object["source"] ?? "?") catalog is in effect: \(models.count) models (\(models.joined(separator: ", ")))."
        )
    }
}
