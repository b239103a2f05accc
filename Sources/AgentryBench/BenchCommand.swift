import AgentryAudit
import AgentryPostgres
import AgentrySQLite
import AgentryStore
import ArgumentParser
import Foundation
import Logging

/// `agentry-bench`: measurements behind bench/RESULTS.md, each printed as one JSON line with its baseline.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentry-bench", abstract: "Agentry benchmarks (see bench/README.md).",
        subcommands: [
            AppendBench.self, VerifyBench.self, LedgerBench.self, GatewayBench.self, CatalogBench.self, ToolBench.self,
        ])
}

/// Where a benchmark's store lives.
struct StoreOptions: ParsableArguments {
    @Option(help: "A postgres:// URL; without it a fresh SQLite file in a temporary directory.") var url: String?

    /// Opens and migrates the store.
    func open() async throws -> (any StoreBackend, cleanup: () -> Void) {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        if let url {
            let store = try await PostgresStore(url: url, logger: quiet)
            _ = try await store.migrate()
            return (store, {})
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "agentry-bench-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory + "/bench.sqlite")
        _ = try await store.migrate()
        return (store, { try? FileManager.default.removeItem(atPath: directory) })
    }
}

/// Latency samples in nanoseconds and their percentiles.
struct Samples {
    private(set) var values: [Int64] = []
    mutating func add(_ duration: Duration) { values.append(Int64(duration / .nanoseconds(1))) }
    mutating func merge(_ other: [Int64]) { values += other }
    /// The `p`th percentile (0…100) in milliseconds.
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
        return Double(sorted[max(0, rank)]) / 1_000_000
    }
}

/// Prints one JSON object on a line.
func report(_ fields: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
