import AgentryTesting
import Foundation
import Testing

/// `agentry run` and `agentry runs` against a real `agentry serve`: a declarative and a code agent
/// run from the command line, their output and events printed, bad input refused with a message
/// and a non-zero exit.
@Suite("agentry run")
struct RunCommandTests {
    @Test func agentsRunFromTheCommandLine() async throws {
        try await StoreFixture.withLocation(.sqlite) { location in
            let files = try TemporaryDirectory(prefix: "agentry-run")
            defer { files.remove() }
            let runtime = files.file("runtime")
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false)
            _ = chmod(files.path, 0o711)
            let server = try RunningProcess(
                ["serve", "--port", "0", "--runs-directory", runtime] + location.serveArguments)
            defer { server.stop() }
            let (url, token) = try await ServeProcessTests.started(server)
            let auth = ["--server", url, "--token", try #require(token)]
            for (name, kind) in [("notes", "declarative"), ("coder", "code")] {
                _ = try await AgentryProcess.run(["agent", "init", files.file(name), "--kind", kind])
                let pushed = try await AgentryProcess.run(["agent", "push", files.file(name)] + auth)
                #expect(pushed.status == 0, "stderr: \(pushed.stderr)")
            }

            let ran = try await AgentryProcess.run(
                ["run", "notes", "--input", "notes=Budget approved", "--input", "tone=friendly"] + auth)
            #expect(ran.status == 0, "stderr: \(ran.stderr)")
            #expect(ran.stdout.contains("succeeded") && ran.stdout.contains("Simulated reply"), "\(ran.stdout)")
            #expect(ran.stdout.contains("model.call sim/openai-small ok"), "the calls are listed: \(ran.stdout)")
            let code = try await AgentryProcess.run(["run", "coder", "--input", "notes=Ship on Friday"] + auth)
            #expect(
                code.status == 0 && code.stdout.contains("summary"), "stdout: \(code.stdout) stderr: \(code.stderr)")
            let followed = try await AgentryProcess.run(
                ["run", "notes", "--follow", "--inputs", #"{"notes": "x"}"#] + auth)
            #expect(
                followed.status == 0 && followed.stdout.contains("status {\"status\":\"running\"}"),
                "\(followed.stdout)")
            let detached = try await AgentryProcess.run(["run", "notes", "--detach", "--input", "notes=later"] + auth)
            let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(detached.status == 0 && id.hasPrefix("run_"), "\(detached.stdout)")
            let events = try await AgentryProcess.run(["runs", "events", id] + auth)
            #expect(events.status == 0 && events.stdout.contains("\"succeeded\""), "\(events.stdout)")
            let shown = try await AgentryProcess.run(["runs", "show", id] + auth)
            #expect(shown.status == 0 && shown.stdout.contains("run \(id): succeeded"), "\(shown.stdout)")
            let listed = try await AgentryProcess.run(["runs", "list", "--agent", "notes"] + auth)
            #expect(listed.stdout.components(separatedBy: "succeeded").count == 4, "\(listed.stdout)")

            // Bad input: a message that says what and why, and a non-zero exit.
            let refusals: [([String], String)] = [
                (["run", "notes"], "inputs.notes: required"),
                (["run", "notes", "--input", "notes"], "--input takes name=value"),
                (["run", "notes", "--inputs", "[1]"], "--inputs must be a JSON object"),
                (["run", "notes", "--input", "notes=x", "--input", "tone=loud"], "inputs.tone"),
                (["run", "nothing", "--input", "notes=x"], "agent_not_found"),
                (["run", "notes", "--input", "notes=x", "--version", "9.9.9"], "version_not_found"),
                (["runs", "cancel", id], "run_finished"),
                (["runs", "show", "run_missing"], "run_not_found"),
                (["runs", "list", "--status", "done"], "invalid_query"),
            ]
            for (arguments, message) in refusals {
                let refused = try await AgentryProcess.run(arguments + auth)
                #expect(refused.status != 0 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
            }
        }
    }
}
