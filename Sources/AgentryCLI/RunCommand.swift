import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// `agentry run AGENT --input name=value …`: runs an agent and prints its output (with
/// `--follow`, its events as they happen).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an agent (its published version, or with --version a draft of yours) and print its output.",
        discussion: """
            Inputs are the agent's form fields: --input name=value (text; numbers and true/false are read
            as the form's type), or --inputs '{"name": …}' for JSON values. Exits non-zero when the run
            does not succeed.
            """)
    @OptionGroup var client: ClientOptions
    @Argument(help: "The agent's name.") var agent: String
    @Option(name: .customLong("input"), help: "One input as name=value; repeat for more.")
    var input: [String] = []
    @Option(name: .customLong("inputs"), help: "All inputs as one JSON object.") var inputsJSON: String?
    @Option(help: "The version to run (a draft of yours runs in your Sandbox).") var version: String?
    @Flag(help: "Print the run's events as they happen.") var follow = false
    @Flag(help: "Start the run and print its id without waiting for it to end.") var detach = false

    func run() async throws {
        var inputs: [String: Any] = [:]
        if let inputsJSON {
            guard let object = try? JSONSerialization.jsonObject(with: Data(inputsJSON.utf8)) as? [String: Any] else {
                throw CLIError("--inputs must be a JSON object of the agent's inputs")
            }
            inputs = object
        }
        for pair in input {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("--input takes name=value, not '\(pair)'")
            }
            inputs[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        var body: [String: Any] = ["inputs": inputs]
        if let version { body["version"] = version }
        let api = try client.client()
        let started = try await api.send(.POST, "/api/v1/agents/\(Query.escape(agent))/runs", json: body)
        let run = try JSONSerialization.jsonObject(with: started.body) as? [String: Any] ?? [:]
        guard let id = run["id"] as? String else { throw CLIError("the server answered without a run id") }
        if detach {
            if client.json { print(String(decoding: started.body, as: UTF8.self)) } else { print(id) }
            return
        }
        try await RunsCommand.follow(id, api: api, printing: follow && !client.json)
        let finished = try await api.send(.GET, "/api/v1/runs/\(Query.escape(id))")
        try RunsCommand.report(finished, client: client)
    }
}

/// `agentry runs list|show|cancel|events`.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Runs: list, show, cancel, and follow their events.",
        subcommands: [List.self, Show.self, Cancel.self, Events.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List runs you may see (yours, your agents'; all for admins and auditors), newest first.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only runs of this agent.") var agent: String?
        @Option(help: "Only runs in this status.") var status: String?
        @Flag(help: "Only runs you started.") var mine = false

        func run() async throws {
            var query: [String] = []
            if let agent { query.append("agent=\(Query.escape(agent))") }
            if let status { query.append("status=\(Query.escape(status))") }
            if mine { query.append("mine=true") }
            try client.show(
                try await client.client().send(
                    .GET, "/api/v1/runs" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))),
                columns: [
                    ("ID", "id"), ("AGENT", "agent"), ("VERSION", "version"), ("ZONE", "zone"), ("STATUS", "status"),
                    ("COST", "cost_usd"), ("CREATED", "created_at"),
                ])
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a run: status, output, cost and its calls.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The run's id.") var id: String

        func run() async throws {
            try RunsCommand.report(
                try await client.client().send(.GET, "/api/v1/runs/\(Query.escape(id))"), client: client)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ask a queued or running run to stop.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The run's id.") var id: String

        func run() async throws {
            let answer = try await client.client().send(.POST, "/api/v1/runs/\(Query.escape(id))/cancel")
            guard let run = try client.object(answer) else { return }
            print("\(id): cancellation requested (status \(run["status"] ?? "?"))")
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a run's events until it ends.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The run's id.") var id: String

        func run() async throws { try await RunsCommand.follow(id, api: try client.client(), printing: true) }
    }

    /// Reads the run's event stream until its final status, printing each event when asked.
    static func follow(_ id: String, api: APIClient, printing: Bool) async throws {
        try await api.events("/api/v1/runs/\(Query.escape(id))/events") { kind, data in
            guard printing else { return }
            print("\(kind) \(data)")
        }
    }

    /// Prints a run (its output when it succeeded); throws so the exit status is non-zero otherwise.
    static func report(_ answer: APIClient.Answer, client: ClientOptions) throws {
        let run = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
        let status = run["status"] as? String ?? "?"
        if client.json {
            print(String(decoding: answer.body, as: UTF8.self))
        } else {
            print("run \(run["id"] ?? "?"): \(status), cost $\(run["cost_usd"] ?? "0")")
            if let output = run["output"], !(output is NSNull),
                let data = try? JSONSerialization.data(
                    withJSONObject: output, options: [.sortedKeys, .fragmentsAllowed])
            {
                print(String(decoding: data, as: UTF8.self))
            }
            for call in run["calls"] as? [[String: Any]] ?? [] {
                print(
                    "  \(call["kind"] ?? "") \(call["model"] ?? call["tool"] ?? "") \(call["outcome"] ?? "") $\(call["cost_usd"] ?? "0")"
                )
            }
        }
        if ["queued", "running", "succeeded"].contains(status) { return }
        throw CLIError("the run ended \(status): \(run["error"] as? String ?? "no reason given")")
    }
}

extension APIClient {
    /// Reads the server-sent events at `path` until the stream ends, calling `each` with every
    /// event's name and data.
    func events(_ path: String, each: (String, String) -> Void) async throws {
        let base = credentials.server.hasSuffix("/") ? String(credentials.server.dropLast()) : credentials.server
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Authorization", value: "Bearer \(credentials.token)")
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .hours(24))
        } catch {
            throw CLIError("cannot reach Agentry at \(base): \(error)")
        }
        guard response.status.code == 200 else {
            _ = try await send(.GET, path)  // the same request again, for its error message
            throw CLIError("the server answered HTTP \(response.status.code) to \(path)")
        }
        var pending = ""
        var (kind, data) = ("message", "")
        for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let newline = pending.firstIndex(of: "\n") {
                let line = String(pending[..<newline])
                pending = String(pending[pending.index(after: newline)...])
                if line.isEmpty {
                    if !data.isEmpty { each(kind, data) }
                    (kind, data) = ("message", "")
                } else if line.hasPrefix("event: ") {
                    kind = String(line.dropFirst(7))
                } else if line.hasPrefix("data: ") {
                    data += String(line.dropFirst(6))
                }
            }
        }
    }
}
