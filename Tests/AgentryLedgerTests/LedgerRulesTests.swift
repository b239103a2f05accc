import AgentryIdentity
import AgentryLedger
import Foundation
import Synchronization
import Testing

/// The state machine and its invariants, through `Ledger` over an in-memory store that applies
/// `LedgerRules` exactly as the database stores do.
@Suite("Ledger rules")
struct LedgerRulesTests {
    /// An in-memory `LedgerStore`: one lock around everything, like SQLite's single writer.
    final class MemoryStore: LedgerStore, Sendable {
        struct State {
            var caps: [CapKey: Microdollars] = [:]
            var balances: [AccountKey: Balance] = [:]
            var reservations: [String: Reservation] = [:]
        }
        let state = Mutex(State())

        func setCaps(_ changes: [CapChange], at time: Date, recording messages: [ChangeMessage]) async throws -> Bool {
            state.withLock { state in
                guard changes.allSatisfy({ $0.expecting.holds(for: state.caps[$0.key]) }) else { return false }
                for change in changes { state.caps[change.key] = change.limit }
                return true
            }
        }
        func caps() async throws -> [CapKey: Microdollars] { state.withLock { $0.caps } }
        func timeZone(claiming identifier: String, at time: Date) async throws -> String { identifier }
        func setTimeZone(_ identifier: String, at time: Date, recording messages: [ChangeMessage]) async throws {}
        func execute(_ operations: [LedgerOperation], at time: Date) async throws -> [Result<
            LedgerOutcome, LedgerError
        >] {
            state.withLock { state in
                var batch = LedgerBatchState(
                    reservations: state.reservations, balances: state.balances, caps: state.caps)
                let results = operations.map { batch.apply($0, at: time) }
                state.reservations = batch.reservations
                state.balances = batch.balances
                return results
            }
        }
        func reservation(id: String) async throws -> Reservation? { state.withLock { $0.reservations[id] } }
        func spend(_ query: SpendQuery) async throws -> [(AccountKey, Balance)] {
            state.withLock { state in
                state.balances.filter { $0.key.window == query.window }.sorted { $0.key < $1.key }.map {
                    ($0.key, $0.value)
                }
            }
        }
        func spend(by attribution: SpendDimension, per window: CapWindow?, since: Int64, until: Int64) async throws
            -> [SpendTotal]
        { [] }
        func balancesAndRecomputed() async throws -> (
            stored: [AccountKey: Balance], recomputed: [AccountKey: Balance]
        ) { (try await balances(), try await recomputedBalances()) }
        func overdue(at time: Date, limit: Int) async throws -> [String] {
            state.withLock { state in
                Array(
                    state.reservations.values.filter { $0.state == .pending && $0.expiresAt <= time }.map(\.id).prefix(
                        limit))
            }
        }
        func balances() async throws -> [AccountKey: Balance] { state.withLock { $0.balances } }
        func recomputedBalances() async throws -> [AccountKey: Balance] {
            state.withLock { state in
                var balances: [AccountKey: Balance] = [:]
                for reservation in state.reservations.values {
                    for key in reservation.accounts {
                        var balance = balances[key] ?? Balance()
                        if reservation.state == .pending {
                            balance.reserved = Microdollars(balance.reserved.value + reservation.amount.value)
                        }
                        if let settled = reservation.settled {
                            balance.settled = Microdollars(balance.settled.value + settled.value)
                        }
                        balances[key] = balance
                    }
                }
                return balances
            }
        }
    }

    final class Clock: Sendable {
        let time = Mutex(Date(timeIntervalSince1970: 1_790_000_000))
        var now: Date { time.withLock { $0 } }
    }

    @Test(arguments: 0..<20)
    func randomInterleavingsKeepEveryInvariant(_ seed: Int) async throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 1)
        let store = MemoryStore()
        let clock = Clock()
        let ledger = Ledger(store: store, clock: { clock.now })
        let scopes = try ["org", "team:a", "team:b", "agent:x", "agent:y", "user:u1", "user:u2"].map(
            LedgerScope.init(parsing:))
        for scope in scopes where Int.random(in: 0..<3, using: &random) > 0 {
            let window: CapWindow = Bool.random(using: &random) ? .day : .month
            try await ledger.setCap(
                scope: scope, window: window, limit: Microdollars(Int64.random(in: 0...3_000_000, using: &random)))
        }
        var ids: [String] = []
        for step in 0..<400 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let chosen = Array(scopes.shuffled(using: &random).prefix(Int.random(in: 1...4, using: &random)))
                let id = "r\(step)"
                let request = ReservationRequest(
                    id: id, amount: Microdollars(Int64.random(in: 1...400_000, using: &random)), scopes: chosen,
                    expiresAt: clock.now.addingTimeInterval(Double.random(in: 1...120, using: &random)))
                if (try? await ledger.reserve(request)) != nil { ids.append(id) }
            case 5..<7:
                if let id = ids.randomElement(using: &random) {
                    _ = try? await ledger.settle(
                        id: id, actual: Microdollars(Int64.random(in: 0...450_000, using: &random)))
                }
            case 7:
                if let id = ids.randomElement(using: &random) { _ = try? await ledger.release(id: id) }
            case 8:
                clock.time.withLock { $0 += Double.random(in: 0...40, using: &random) }
            default:
                try await ledger.expireOverdue()
            }
            let balances = try await store.balances()
            let caps = try await store.caps()
            for (key, balance) in balances {
                #expect(balance.reserved >= .zero && balance.settled >= .zero, "negative balance at \(key)")
                if let cap = caps[key.capKey] {
                    #expect(
                        balance.settled.value + balance.reserved.value <= cap.value,
                        "cap exceeded at \(key), seed \(seed)")
                }
            }
        }
        #expect(try await ledger.drift().isEmpty)
        let states = Set(try await ids.asyncMap { try await store.reservation(id: $0)?.state })
        #expect(!states.isEmpty)
    }

    @Test func eachStateResolvesExactlyOnce() throws {
        let time = Date(timeIntervalSince1970: 1_790_000_000)
        let key = AccountKey(scope: .org, window: .day, windowStart: 0)
        let pending = Reservation(
            id: "r", amount: Microdollars(100), settled: nil, state: .pending, accounts: [key], createdAt: time,
            expiresAt: time.addingTimeInterval(60), resolvedAt: nil)
        let balances = [key: Balance(reserved: Microdollars(100))]
        for resolution in [Resolution.settle(actual: Microdollars(40)), .release] {
            guard
                case .apply(let after, let resolved) = try LedgerRules.resolve(
                    pending, by: resolution, balances: balances, at: time)
            else {
                Issue.record("\(resolution) did not apply")
                continue
            }
            #expect(after[key]?.reserved == .zero)
            for next in [Resolution.settle(actual: Microdollars(40)), .release, .expire] {
                let outcome = Result {
                    try LedgerRules.resolve(resolved, by: next, balances: after, at: time.addingTimeInterval(120))
                }
                if case .success(.apply) = outcome { Issue.record("\(resolution) then \(next) applied twice") }
            }
        }
        #expect(throws: LedgerError.self) {
            try LedgerRules.resolve(pending, by: .expire, balances: balances, at: time)
        }
        guard
            case .apply(_, let expired) = try LedgerRules.resolve(
                pending, by: .expire, balances: balances, at: time.addingTimeInterval(60))
        else {
            Issue.record("expiry did not apply")
            return
        }
        #expect(expired.state == .expired)
        #expect(throws: LedgerError.reservationExpired(id: "r")) {
            try LedgerRules.resolve(
                pending, by: .settle(actual: Microdollars(1)), balances: balances, at: time.addingTimeInterval(61))
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing seed reproduces.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
