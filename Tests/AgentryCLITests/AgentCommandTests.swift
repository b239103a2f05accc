import AgentryTesting
import Foundation
import Testing

/// `agentry agent init` and `agentry agent validate`, run as the real executable.
@Suite("agentry agent")
struct AgentCommandTests {
    @Test(arguments: ["declarative", "code"]) func aScaffoldValidatesAsItIs(kind: String) async throws {
        let files = try TemporaryDirectory(prefix: "agentry-agent")
        defer { files.remove() }
        let directory = files.file("Expense Helper")
        let made = try await AgentryProcess.run(["agent", "init", directory, "--kind", kind])
        #expect(made.status == 0, "stderr: \(made.stderr)")
        #expect(made.stdout.contains("'expense-helper'"), "\(made.stdout)")
        let valid = try await AgentryProcess.run(["agent", "validate", directory])
        #expect(valid.status == 0, "stderr: \(valid.stderr)")
        #expect(valid.stdout.contains("expense-helper 0.1.0 (\(kind) agent)"), "\(valid.stdout)")
        let again = try await AgentryProcess.run(["agent", "init", directory])
        #expect(again.status != 0 && again.stderr.contains("exists already"), "\(again.stderr)")
        if kind == "code" {
            try FileManager.default.removeItem(atPath: directory + "/main.py")
            let missing = try await AgentryProcess.run(["agent", "validate", directory + "/agent.yaml"])
            #expect(missing.status != 0 && missing.stderr.contains("code.entrypoint"), "\(missing.stderr)")
        }
    }

    @Test func validateReportsEveryProblemWithItsPath() async throws {
        let files = try TemporaryDirectory(prefix: "agentry-agent")
        defer { files.remove() }
        let manifest = files.file("agent.yaml")
        try "name: X\nversion: 1\nkind: robot\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        let refused = try await AgentryProcess.run(["agent", "validate", manifest])
        #expect(refused.status != 0)
        for path in ["name:", "version:", "kind:", "title:", "caps:", "run_frequency:"] {
            #expect(refused.stderr.contains("  \(path)"), "\(path) missing from: \(refused.stderr)")
        }
        let nowhere = try await AgentryProcess.run(["agent", "validate", files.file("absent")])
        #expect(nowhere.status != 0 && nowhere.stderr.contains("does not exist"))
        let badKind = try await AgentryProcess.run(["agent", "init", files.file("x"), "--kind", "robot"])
        #expect(badKind.status != 0 && badKind.stderr.contains("--kind"))
    }
}
