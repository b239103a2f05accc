import AgentryGateway
import AgentrySQLite
import AgentryServer
import ArgumentParser
import Foundation
import Logging

/// The tool gateway under load from `wrk`: a Slack `conversations.list` through
/// `POST /v1/tools/sim-slack/list_channels` (a Sandbox key, the scope and classification checks,
/// the price reserved and settled, a `tool.call` audit record with its payloads, the call to the
/// simulator) against the same request straight to the built-in Slack simulator on the same
/// server, at each connection count.
struct ToolBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools", abstract: "Tool-call overhead: through the tool gateway vs the simulator directly.")
    @Option(help: "Seconds of load per configuration.") var seconds = 10
    @Option(help: "Connection counts, comma-separated.") var connections = "1,64"

    func run() async throws {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "agentry-tools-\(UUID().uuidString)"
        )
        .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStore(path: directory + "/bench.sqlite")
        _ = try await store.migrate()
        var setup = GatewaySetup()
        setup.sandboxDefaults = try SandboxDefaults(
            yaml: "models: [sim/*]\ntools: [sim-*]\nmax_data_classification: internal\ncaps: {}")
        let server = try await BenchServer.start(store: store, directory: directory, setup: setup, logger: quiet)
        let base = "http://127.0.0.1:\(server.port)"
        for level in connections.split(separator: ",").compactMap({ Int($0) }) {
            for (target, url, key) in [
                ("direct", base + "/_simulators/slack/api/conversations.list", "xoxb-bench"),
                ("gateway", base + "/v1/tools/sim-slack/list_channels", server.key),
            ] {
                let before = Load.cpuSeconds()
                let load = try Load.run(
                    url: url, key: key, body: #"{"limit": 3}"#, connections: level, seconds: seconds)
                let cpu = Load.cpuSeconds() - before
                try report([
                    "benchmark": "tools", "target": target, "connections": level, "requests": load.requests,
                    "requests_per_second": load.rate, "p50_ms": load.p50, "p99_ms": load.p99,
                    "failures": load.failures,
                    "cpu_ms_per_request": load.requests > 0 ? cpu * 1000 / Double(load.requests) : 0,
                ])
            }
        }
        await server.stop()
        try await store.close()
    }
}
