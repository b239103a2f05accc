import AgentryAudit
import AgentryStore
import ArgumentParser
import Foundation
import Synchronization

/// Durable appends per second with group commit, against the same load with one transaction per append.
struct AppendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append", abstract: "Audit append throughput and latency.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Concurrent appenders.") var appenders = 64
    @Option(help: "Seconds per mode.") var seconds = 10
    @Option(help: "Payload bytes per event.") var payloadBytes = 1024

    func run() async throws {
        let (backend, cleanup) = try await store.open()
        defer { cleanup() }
        let grouped = try await measure(backend.audit, grouped: true)
        let single = try await measure(backend.audit, grouped: false)
        try await backend.close()
        try report([
            "benchmark": "audit-append", "store": backend.kind, "appenders": appenders, "payload_bytes": payloadBytes,
            "group_commit_per_second": grouped.rate, "group_commit_p50_ms": grouped.p50,
            "group_commit_p99_ms": grouped.p99,
            "single_per_second": single.rate, "single_p50_ms": single.p50, "single_p99_ms": single.p99,
            "ratio": grouped.rate / max(single.rate, 1),
        ])
    }

    /// Appends for `seconds` from `appenders` tasks; returns appends/s and latency percentiles.
    private func measure(_ audit: any AuditStore, grouped: Bool) async throws -> (
        rate: Double, p50: Double, p99: Double
    ) {
        let log = AuditLog(store: audit, clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        // The filter index is maintained behind the appends, as the server does; its cost is part of the figure.
        let indexer = Task { await AuditIndexer(store: audit).run() }
        defer { indexer.cancel() }
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for appender in 0..<appenders {
                group.addTask {
                    var samples = Samples()
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        sequence += 1
                        let entry = AuditAppend(
                            event: AuditEvent(
                                time: 0, kind: .modelCall, actor: "usr_\(appender)", run: "run_\(appender)_\(sequence)",
                                model: "bench-model", inputTokens: 100, outputTokens: 20, costMicrodollars: 42),
                            payloads: [AuditPayload(name: "input", bytes: payload)])
                        let begin = ContinuousClock.now
                        if grouped {
                            _ = try await log.append(entry)
                        } else {
                            var timed = entry
                            timed.event.time = Int64(Date().timeIntervalSince1970 * 1000)
                            _ = try await audit.append([timed])
                        }
                        samples.add(ContinuousClock.now - begin)
                    }
                    return samples.values
                }
            }
            var all = Samples()
            for try await values in group { all.merge(values) }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let rate = Double(latencies.values.count) / (Double(elapsed / .milliseconds(1)) / 1000)
        return (rate.rounded(), latencies.percentile(50), latencies.percentile(99))
    }
}
