import AgentryTesting
import Foundation
import Testing

/// `agentry agent submit` and `agentry review` against a real server.
@Suite("agentry review")
struct ReviewCommandTests {
    @Test func submitCommentWithdrawAndAutoApproveFromTheCommandLine() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-review")
            defer { files.remove() }
            let server = try RunningProcess(["serve", "--port", "0"] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let auth = ["--server", url, "--token", try #require(token)]
            let directory = files.file("weekly-notes")
            _ = try await AgentryProcess.run(["agent", "init", directory])
            #expect(try await AgentryProcess.run(["agent", "push", directory] + auth).status == 0)

            let submitted = try await AgentryProcess.run(
                ["agent", "submit", "weekly-notes", "0.1.0", "--purpose", "Weekly summaries"] + auth)
            #expect(submitted.status == 0, "stderr: \(submitted.stderr)")
            #expect(submitted.stdout.contains("weekly-notes 0.1.0 is open"), "\(submitted.stdout)")
            #expect(submitted.stdout.contains("[pass] monthly-projection"), "\(submitted.stdout)")
            let id = try #require(
                submitted.stdout.split(separator: ":").first.map(String.init).flatMap {
                    $0.hasPrefix("sub_") ? $0 : nil
                })
            let queue = try await AgentryProcess.run(["review", "queue", "--state", "open"] + auth)
            #expect(queue.stdout.contains(id) && queue.stdout.contains("CHECKLIST"), "\(queue.stdout)")
            let badState = try await AgentryProcess.run(["review", "queue", "--state", "pending"] + auth)
            #expect(badState.status != 0 && badState.stderr.contains("state"), "\(badState.stderr)")
            let commented = try await AgentryProcess.run(["review", "comment", id, "Ready when you are"] + auth)
            #expect(commented.status == 0, "stderr: \(commented.stderr)")
            let own = try await AgentryProcess.run(["review", "decide", id, "approve", "--reason", "mine"] + auth)
            #expect(own.status != 0 && own.stderr.contains("own agent"), "\(own.stderr)")
            let partial = try await AgentryProcess.run(
                ["review", "decide", id, "approve", "--reason", "x", "--model", "sim/openai-small"] + auth)
            #expect(partial.status != 0 && partial.stderr.contains("--run-cap"), "\(partial.stderr)")
            let withdrawn = try await AgentryProcess.run(["review", "withdraw", id] + auth)
            #expect(withdrawn.stdout.contains("is withdrawn"), "\(withdrawn.stdout)")
            let shown = try await AgentryProcess.run(["review", "show", id] + auth)
            #expect(shown.stdout.contains("comment: Ready when you are"), "\(shown.stdout)")

            let bumped = try String(contentsOfFile: directory + "/agent.yaml", encoding: .utf8)
                .replacingOccurrences(of: "0.1.0", with: "0.2.0")
            try bumped.write(toFile: directory + "/agent.yaml", atomically: false, encoding: .utf8)
            #expect(try await AgentryProcess.run(["agent", "push", directory] + auth).status == 0)
            let policy = files.file("criteria.yaml")
            try "rules:\n  - {id: cap, kind: max_run_cap, limit: '1'}\nauto_approve: when_all_pass\n".write(
                toFile: policy, atomically: false, encoding: .utf8)
            let set = try await AgentryProcess.run(["review", "policy", "set", policy] + auth)
            #expect(set.stdout.contains("approval policy is at revision 1"), "\(set.stdout)\(set.stderr)")
            let approved = try await AgentryProcess.run(
                ["agent", "submit", "weekly-notes", "0.2.0", "--purpose", "Weekly summaries"] + auth)
            #expect(approved.stdout.contains("is approved"), "\(approved.stdout)\(approved.stderr)")
            let history = try await AgentryProcess.run(["review", "policy", "history"] + auth)
            #expect(history.stdout.contains("REVISION"), "\(history.stdout)")

            // The kill switch and deprecation, each with a reason; a change the state forbids fails.
            let suspended = try await AgentryProcess.run(
                ["agent", "suspend", "weekly-notes", "--reason", "Leaks"] + auth)
            #expect(suspended.stdout.contains("weekly-notes is suspended"), "\(suspended.stdout)\(suspended.stderr)")
            let again = try await AgentryProcess.run(["agent", "suspend", "weekly-notes", "--reason", "Again"] + auth)
            #expect(again.status != 0 && again.stderr.contains("cannot become suspended"), "\(again.stderr)")
            let noReason = try await AgentryProcess.run(["agent", "resume", "weekly-notes"] + auth)
            #expect(noReason.status != 0 && noReason.stderr.contains("--reason"), "\(noReason.stderr)")
            let resumed = try await AgentryProcess.run(["agent", "resume", "weekly-notes", "--reason", "Fixed"] + auth)
            #expect(resumed.stdout.contains("weekly-notes is active"), "\(resumed.stdout)\(resumed.stderr)")
            let found = try await AgentryProcess.run(["agent", "search", "weekly"] + auth)
            #expect(found.stdout.contains("weekly-notes") && found.stdout.contains("1 found"), "\(found.stdout)")
            let none = try await AgentryProcess.run(["agent", "search", "--department", "Nowhere"] + auth)
            #expect(none.stdout.contains("0 found"), "\(none.stdout)\(none.stderr)")
            let badLimit = try await AgentryProcess.run(["agent", "search", "--limit", "0"] + auth)
            #expect(badLimit.status != 0 && badLimit.stderr.contains("limit"), "\(badLimit.stderr)")
            let deprecated = try await AgentryProcess.run(
                ["agent", "deprecate", "weekly-notes", "--reason", "Use monthly-notes"] + auth)
            #expect(deprecated.stdout.contains("is deprecated"), "\(deprecated.stdout)\(deprecated.stderr)")

            // An ownership transfer: asked, listed, refused to its own asker, withdrawn.
            let nobody = try await AgentryProcess.run(
                ["agent", "transfer", "weekly-notes", "--to", "bob@example.com", "--reason", "Moving on"] + auth)
            #expect(nobody.status != 0 && nobody.stderr.contains("no active user"), "\(nobody.stderr)")
            #expect(
                try await AgentryProcess.run(["users", "create", "--email", "bob@example.com", "--name", "Bob"] + auth)
                    .status == 0)
            let asked = try await AgentryProcess.run(
                ["agent", "transfer", "weekly-notes", "--to", "bob@example.com", "--reason", "Moving on"] + auth)
            #expect(asked.stdout.contains("is open"), "\(asked.stdout)\(asked.stderr)")
            let transfer = try #require(asked.stdout.split(separator: ":").first.map(String.init))
            let listed = try await AgentryProcess.run(["review", "transfers", "list", "--state", "open"] + auth)
            #expect(listed.stdout.contains(transfer), "\(listed.stdout)\(listed.stderr)")
            let ownDecision = try await AgentryProcess.run(
                ["review", "transfers", "decide", transfer, "approve", "--reason", "Fine"] + auth)
            #expect(ownDecision.status != 0 && ownDecision.stderr.contains("cannot decide"), "\(ownDecision.stderr)")
            let taken = try await AgentryProcess.run(["review", "transfers", "withdraw", transfer] + auth)
            #expect(taken.stdout.contains("is withdrawn"), "\(taken.stdout)\(taken.stderr)")
        }
    }
}
