import ArgumentParser
import Foundation

extension AgentCommand {
    /// `agentry agent suspend NAME --reason …`: the kill switch (admins).
    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend an agent (admins): it leaves the Catalog and its new runs are refused at once.")
        @OptionGroup var change: StateChangeOptions

        func run() async throws { try await change.send("suspend") }
    }

    /// `agentry agent resume NAME --reason …` (admins).
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a suspension (admins).")
        @OptionGroup var change: StateChangeOptions

        func run() async throws { try await change.send("resume") }
    }

    /// `agentry agent deprecate NAME --reason …` (its owner or an admin).
    struct Deprecate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deprecate an agent (its owner or an admin): it still runs, and people are told to move on.")
        @OptionGroup var change: StateChangeOptions

        func run() async throws { try await change.send("deprecate") }
    }

    /// The agent and reason every state change takes.
    struct StateChangeOptions: ParsableArguments {
        @OptionGroup var client: ClientOptions
        @Argument(help: "The agent's name.") var name: String
        @Option(help: "Why: kept with the agent's history and in the audit log.") var reason: String

        /// Posts the change and prints the state it left.
        func send(_ change: String) async throws {
            let answer = try await client.client().send(
                .POST, "/api/v1/agents/\(Query.escape(name))/\(change)", json: ["reason": reason])
            guard let agent = try client.object(answer) else { return }
            print("\(agent["name"] ?? name) is \(agent["state"] ?? "?")")
        }
    }

    /// `agentry agent transfer NAME --to EMAIL --reason …`.
    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask to hand an agent to another user; a reviewer decides (agentry review transfers).")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The agent's name.") var name: String
        @Option(help: "The new owner's email address.") var to: String
        @Option(help: "Why the agent changes hands.") var reason: String

        func run() async throws {
            let answer = try await client.client().send(
                .POST, "/api/v1/agents/\(Query.escape(name))/transfers", json: ["to": to, "reason": reason])
            try ReviewCommand.Transfers.printTransfer(answer, client)
        }
    }
}

extension ReviewCommand {
    /// `agentry review transfers list|show|decide|withdraw`.
    struct Transfers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfers", abstract: "Ownership transfers: list, show, decide, withdraw.",
            subcommands: [List.self, Show.self, Decide.self, Withdraw.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List transfers (reviewers see all, others those they are party to), newest first.")
            @OptionGroup var client: ClientOptions
            @Option(help: "open, approved, rejected or withdrawn; default: all.") var state: String?

            func run() async throws {
                let query = state.map { "?state=\(Query.escape($0))" } ?? ""
                try client.show(
                    try await client.client().send(.GET, "/api/v1/transfers\(query)"),
                    columns: [
                        ("ID", "id"), ("AGENT", "agent"), ("FROM", "from_owner_id"), ("TO", "to_owner_id"),
                        ("STATE", "state"), ("ASKED", "created_at"),
                    ])
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a transfer and its decision.")
            @OptionGroup var client: ClientOptions
            @Argument(help: "Transfer id (trf_…).") var id: String

            func run() async throws {
                try Transfers.printTransfer(
                    try await client.client().send(.GET, "/api/v1/transfers/\(Query.escape(id))"), client)
            }
        }

        struct Decide: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Approve or reject a transfer, with a reason (reviewers who are no party to it).")
            @OptionGroup var client: ClientOptions
            @Argument(help: "Transfer id (trf_…).") var id: String
            @Argument(help: "approve or reject.") var decision: String
            @Option(help: "Why: every decision carries a reason.") var reason: String

            func run() async throws {
                try Transfers.printTransfer(
                    try await client.client().send(
                        .POST, "/api/v1/transfers/\(Query.escape(id))/decision",
                        json: ["decision": decision, "reason": reason]), client)
            }
        }

        struct Withdraw: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Take back an open transfer (who asked for it, or the agent's owner).")
            @OptionGroup var client: ClientOptions
            @Argument(help: "Transfer id (trf_…).") var id: String

            func run() async throws {
                try Transfers.printTransfer(
                    try await client.client().send(.POST, "/api/v1/transfers/\(Query.escape(id))/withdraw"), client)
            }
        }

        static func printTransfer(_ answer: APIClient.Answer, _ client: ClientOptions) throws {
            guard let transfer = try client.object(answer) else { return }
            print(
                "\(transfer["id"] ?? "?"): \(transfer["agent"] ?? "?") from \(transfer["from_owner_id"] ?? "?") to "
                    + "\(transfer["to_owner_id"] ?? "?") is \(transfer["state"] ?? "?")")
            print("Reason: \(transfer["reason"] ?? "")")
            if let decision = transfer["decision_reason"] as? String {
                print("Decided by \(transfer["decided_by"] ?? "?"): \(decision)")
            }
        }
    }
}

extension AgentCommand {
    /// `agentry agent search [WORDS…] [--department D] [--tool T] [--tag G]`: the Catalog.
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search the Catalog of published agents by words (prefixes), department, tool and tag.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Words every result must contain (each as a prefix).") var words: [String] = []
        @Option(help: "Only this department (any letter case).") var department: String?
        @Option(help: "Only agents that use this tool.") var tool: String?
        @Option(help: "Only agents with this tag.") var tag: String?
        @Option(help: "Results a page, 1 to 100.") var limit: Int = 20
        @Option(help: "Skip this many results (the previous page's next_offset).") var offset: Int = 0

        func run() async throws {
            var query = ["limit=\(limit)", "offset=\(offset)"]
            if !words.isEmpty { query.append("q=\(Query.escape(words.joined(separator: " ")))") }
            if let department { query.append("department=\(Query.escape(department))") }
            if let tool { query.append("tool=\(Query.escape(tool))") }
            if let tag { query.append("tag=\(Query.escape(tag))") }
            let answer = try await client.client().send(.GET, "/api/v1/catalog?" + query.joined(separator: "&"))
            try client.show(
                answer,
                columns: [
                    ("NAME", "name"), ("TITLE", "title"), ("DEPARTMENT", "department"), ("VERSION", "version"),
                    ("STATE", "state"), ("TOOLS", "tools"),
                ])
            if !client.json, let page = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] {
                let next = (page["next_offset"] as? Int).map { "; next page: --offset \($0)" } ?? ""
                print("\(page["total"] ?? 0) found\(next)")
            }
        }
    }
}
