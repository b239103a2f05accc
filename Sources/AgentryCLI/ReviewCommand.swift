import ArgumentParser
import Foundation

/// `agentry review …`: the review queue, a submission's checklist and thread, decisions, and the
/// approval criteria.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Review submitted agents: queue, checklist, thread, decisions.",
        subcommands: [
            Queue.self, Show.self, Comment.self, Decide.self, Withdraw.self, Transfers.self,
            PolicyCommand<ApprovalPolicyTarget>.self,
        ])

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List submissions (reviewers see everyone's, others their own), newest first.")
        @OptionGroup var client: ClientOptions
        @Option(help: "open, approved, rejected, changes_requested or withdrawn; default: all.") var state: String?

        func run() async throws {
            let query = state.map { "?state=\(Query.escape($0))" } ?? ""
            try client.show(
                try await client.client().send(.GET, "/api/v1/submissions\(query)"),
                columns: [
                    ("ID", "id"), ("AGENT", "agent"), ("VERSION", "version"), ("STATE", "state"),
                    ("CHECKLIST", "checklist_result"), ("APPROVALS", "approvals_required"), ("SUBMITTED", "created_at"),
                ])
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a submission: checklist, grants and thread.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Submission id (sub_…).") var id: String

        func run() async throws {
            let answer = try await client.client().send(.GET, "/api/v1/submissions/\(Query.escape(id))")
            try ReviewCommand.printSubmission(answer, client)
        }
    }

    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a comment to a submission's thread.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Submission id (sub_…).") var id: String
        @Argument(help: "The comment.") var text: String

        func run() async throws {
            try client.show(
                try await client.client().send(
                    .POST, "/api/v1/submissions/\(Query.escape(id))/comments", json: ["body": text]),
                columns: [("SEQUENCE", "sequence"), ("AUTHOR", "author_id"), ("KIND", "kind")])
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "decide",
            abstract: "Approve, reject or request changes, with a reason; an approval may grant less than requested.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Submission id (sub_…).") var id: String
        @Argument(help: "approve, reject or request_changes.") var decision: String
        @Option(help: "Why: every decision carries a reason.") var reason: String
        @Option(help: "A model to grant (repeat); with any grant option, only what is listed is granted.")
        var model: [String] = []
        @Option(help: "A tool scope to grant as tool:scope (repeat).") var tool: [String] = []
        @Option(help: "The run cap to grant in dollars.") var runCap: String?
        @Option(help: "The day cap to grant in dollars.") var dayCap: String?
        @Option(help: "The month cap to grant in dollars.") var monthCap: String?

        func run() async throws {
            var body: [String: Any] = ["decision": decision, "reason": reason]
            if !model.isEmpty || !tool.isEmpty || runCap != nil || dayCap != nil || monthCap != nil {
                guard let runCap else { throw CLIError("--run-cap is required when granting less than requested") }
                var tools: [String: [String]] = [:]
                for entry in tool {
                    let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw CLIError("--tool takes tool:scope, not '\(entry)'") }
                    tools[parts[0], default: []].append(parts[1])
                }
                var caps = ["run": runCap]
                if let dayCap { caps["day"] = dayCap }
                if let monthCap { caps["month"] = monthCap }
                body["grants"] = ["models": model, "tools": tools, "caps": caps]
            }
            let answer = try await client.client().send(
                .POST, "/api/v1/submissions/\(Query.escape(id))/decision", json: body)
            try ReviewCommand.printSubmission(answer, client)
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take your open submission back; the version stays withdrawn, a new version carries on.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Submission id (sub_…).") var id: String

        func run() async throws {
            try ReviewCommand.printSubmission(
                try await client.client().send(.POST, "/api/v1/submissions/\(Query.escape(id))/withdraw"), client)
        }
    }

    static func printSubmission(_ answer: APIClient.Answer, _ client: ClientOptions) throws {
        guard let submission = try client.object(answer) else { return }
        print(
            "\(submission["id"] ?? "?"): \(submission["agent"] ?? "?") \(submission["version"] ?? "?") is "
                + "\(submission["state"] ?? "?") (checklist: \(submission["checklist_result"] ?? "?"), "
                + "approvals needed: \(submission["approvals_required"] ?? "?"))")
        print("Purpose: \(submission["purpose"] ?? "")")
        for item in submission["checklist"] as? [[String: Any]] ?? [] {
            print("  [\(item["result"] ?? "?")] \(item["rule"] ?? "?"): \(item["message"] ?? "")")
        }
        if let grants = submission["grants"] as? [String: Any] {
            print("Granted: models \(Table.cell(grants["models"])), caps \(grants["caps"] ?? [:])")
        }
        for event in submission["thread"] as? [[String: Any]] ?? [] {
            print(
                "  #\(event["sequence"] ?? "?") \(event["author_id"] ?? "?") \(event["kind"] ?? "?"): \(event["body"] ?? "")"
            )
        }
    }
}

extension AgentCommand {
    /// `agentry agent submit NAME VERSION --purpose …`.
    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a draft version for review; prints the checklist the approval criteria produced.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The agent's name.") var name: String
        @Argument(help: "The version to submit.") var version: String
        @Option(help: "What the agent is for, in a sentence or two.") var purpose: String

        func run() async throws {
            let answer = try await client.client().send(
                .POST, "/api/v1/agents/\(Query.escape(name))/versions/\(Query.escape(version))/submit",
                json: ["purpose": purpose])
            try ReviewCommand.printSubmission(answer, client)
        }
    }
}
