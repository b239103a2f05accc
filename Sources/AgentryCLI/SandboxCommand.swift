import ArgumentParser
import Foundation

/// `agentry sandbox …`: your own Sandbox, its keys, and IT's Sandbox policy.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Your personal Sandbox, its keys, and the Sandbox policy.",
        subcommands: [Show.self, Key.self, PolicyCommand<SandboxPolicyTarget>.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show your Sandbox (created on first use): models, data classification, caps and spend, keys.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let answer = try await client.client().send(.GET, "/api/v1/sandbox")
            guard let sandbox = try client.object(answer) else { return }
            print(
                "Sandbox of \(sandbox["user_id"] ?? "?") (Sandbox policy revision \(sandbox["policy_revision"] ?? "?"))"
            )
            print("Models: \(((sandbox["models"] as? [String]) ?? []).joined(separator: ", "))")
            let tools = (sandbox["tools"] as? [String]) ?? []
            print("Tools: \(tools.isEmpty ? "none" : tools.joined(separator: ", "))")
            print("Data up to: \(sandbox["max_data_classification"] ?? "?")")
            print("Per run of a draft agent: \(Self.dollars(sandbox["run_cap"]))")
            let windows = (sandbox["caps"] as? [[String: Any]]) ?? []
            print(
                Table.render(
                    headers: ["WINDOW", "CAP", "SETTLED", "IN FLIGHT", "REMAINING"],
                    rows: windows.map { window in
                        [
                            "\(window["window"] ?? "?")", Self.dollars(window["cap"]), Self.dollars(window["settled"]),
                            Self.dollars(window["in_flight"]), Self.dollars(window["remaining"]),
                        ]
                    }))
            let keys = (sandbox["keys"] as? [[String: Any]]) ?? []
            print(keys.isEmpty ? "Keys: none yet; create one with 'agentry sandbox key'" : "Keys:")
            for key in keys { print("  \(key["id"] ?? "?")  \(key["name"] ?? "")  \(key["hint"] ?? "")…") }
        }

        static func dollars(_ value: Any?) -> String {
            guard let text = value as? String else { return "no cap" }
            return "$" + text
        }
    }

    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a Sandbox key for the vendors' SDKs; it is printed once.")
        @OptionGroup var client: ClientOptions
        @Option(help: "A name you will recognise.") var name = "sandbox"
        @Option(help: "Days until it expires (1 to 1826); default: never.") var expiresInDays: Int?

        func run() async throws {
            var body: [String: Any] = ["name": name]
            if let expiresInDays { body["expires_in_days"] = expiresInDays }
            let api = try client.client()
            let answer = try await api.send(.POST, "/api/v1/sandbox/keys", json: body)
            if client.json {
                print(String(decoding: answer.body, as: UTF8.self))
                return
            }
            let object = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any]
            let key = object?["token"] as? String ?? "?"
            let server =
                api.credentials.server.hasSuffix("/")
                ? String(api.credentials.server.dropLast()) : api.credentials.server
            print("Created Sandbox key '\(name)'. It is shown now and never again:\n\n    \(key)\n")
            print("Point the vendors' SDKs at Agentry with it, for example:\n")
            print("    export OPENAI_BASE_URL=\(server)/v1 OPENAI_API_KEY=\(key)")
            print("    export ANTHROPIC_BASE_URL=\(server) ANTHROPIC_API_KEY=\(key)")
        }
    }
}
