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
        try "name: X\nversion: 1\nkind: robot\n".write(toFile: manifest, atomically: false, encoding: .utf8)
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

    @Test func pushUploadsADirectoryAndPythonsZipsAreRead() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-push")
            defer { files.remove() }
            let server = try RunningProcess(["serve", "--port", "0"] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let auth = ["--server", url, "--token", try #require(token)]
            let directory = files.file("notes")
            _ = try await AgentryProcess.run(["agent", "init", directory, "--kind", "code"])
            try FileManager.default.createDirectory(atPath: directory + "/.git", withIntermediateDirectories: true)
            try "secret history".write(toFile: directory + "/.git/HEAD", atomically: false, encoding: .utf8)
            try "API_KEY=sk-local".write(toFile: directory + "/.env", atomically: false, encoding: .utf8)
            let pushed = try await AgentryProcess.run(["agent", "push", directory] + auth)
            #expect(pushed.status == 0, "stderr: \(pushed.stderr)")
            #expect(pushed.stdout.contains("Pushed notes 0.1.0 (draft"), "\(pushed.stdout)")
            let again = try await AgentryProcess.run(["agent", "push", directory] + auth)
            #expect(again.stdout.contains("Replaced the draft of notes 0.1.0"), "\(again.stdout)")
            let listed = try await HTTP.get(url + "/api/v1/agents/notes/versions/0.1.0", token: token)
            #expect(
                listed.status == 200 && !listed.body.contains(".git") && !listed.body.contains(".env"), "\(listed.body)"
            )
            try FileManager.default.createSymbolicLink(
                atPath: directory + "/passwd", withDestinationPath: "/etc/passwd")
            let linked = try await AgentryProcess.run(["agent", "push", directory] + auth)
            #expect(linked.status != 0 && linked.stderr.contains("link"), "\(linked.stderr)")
            let empty = try await AgentryProcess.run(["agent", "push", files.file("nothing")] + auth)
            #expect(empty.status != 0 && empty.stderr.contains("agent.yaml"), "\(empty.stderr)")

            // A zip made by Python's zipfile, with a version bump: read like our own.
            try FileManager.default.removeItem(atPath: directory + "/passwd")
            let manifest = try String(contentsOfFile: directory + "/agent.yaml", encoding: .utf8)
            try manifest.replacingOccurrences(of: "0.1.0", with: "0.2.0").write(
                toFile: directory + "/agent.yaml", atomically: false, encoding: .utf8)
            let zip = files.file("python.zip")
            let python = try await RunningProcess(
                executable: URL(fileURLWithPath: "/usr/bin/env"),
                [
                    "python3", "-c",
                    "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
                        + "    [z.write(sys.argv[2] + '/' + n, n) for n in ('agent.yaml', 'main.py', 'requirements.txt')]",
                    zip, directory,
                ]
            ).wait(timeout: .seconds(60))
            #expect(python.status == 0, "\(python.stderr)")
            let upload = try await HTTP.upload(
                url + "/api/v1/agents", token: try #require(token),
                zip: Array(try Data(contentsOf: URL(fileURLWithPath: zip))))
            #expect(upload.status == 201, "\(upload.body)")
        }
    }
}
