import AgentryPostgres
import AgentrySQLite
import AgentryStore
import ArgumentParser
import Foundation
import Logging

/// `agentry-bench catalog`: Catalog search latency over a seeded Catalog (bench/seed_catalog.py
/// writes the entries), through `CatalogSearch` (the server's: one revision read from the store,
/// then the in-memory index) with its count and facets, per kind of query; and how long the
/// index takes to load and the memory the process holds with it.
struct CatalogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Catalog search latency by kind of query (bench/run-catalog).")
    @Option(help: "A postgres:// URL of the seeded store.") var url: String?
    @Option(help: "The seeded SQLite file.") var sqlite: String?
    @Flag(help: "Only create or migrate the schema, for the seeder.") var prepare = false
    @Option(help: "Queries of each kind to time.") var queries = 1000
    @Option(help: "The seeder's vocabulary file (one word a line).") var words: String?

    func run() async throws {
        let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let store: any StoreBackend
        if let url {
            store = try await PostgresStore(url: url, logger: quiet)
        } else if let sqlite {
            store = try SQLiteStore(path: sqlite)
        } else {
            throw ValidationError("give --url or --sqlite")
        }
        try await store.closing { store in
            _ = try await store.migrate()
            guard !prepare else { return }
            try await measure(store)
        }
    }

    private func measure(_ store: any StoreBackend) async throws {
        guard let words, let vocabulary = try? String(contentsOfFile: words, encoding: .utf8) else {
            throw ValidationError("--words must name the seeder's vocabulary file")
        }
        let list = vocabulary.split(separator: "\n").map(String.init)
        var random = SystemRandomNumberGenerator()
        func word() -> String { list.randomElement(using: &random)! }
        func department() -> String { "Department \(Int.random(in: 0..<20, using: &random))" }
        func tool() -> String { "tool-\(Int.random(in: 0..<30, using: &random))" }
        let kinds: [(String, () -> CatalogQuery)] = [
            ("word", { CatalogQuery(text: word()) }),
            ("word_prefix", { CatalogQuery(text: String(word().prefix(4))) }),
            ("two_words", { CatalogQuery(text: word() + " " + word()) }),
            ("word_and_department", { CatalogQuery(text: word(), department: department()) }),
            ("department", { CatalogQuery(text: nil, department: department()) }),
            ("tool", { CatalogQuery(text: nil, tool: tool()) }),
            ("browse_all", { CatalogQuery(text: nil) }),
        ]
        let search = CatalogSearch(store: store.catalog)
        let loading = ContinuousClock.now
        let total = try await search.index().count
        let loaded = ContinuousClock.now - loading
        var fields: [String: Any] = [
            "store": store.kind, "entries": total, "queries_per_kind": queries,
            "load_ms": Double(loaded / .microseconds(1)) / 1000,
            "resident_mib": Self.residentMiB(),
        ]
        var targeted = Samples()
        for (name, make) in kinds {
            var samples = Samples()
            for _ in 0..<min(20, queries) { _ = try await search.search(make()) }  // warm the caches
            for _ in 0..<queries {
                let query = make()
                let start = ContinuousClock.now
                _ = try await search.search(query)
                samples.add(ContinuousClock.now - start)
            }
            fields["\(name)_p50_ms"] = samples.percentile(50)
            fields["\(name)_p99_ms"] = samples.percentile(99)
            if name != "browse_all" { targeted.merge(samples.values) }
        }
        fields["search_p50_ms"] = targeted.percentile(50)
        fields["search_p99_ms"] = targeted.percentile(99)
        try report(fields)
    }

    /// The process's resident memory in MiB (from /proc/self/statm).
    static func residentMiB() -> Double {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return 0 }
        return pages * 4096 / 1_048_576
    }
}
