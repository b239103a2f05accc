import AgentryServer
import AgentryTesting
import Foundation
import Testing

/// `agentry serve` and `agentry migrate` as real processes: first start, restart, shutdown, bad setups.
@Suite("agentry serve", .serialized)
struct ServeProcessTests {
    /// The URL and one-time token a first start printed.
    static func started(_ server: RunningProcess) async throws -> (url: String, token: String?) {
        try await server.waitForOutput("Agentry is listening on ")
        let text = server.stdout
        let url = try #require(text.firstMatch(of: /listening on (http:\/\/[0-9.]+:[0-9]+)/)?.output.1)
        let token = text.firstMatch(of: /agt_pat_[a-z2-7]+/).map { String($0.output) }
        return (String(url), token)
    }

    @Test func aNewDataDirectoryIsTheServersAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.file("fresh/data")
        let server = try RunningProcess(["serve", "--port", "0", "--data-dir", data])
        defer { server.stop() }
        _ = try await Self.started(server)
        let mode = try FileManager.default.attributesOfItem(atPath: data)[.posixPermissions] as? Int
        #expect(mode == 0o700, "the data directory was made with mode \(String(mode ?? 0, radix: 8))")
        server.signal(SIGTERM)
        #expect(try await server.wait(timeout: .seconds(30)).status == 0)
    }

    @Test(arguments: TestBackend.allCases)
    func firstStartPrintsTheAdminTokenOnceAndStopsGracefully(_ backend: TestBackend) async throws {
        try await StoreFixture.withLocation(backend) { location in
            let arguments = ["serve", "--port", "0"] + location.serveArguments
            let first = try RunningProcess(arguments)
            defer { first.stop() }
            let (url, token) = try await Self.started(first)
            let secret = try #require(token, "the first start printed no admin token")
            let reply = try await HTTP.get("\(url)/api/v1/users/me", token: secret)
            #expect(reply.status == 200)
            #expect(reply.body.contains("admin@agentry.local"))
            first.signal(SIGTERM)
            let ended = try await first.wait(timeout: .seconds(30))
            #expect(ended.status == 0, "stderr: \(ended.stderr)")
            #expect(ended.stderr.contains("\"message\":\"server.stopped\""))
            #expect(!ended.stderr.contains(secret), "the admin token reached the log")

            let second = try RunningProcess(arguments)
            defer { second.stop() }
            let (_, again) = try await Self.started(second)
            #expect(again == nil, "a restart printed a token again")
            second.signal(SIGINT)
            #expect(try await second.wait(timeout: .seconds(30)).status == 0)
        }
    }

    /// A first start that cannot listen says why and creates no admin, so the one-time token is
    /// not spent: the next start on the same data directory prints it.
    @Test func aStartThatCannotListenKeepsTheFirstAdminsToken() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let holder = try RunningProcess(["serve", "--port", "0", "--data-dir", directory.file("holder")])
        defer { holder.stop() }
        let (url, _) = try await Self.started(holder)
        let port = try #require(url.split(separator: ":").last.map(String.init))
        let data = directory.file("fresh")
        let refused = try await AgentryProcess.run(["serve", "--port", port, "--data-dir", data])
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains("cannot listen on 127.0.0.1:\(port): Address already in use"),
            "stderr: \(refused.stderr)")
        #expect(
            !refused.stdout.contains("agt_pat_"), "a start that could not listen spent the token: \(refused.stdout)")
        let unknown = try await AgentryProcess.run(["serve", "--host", "999.1.1.1", "--port", "0", "--data-dir", data])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("cannot listen on 999.1.1.1:0"), "stderr: \(unknown.stderr)")
        #expect(!unknown.stdout.contains("agt_pat_"))
        let server = try RunningProcess(["serve", "--port", "0", "--data-dir", data])
        defer { server.stop() }
        let (_, token) = try await Self.started(server)
        #expect(token != nil, "the first successful start printed no admin token")
    }

    /// A second server on the same SQLite data directory says that it shares it, and both serve.
    @Test func aSecondServerOnOneDataDirectoryIsWarned() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.file("shared")
        let first = try RunningProcess(["serve", "--port", "0", "--data-dir", data])
        defer { first.stop() }
        _ = try await Self.started(first)
        #expect(!first.stdout.contains("Another Agentry server"))
        let second = try RunningProcess(["serve", "--port", "0", "--data-dir", data])
        defer { second.stop() }
        let (url, _) = try await Self.started(second)
        #expect(second.stdout.contains("Another Agentry server is using the data directory"), "\(second.stdout)")
        #expect(second.stderr.contains("store.sqlite_shared"))
        #expect(try await HTTP.get("\(url)/healthz").status == 200)
    }

    /// Connections that go quiet before their request is whole are closed after
    /// `idle_timeout_seconds`; the server keeps answering everyone else meanwhile.
    @Test func quietConnectionsAreClosed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try RunningProcess([
            "serve", "--port", "0", "--data-dir", directory.file("data"), "--idle-timeout-seconds", "1",
        ])
        defer { server.stop() }
        let (url, _) = try await Self.started(server)
        let port = try #require(url.split(separator: ":").last.flatMap { UInt16($0) })
        // Half a request's headers, then nothing.
        let quiet = try #require(LoopbackSocket(port: port))
        defer { quiet.close() }
        quiet.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ")
        #expect(try await HTTP.get("\(url)/healthz", token: nil).status == 200)
        let started = ContinuousClock.now
        #expect(quiet.waitForClose(seconds: 10), "a quiet connection stayed open")
        #expect(ContinuousClock.now - started < .seconds(8))
    }

    @Test func aDataDirectoryThatCannotBeCreatedFailsAtStart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = FileManager.default.createFile(atPath: directory.file("plain-file"), contents: Data("x".utf8))
        let outcome = try await AgentryProcess.run([
            "serve", "--port", "0", "--data-dir", directory.file("plain-file/data"),
        ])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("data directory"), "stderr: \(outcome.stderr)")
        #expect(!outcome.stdout.contains("listening"))
    }

    @Test func aReadOnlyDataDirectoryFailsAtStart() async throws {
        guard geteuid() != 0 else {
            // Root writes through permission bits, so a read-only directory cannot be simulated;
            // the not-creatable case above covers the same code path for root.
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let outcome = try await AgentryProcess.run(["serve", "--port", "0", "--data-dir", "/proc/agentry-data"])
            #expect(outcome.status != 0)
            #expect(outcome.stderr.contains("data directory"), "stderr: \(outcome.stderr)")
            return
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("ro"), withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: directory.file("ro"))
        let outcome = try await AgentryProcess.run(["serve", "--port", "0", "--data-dir", directory.file("ro")])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("not writable"), "stderr: \(outcome.stderr)")
    }

    @Test func anUnansweringPostgreSQLFailsAtStartWithoutThePassword() async throws {
        let outcome = try await AgentryProcess.run(
            ["serve", "--port", "0", "--database-url", "postgres://agentry:s3cr3t-pw@127.0.0.1:1/agentry"],
            timeout: .seconds(60))
        #expect(outcome.status != 0)
        #expect(
            outcome.stderr.contains("PostgreSQL at 127.0.0.1:1/agentry did not answer"), "stderr: \(outcome.stderr)")
        #expect(!outcome.stderr.contains("s3cr3t-pw"))
        #expect(!outcome.stdout.contains("s3cr3t-pw"))
    }

    @Test func badSettingsNameTheirSourceAndExitNonZero() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try await AgentryProcess.run(["serve", "--port", "99999", "--data-dir", directory.path])
        #expect(port.status != 0)
        #expect(port.stderr.contains("port (from --port)"), "stderr: \(port.stderr)")
        let environment = try await AgentryProcess.run(
            ["serve", "--data-dir", directory.path], environment: ["AGENTRY_LOG_LEVEL": "shouty"])
        #expect(environment.status != 0)
        #expect(environment.stderr.contains("AGENTRY_LOG_LEVEL"))
        let file = directory.file("agentry.yaml")
        try "prot: 8080\n".write(toFile: file, atomically: false, encoding: .utf8)
        let typo = try await AgentryProcess.run(["serve", "--config", file])
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("prot"))
        let missing = try await AgentryProcess.run(["serve", "--config", directory.file("absent.yaml")])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read the configuration file"))
    }

    @Test func helpDocumentsEverySetting() async throws {
        let help = try await AgentryProcess.run(["serve", "--help"])
        #expect(help.status == 0)
        for setting in ConfigurationSetting.all {
            #expect(help.stdout.contains(setting.flag), "--help lacks \(setting.flag)")
            #expect(help.stdout.contains(setting.environmentVariable), "--help lacks \(setting.environmentVariable)")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func migrateAppliesOnceThenReportsUpToDate(_ backend: TestBackend) async throws {
        try await StoreFixture.withLocation(backend) { location in
            let first = try await AgentryProcess.run(["migrate"] + location.serveArguments)
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(first.stdout.contains("Applied migrations: 1, 2"))
            let second = try await AgentryProcess.run(["migrate"] + location.serveArguments)
            #expect(second.stdout.contains("up to date"))
        }
    }
}
