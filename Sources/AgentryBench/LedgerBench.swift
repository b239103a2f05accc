import AgentryLedger
import AgentryStore
import ArgumentParser
import Foundation
import Synchronization

/// Reserve+settle pairs per second with five applicable caps, and the overshoot of a race of many
/// small reservations against one cap (which must be exactly zero).
struct LedgerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Ledger reserve+settle throughput and race overshoot.")
    @OptionGroup var store: StoreOptions
    @Option(help: "Concurrent callers.") var callers = 64
    @Option(help: "Seconds of reserve+settle.") var seconds = 10
    @Option(help: "Reservations in the race.") var raceAttempts = 10_000
    @Option(help: "Reserve+settle pairs per second started on a fixed schedule for the paced latency run.")
    var pacedRate = 2_000

    func run() async throws {
        let (backend, cleanup) = try await store.open()
        defer { cleanup() }
        let ledger = Ledger(store: backend.ledger, clock: { Date() })
        // Five capped scopes on every call: org, team, user, agent and the agent version (each day and month).
        let scopes = try ["org", "team:bench", "user:usr_bench", "agent:bench", "version:bench@1.0.0"].map(
            LedgerScope.init(parsing:))
        for scope in scopes {
            try await ledger.setCap(scope: scope, window: .day, limit: Microdollars(dollars: 1_000_000_000)!)
            try await ledger.setCap(scope: scope, window: .month, limit: Microdollars(dollars: 1_000_000_000)!)
        }
        let pairs = try await measurePairs(ledger, scopes: scopes, batched: true)
        let single = try await measurePairs(ledger, scopes: scopes, batched: false)
        let paced = try await measurePaced(ledger, scopes: scopes)
        let disk = try await DiskSync.measure(rate: pacedRate, seconds: seconds)
        let race = try await measureRace(ledger)
        try await backend.close()
        try report([
            "benchmark": "ledger", "store": backend.kind, "callers": callers, "caps_per_call": scopes.count * 2,
            "pairs_per_second": pairs.rate, "single_pairs_per_second": single.rate,
            "ratio": pairs.rate / max(single.rate, 1), "reserve_p50_ms": pairs.reserve.percentile(50),
            "reserve_p99_ms": pairs.reserve.percentile(99), "settle_p99_ms": pairs.settle.percentile(99),
            "paced_rate": pacedRate, "paced_reserve_p50_ms": paced.percentile(50),
            "paced_reserve_p99_ms": paced.percentile(99), "paced_reserve_max_ms": paced.percentile(100),
            "fdatasync_p50_ms": disk.percentile(50), "fdatasync_p99_ms": disk.percentile(99),
            "fdatasync_p999_ms": disk.percentile(99.9), "fdatasync_max_ms": disk.percentile(100),
            "race_attempts": raceAttempts, "race_admitted": race.admitted, "race_expected": race.expected,
            "race_overshoot_micros": race.overshoot,
        ])
    }

    /// Callers reserve $0.01 and settle $0.007 in a loop for `seconds`: through the ledger's group
    /// commit, or (the baseline) one store transaction per operation.
    private func measurePairs(_ ledger: Ledger, scopes: [LedgerScope], batched: Bool) async throws -> (
        rate: Double, reserve: Samples, settle: Samples
    ) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: (Samples, Samples).self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var (reserve, settle) = (Samples(), Samples())
                    var sequence = 0
                    while ContinuousClock.now < deadline {
                        sequence += 1
                        let id = "pair-\(batched)-\(caller)-\(sequence)"
                        let request = ReservationRequest(
                            id: id, amount: Microdollars(10_000), scopes: scopes, expiresAt: Date() + 600)
                        var begin = ContinuousClock.now
                        if batched {
                            _ = try await ledger.reserve(request)
                        } else {
                            let now = ledger.now()
                            _ = try await ledger.store.reserve(
                                request, accounts: ledger.calendar.accounts(for: scopes, at: now), at: now)
                        }
                        reserve.add(ContinuousClock.now - begin)
                        begin = ContinuousClock.now
                        if batched {
                            _ = try await ledger.settle(id: id, actual: Microdollars(7_000))
                        } else {
                            _ = try await ledger.store.resolve(
                                id: id, by: .settle(actual: Microdollars(7_000)), at: ledger.now())
                        }
                        settle.add(ContinuousClock.now - begin)
                    }
                    return (reserve, settle)
                }
            }
            var all = (Samples(), Samples())
            for try await (reserve, settle) in group {
                all.0.merge(reserve.values)
                all.1.merge(settle.values)
            }
            return all
        }
        let elapsed = Double((ContinuousClock.now - started) / .milliseconds(1)) / 1000
        return ((Double(results.0.values.count) / elapsed).rounded(), results.0, results.1)
    }

    /// Reserve latency without a closed loop's queueing: pairs start on a fixed schedule of
    /// `pacedRate` per second for `seconds`, whatever the ones before them are doing, and each
    /// latency counts from the scheduled start (so a stall delays, and is charged to, every pair
    /// scheduled during it).
    private func measurePaced(_ ledger: Ledger, scopes: [LedgerScope]) async throws -> Samples {
        let interval = Duration.seconds(1) / pacedRate
        let start = ContinuousClock.now + .milliseconds(100)
        let count = pacedRate * seconds
        return try await withThrowingTaskGroup(of: Duration.self) { group in
            for index in 0..<count {
                let due = start + interval * index
                try await Task.sleep(until: due, clock: .continuous)
                group.addTask {
                    let id = "paced-\(index)"
                    _ = try await ledger.reserve(
                        ReservationRequest(
                            id: id, amount: Microdollars(10_000), scopes: scopes, expiresAt: Date() + 600))
                    let latency = ContinuousClock.now - due
                    _ = try await ledger.settle(id: id, actual: Microdollars(7_000))
                    return latency
                }
            }
            var samples = Samples()
            for try await latency in group { samples.add(latency) }
            return samples
        }
    }

    /// `raceAttempts` reservations of $0.03 from `callers` tasks against a $100 cap; returns how many
    /// were admitted, how many fit, and by how much the cap's account exceeds the cap (0 if sound).
    private func measureRace(_ ledger: Ledger) async throws -> (admitted: Int, expected: Int, overshoot: Int64) {
        let scope = try LedgerScope(parsing: "team:race")
        let (cap, cost) = (Microdollars(100_000_000), Microdollars(30_000))
        try await ledger.setCap(scope: scope, window: .day, limit: cap)
        let next = AttemptCounter()
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    var admitted = 0
                    while true {
                        let attempt = next.take()
                        guard attempt < raceAttempts else { return admitted }
                        do {
                            _ = try await ledger.reserve(
                                ReservationRequest(
                                    id: "race-\(attempt)", amount: cost, scopes: [scope], expiresAt: Date() + 600))
                            admitted += 1
                        } catch LedgerError.capExceeded {}
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let day = AccountKey(
            scope: scope, window: .day, windowStart: ledger.calendar.windowStart(.day, containing: ledger.now()))
        let held = try await ledger.store.balances()[day] ?? Balance()
        let overshoot = max(0, held.reserved.value + held.settled.value - cap.value)
        return (admitted, Int(cap.value / cost.value), overshoot)
    }
}

/// Hands out attempt numbers to racing tasks.
final class AttemptCounter: Sendable {
    private let next = Atomic(0)
    /// The next number, from 0.
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}

/// The baseline under every durable commit: how long `fdatasync` of a 16 KiB append takes on the
/// disk the benchmark's files live on, at the paced run's rate, with nothing else to do.
enum DiskSync {
    /// Latencies of `rate` appends-and-syncs per second for `seconds`.
    static func measure(rate: Int, seconds: Int) async throws -> Samples {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agentry-bench-sync-\(getpid())").path
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer {
            close(descriptor)
            unlink(path)
        }
        let block = [UInt8](repeating: 0x61, count: 16_384)
        var samples = Samples()
        let interval = Duration.seconds(1) / rate
        let start = ContinuousClock.now
        for index in 0..<(rate * seconds) {
            try await Task.sleep(until: start + interval * index, clock: .continuous)
            let begin = ContinuousClock.now
            _ = block.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard fdatasync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown) }
            samples.add(ContinuousClock.now - begin)
        }
        return samples
    }
}
