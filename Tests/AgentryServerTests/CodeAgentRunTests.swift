import AgentryRegistry
import AgentryRuntime
import AgentryTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AgentryServer

/// Code agents as child processes: the official `openai` package reaches the gateway through the
/// injected environment; an agent that reads the server's files or environment, fork-bombs, loops,
/// or floods its output is contained and reported; a running run is cancelled; a suspension stops
/// a running run at once.
@Suite("Code agent runs", .serialized)
struct CodeAgentRunTests {
    /// A code agent package: the template's manifest with an extra `mode` input, `main.py` and `requirements`.
    static func package(
        _ name: String, main: String, requirements: String = "", version: String = "0.1.0", runCap: String = "0.05"
    ) -> [UInt8] {
        let files = AgentTemplate.files(name: name, kind: "code", owner: nil)
        let manifest = files[0].text.replacingOccurrences(of: "0.1.0", with: version)
            .replacingOccurrences(of: "  run: \"0.05\"", with: "  run: \"\(runCap)\"")
            .replacingOccurrences(
                of: "            options: [neutral, friendly, formal]\n",
                with:
                    "            options: [neutral, friendly, formal]\n  - name: mode\n    label: Mode\n    type: string\n"
            )
            .replacingOccurrences(
                of: "    options: [neutral, friendly, formal]\n",
                with: "    options: [neutral, friendly, formal]\n  - name: mode\n    label: Mode\n    type: string\n")
        var writer = ZipWriter()
        writer.add(ZipWriter.Entry(path: "agent.yaml", bytes: Array(manifest.utf8)))
        writer.add(ZipWriter.Entry(path: "main.py", bytes: Array(main.utf8)))
        writer.add(ZipWriter.Entry(path: "requirements.txt", bytes: Array(requirements.utf8)))
        return writer.bytes()
    }

    /// Pushes a package and runs its draft as its owner; returns the finished run.
    static func run(
        _ client: some TestClientProtocol, token: String, agent: String, inputs: [String: Any], seconds: Int = 60
    ) async throws -> [String: Any] {
        let started = try await client.call(
            .post, "/api/v1/agents/\(agent)/runs", token: token, body: json(["inputs": inputs]))
        #expect(started.status == .accepted, "\(started.text)")
        let id = try #require(started.json["id"] as? String)
        return try await RunTests.finished(client, id, token: token, seconds: seconds)
    }

    /// The names a run's environment may hold.
    static let allowedEnvironment: Set<String> = [
        "PATH", "HOME", "TMPDIR", "LANG", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "OPENAI_BASE_URL",
        "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMINI_API_KEY",
        "GOOGLE_API_KEY", "CO_API_URL", "CO_API_KEY", "MISTRAL_API_KEY", "AGENTRY_RUN_ID", "AGENTRY_RUN_TOKEN",
        "AGENTRY_GATEWAY_URL", "AGENTRY_TOOLS_URL", "AGENTRY_MCP_URL", "LC_CTYPE", "PWD",
    ]

    @Test func theOfficialOpenAIPackageRunsThroughTheGatewayWithTheRunToken() async throws {
        let openai =
            try String(contentsOfFile: "Tests/sdk/requirements.txt", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("openai==") }.map(String.init) ?? "openai"
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            let directory = try TemporaryDirectory(prefix: "agentry-runtime")
            _ = chmod(directory.path, 0o711)
            defer { directory.remove() }
            let runtime = RuntimeSetup(code: CodeRuntimeSettings(directory: directory.path))
            try await fixture.application(runtime: runtime).test(.live) { client in
                let main = """
                    import json, os, sys
                    from openai import OpenAI
                    inputs = json.load(sys.stdin)
                    reply = OpenAI().chat.completions.create(
                        model="sim/openai-small", max_tokens=40,
                        messages=[{"role": "user", "content": inputs["notes"]}])
                    json.dump({"summary": reply.choices[0].message.content, "env": sorted(os.environ)}, sys.stdout)
                    """
                let pushed = try await client.push(
                    Self.package("sdk-agent", main: main, requirements: openai), token: builder)
                #expect(pushed.status == .created, "\(pushed.text)")
                let run = try await Self.run(
                    client, token: builder, agent: "sdk-agent", inputs: ["notes": "Q3 went well"], seconds: 600)
                #expect(run["status"] as? String == "succeeded" && run["zone"] as? String == "sandbox", "\(run)")
                let output = try #require(run["output"] as? [String: Any])
                #expect((output["summary"] as? String)?.contains("Q3 went well") == true, "\(output)")
                let names = Set(output["env"] as? [String] ?? ["?"])
                #expect(names.isSubset(of: Self.allowedEnvironment), "\(names.subtracting(Self.allowedEnvironment))")
                let calls = try #require(run["calls"] as? [[String: Any]])
                #expect(calls.map { $0["kind"] as? String } == ["model.call"] && calls[0]["outcome"] as? String == "ok")
            }
        }
    }

    /// With bubblewrap (where installed) and without it: the limits and the run's own user hold either way.
    @Test(arguments: [CodeIsolation.auto, .none])
    func hostileCodeIsContainedAndReported(_ isolation: CodeIsolation) async throws {
        try await ServerFixture.with(.sqlite) { fixture in
            let (_, builder) = try await fixture.member("builder@example.com")
            let (_, admin) = (fixture.admin, fixture.adminToken)
            let directory = try TemporaryDirectory(prefix: "agentry-runtime")
            _ = chmod(directory.path, 0o711)
            defer { directory.remove() }
            var limits = CodeLimits()
            (limits.wallSeconds, limits.cpuSeconds, limits.outputBytes, limits.processes) = (6, 2, 1 << 20, 32)
            let runtime = RuntimeSetup(
                code: CodeRuntimeSettings(directory: directory.path, isolation: isolation, limits: limits))
            guard case .sqlite(let database) = fixture.location else { return }
            // The data directory is the operator's to keep private, as `agentry serve` makes it.
            _ = chmod((database as NSString).deletingLastPathComponent, 0o700)
            try await fixture.application(runtime: runtime).test(.live) { client in
                let main = #"""
                    import json, os, sys, time
                    inputs = json.load(sys.stdin)
                    mode = inputs.get("mode", "")
                    if mode.startswith("files"):
                        found = {"host_root_visible": os.path.exists("/root"), "uid": os.getuid()}
                        server = "/proc/%s/environ" % mode.split()[1]
                        for name, path in [("database", inputs["notes"]), ("server_environ", server),
                                           ("root_home", "/root/.bashrc")]:
                            try:
                                with open(path, "rb") as f:
                                    f.read(16)
                                found[name] = "read"
                            except OSError as error:
                                found[name] = "denied"
                        found["env"] = sorted(os.environ)
                        json.dump(found, sys.stdout)
                    elif mode == "fork":
                        while True:
                            try:
                                os.fork()
                            except OSError:
                                time.sleep(0.01)
                    elif mode == "loop":
                        while True:
                            pass
                    elif mode == "flood":
                        chunk = "x" * (1 << 20)
                        for _ in range(1024):
                            sys.stdout.write(chunk)
                    elif mode == "sleep":
                        print("sleeping", file=sys.stderr, flush=True)
                        time.sleep(60)
                    """#
                let pushed = try await client.push(Self.package("hostile-agent", main: main), token: builder)
                #expect(pushed.status == .created, "\(pushed.text)")

                // Files and environment: the server's are out of reach.
                let files = try await Self.run(
                    client, token: builder, agent: "hostile-agent",
                    inputs: ["notes": database, "mode": "files \(getpid())"])
                #expect(files["status"] as? String == "succeeded", "\(files)")
                let found = try #require(files["output"] as? [String: Any])
                #expect(Set(found["env"] as? [String] ?? ["?"]).isSubset(of: Self.allowedEnvironment))
                // Under bubblewrap the host's files are not even there.
                if Bubblewrap.executable != nil && isolation != .none {
                    #expect(found["host_root_visible"] as? Bool == false, "\(found)")
                }
                if geteuid() == 0 {
                    #expect(found["uid"] as? Int ?? 0 >= 61_000, "\(found)")
                    #expect(found["database"] as? String == "denied", "\(found)")
                    #expect(found["server_environ"] as? String == "denied", "\(found)")
                    #expect(found["root_home"] as? String == "denied", "\(found)")
                }

                // A fork bomb meets the process limit and the wall clock; nothing of it survives.
                let bomb = try await Self.run(
                    client, token: builder, agent: "hostile-agent", inputs: ["notes": "-", "mode": "fork"])
                #expect(["timed_out", "failed"].contains(bomb["status"] as? String), "\(bomb)")
                if geteuid() == 0 {
                    let survivors = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { entry in
                        guard Int(entry) != nil,
                            let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8)
                        else { return false }
                        // Killed processes whose parent is gone wait for init to reap them: they run no more.
                        return status.contains("\nUid:\t6100") && !status.contains("State:\tZ")
                    }
                    #expect(survivors.isEmpty, "processes of run users left: \(survivors)")
                }

                // An endless loop meets the CPU limit.
                let loop = try await Self.run(
                    client, token: builder, agent: "hostile-agent", inputs: ["notes": "-", "mode": "loop"])
                #expect(["failed", "timed_out"].contains(loop["status"] as? String), "\(loop)")
                #expect(
                    (loop["error"] as? String)?.contains("CPU") == true || loop["status"] as? String == "timed_out",
                    "\(loop)")

                // A gigabyte of output is cut at the output limit.
                let flood = try await Self.run(
                    client, token: builder, agent: "hostile-agent", inputs: ["notes": "-", "mode": "flood"])
                #expect(flood["status"] as? String == "failed", "\(flood)")
                #expect((flood["error"] as? String)?.contains("output") == true, "\(flood)")

                // A running run is cancelled by its invoker.
                let sleeping = try await client.call(
                    .post, "/api/v1/agents/hostile-agent/runs", token: builder,
                    body: json(["inputs": ["notes": "-", "mode": "sleep"]]))
                let id = try #require(sleeping.json["id"] as? String)
                try await Self.waitForLog(client, id, token: builder)
                let cancelled = try await client.call(.post, "/api/v1/runs/\(id)/cancel", token: builder)
                #expect(cancelled.status == .accepted, "\(cancelled.text)")
                let ended = try await RunTests.finished(client, id, token: builder, seconds: 10)
                #expect(ended["status"] as? String == "cancelled" && ended["cancel_requested_by"] != nil, "\(ended)")

                // An agent that keeps calling after its cap is spent is stopped at the first refusal.
                let spender = """
                    import json, os, sys, time, urllib.request
                    json.load(sys.stdin)
                    while True:
                        request = urllib.request.Request(
                            os.environ["OPENAI_BASE_URL"] + "/chat/completions",
                            data=json.dumps({"model": "sim/openai-small", "max_tokens": 50,
                                             "messages": [{"role": "user", "content": "more"}]}).encode(),
                            headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"],
                                     "Content-Type": "application/json"})
                        try:
                            urllib.request.urlopen(request).read()
                        except Exception as error:
                            print("refused:", error, file=sys.stderr, flush=True)
                        time.sleep(0.05)
                    """
                let pushedSpender = try await client.push(
                    Self.package("spender-agent", main: spender, runCap: "0.0001"), token: builder)
                #expect(pushedSpender.status == .created, "\(pushedSpender.text)")
                let began = ContinuousClock.now
                let spent = try await Self.run(client, token: builder, agent: "spender-agent", inputs: ["notes": "-"])
                #expect(spent["status"] as? String == "cap_exceeded", "\(spent)")
                #expect(ContinuousClock.now - began < .seconds(6), "stopped before its wall time")
                #expect((Double(spent["cost_usd"] as? String ?? "") ?? 1) <= 0.0001, "\(spent)")

                // Bad input for cancelling: an unknown run.
                expectError(
                    try await client.call(.post, "/api/v1/runs/run_nope/cancel", token: builder), .notFound,
                    "run_not_found")
                _ = admin
            }
        }
    }

    /// Waits until the run is running and its process had a moment to start.
    static func waitForLog(_ client: some TestClientProtocol, _ id: String, token: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if try await client.call(.get, "/api/v1/runs/\(id)", token: token).json["status"] as? String == "running" {
                try await Task.sleep(for: .seconds(1))
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ExpectationFailure("run \(id) did not start within 30 s")
    }
}
