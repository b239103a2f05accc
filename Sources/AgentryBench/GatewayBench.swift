import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentrySQLite
import AgentryServer
import AgentryStore
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The model gateway under load from `wrk`: requests per second, latency and the gateway's CPU per
/// request, through Agentry (with caps and audit, or without them) and straight to the same
/// fixed-response upstream, plain and streamed, at several connection counts.
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Gateway throughput, latency and CPU per request against a fixed upstream.")
    @Option(
        help:
            "The fixed-response upstream, e.g. http://127.0.0.1:18090: a chat completion at /plain/v1, a stream at /stream/v1."
    )
    var upstream: String
    @Option(help: "Seconds of load per configuration.") var seconds = 10
    @Option(help: "Connection counts, comma-separated.") var connections = "1,16,64"
    @Flag(help: "Measure the gateway without reserving, settling or auditing calls (the baseline).")
    var ungoverned = false
    @Flag(help: "Also measure the upstream directly.") var direct = false

    func run() async throws {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentry-gw-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStore(path: directory + "/bench.sqlite")
        _ = try await store.migrate()
        let catalog = try ModelCatalog(
            yaml: """
                providers:
                  - { name: plain, api: openai-compatible, base_url: '\(upstream)/plain/v1' }
                  - { name: stream, api: openai-compatible, base_url: '\(upstream)/stream/v1' }
                models:
                  - name: bench/plain
                    provider: plain
                    upstream: bench-upstream
                    prices: { input: "0.15", cached_input: "0.075", output: "0.60" }
                    context_window: 128000
                    max_output_tokens: 4096
                    data_classifications: [public, internal]
                    zones: [sandbox]
                  - name: bench/stream
                    provider: stream
                    upstream: bench-upstream
                    prices: { input: "0.15", cached_input: "0.075", output: "0.60" }
                    context_window: 128000
                    max_output_tokens: 4096
                    data_classifications: [public, internal]
                    zones: [sandbox]
                """)
        var setup = GatewaySetup(catalog: catalog)
        setup.sandboxDefaults = try SandboxDefaults(
            yaml: "models: [bench/*]\nmax_data_classification: internal\ncaps: {}")
        setup.governed = !ungoverned
        let server = try await BenchServer.start(store: store, directory: directory, setup: setup, logger: quiet)
        let (port, key) = (server.port, server.key)
        let levels = connections.split(separator: ",").compactMap { Int($0) }
        for stream in [false, true] {
            let body = try Load.body(stream: stream)
            for level in levels {
                if direct {
                    let load = try Load.run(
                        url: "\(upstream)/\(stream ? "stream" : "plain")/v1/chat/completions", key: "direct",
                        body: body, connections: level,
                        seconds: seconds)
                    try report(load.fields(target: "direct", stream: stream, connections: level))
                }
                let before = Load.cpuSeconds()
                let load = try Load.run(
                    url: "http://127.0.0.1:\(port)/v1/chat/completions", key: key, body: body, connections: level,
                    seconds: seconds)
                let cpu = Load.cpuSeconds() - before
                var fields = load.fields(
                    target: ungoverned ? "gateway_ungoverned" : "gateway", stream: stream, connections: level)
                fields["cpu_ms_per_request"] = load.requests > 0 ? cpu * 1000 / Double(load.requests) : 0
                try report(fields)
            }
        }
        await server.stop()
        try await store.close()
    }
}

/// Agentry on a free loopback port over a bench store, with an admin whose Sandbox key the
/// load uses and caps on every scope of a call, high enough never to refuse.
struct BenchServer {
    let port: Int
    let key: String
    private let group: ServiceGroup
    private let serving: Task<Void, any Error>

    /// Starts the server with `setup`, its checkpoints in `directory`.
    static func start(store: SQLiteStore, directory: String, setup: GatewaySetup, logger: Logger) async throws
        -> BenchServer
    {
        let signer = try NoteSigner.generate(name: "bench.local/audit").signer
        let checkpointer = AuditCheckpointer(
            store: store.audit, signer: signer, file: CheckpointFile(path: directory + "/checkpoints.jsonl"),
            logger: logger, clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        let dependencies = ApplicationDependencies(
            store: store, logger: logger, checkpointer: checkpointer, gateway: setup)
        guard let admin = try await dependencies.identity.bootstrapAdmin(email: "bench@example.com") else {
            throw ValidationError("the bench store was not empty")
        }
        let key = try await dependencies.identity.issuePersonalToken(
            userID: admin.record.userID, name: "bench", lifetime: nil, kind: .sandbox, by: admin.record.userID
        ).secret
        // Each call checks and holds every cap of its scopes.
        for scope in [LedgerScope.org, try LedgerScope(.user, id: admin.record.userID)] {
            try await dependencies.ledger.setCaps([
                CapChange(key: CapKey(scope: scope, window: .day), limit: Microdollars(dollars: 1_000_000)!),
                CapChange(key: CapKey(scope: scope, window: .month), limit: Microdollars(dollars: 1_000_000)!),
            ])
        }
        var configuration = ServerConfiguration()
        configuration.port = 0
        let (ports, portReady) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(
            configuration: configuration, dependencies: dependencies,
            onServerRunning: { channel in
                portReady.yield(channel.localAddress?.port ?? 0)
                portReady.finish()
            })
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let serving = Task { try await group.run() }
        var port = 0
        for await value in ports { port = value }
        return BenchServer(port: port, key: key, group: group, serving: serving)
    }

    /// Stops the server and waits for it.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await serving.value
    }
}

/// One `wrk` run and what it printed.
struct Load {
    var requests = 0
    var rate = 0.0
    var p50 = 0.0
    var p99 = 0.0
    var failures = 0

    func fields(target: String, stream: Bool, connections: Int) -> [String: Any] {
        [
            "benchmark": "gateway", "target": target, "stream": stream, "connections": connections,
            "requests": requests, "requests_per_second": rate, "p50_ms": p50, "p99_ms": p99, "failures": failures,
        ]
    }

    /// A chat completion request for the bench model.
    static func body(stream: Bool) throws -> String {
        let object: [String: Any] = [
            "model": stream ? "bench/stream" : "bench/plain", "max_tokens": 64, "stream": stream,
            "messages": [
                ["role": "system", "content": "You are a terse assistant."],
                ["role": "user", "content": "Summarise the quarterly report in one sentence."],
            ],
        ]
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// This process's user and system CPU time in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Runs `wrk` with one thread and `connections` connections posting `body` to `url` for `seconds`.
    static func run(url: String, key: String, body: String, connections: Int, seconds: Int) throws -> Load {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("agentry-wrk-\(UUID()).lua").path
        defer { try? FileManager.default.removeItem(atPath: script) }
        let quoted = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        try """
        wrk.method = "POST"
        wrk.body = "\(quoted)"
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["Authorization"] = "Bearer \(key)"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        process.arguments = [
            "-t1", "-c\(connections)", "-d\(seconds)s", "--timeout", "10s", "--latency", "-s", script, url,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return parse(output)
    }

    /// The figures of `wrk --latency` output.
    static func parse(_ output: String) -> Load {
        var load = Load()
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if line.hasPrefix("Requests/sec:"), let value = words.last.flatMap(Double.init) { load.rate = value }
            if line.hasPrefix("50%"), words.count == 2 { load.p50 = milliseconds(words[1]) }
            if line.hasPrefix("99%"), words.count == 2 { load.p99 = milliseconds(words[1]) }
            if line.contains("requests in"), let count = words.first.flatMap(Int.init) { load.requests = count }
            if line.hasPrefix("Non-2xx or 3xx responses:"), let count = words.last.flatMap(Int.init) {
                load.failures += count
            }
            if line.hasPrefix("Socket errors:") {
                load.failures += words.compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(
                    0, +)
            }
        }
        return load
    }

    /// `wrk`'s duration text (`812.00us`, `1.20ms`, `2.00s`) in milliseconds.
    static func milliseconds(_ text: String) -> Double {
        for (unit, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(unit) {
            return (Double(text.dropLast(unit.count)) ?? 0) * scale
        }
        return 0
    }
}
