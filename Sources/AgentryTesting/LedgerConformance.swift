import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import Synchronization

/// The `LedgerStore` contract as executable cases, run against every backend.
public enum LedgerConformance {
    /// All cases.
    public static let cases: [ConformanceCase] = [
        lifecycle, raceAdmitsExactlyWhatFits, twoInstancesShareTheCaps, expiryRunsOnce, loweringACapBlocksNewCalls,
        windowsRollOverInTheirZone, oneBatchDecidesLikeItsOperationsInOrder, upgradeFromHoldRows,
        changesBehindTheStoresBackAreSeen, oneNewIDRacedByTwoInstancesIsMadeOnce, theTimeZoneIsClaimedOnce,
        expectedCapsChangeOnce,
    ]

    /// A settable clock for ledger tests.
    final class TestClock: Sendable {
        private let time: Mutex<Date>
        init(_ start: Date) { time = Mutex(start) }
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    static let start = Date(timeIntervalSince1970: 1_790_000_000)
    static let team = try! LedgerScope(.team, id: "finance")
    static let agent = try! LedgerScope(.agent, id: "agent_1")

    static func request(
        _ id: String, _ micros: Int64, scopes: [LedgerScope], clock: TestClock, ttl: TimeInterval = 600
    ) -> ReservationRequest {
        ReservationRequest(
            id: id, amount: Microdollars(micros), scopes: scopes, expiresAt: clock.now.addingTimeInterval(ttl),
            attribution: SpendAttribution(user: "usr_1", team: "finance", model: "gpt-test", zone: "sandbox"))
    }

    /// Runs `body` with two ledgers over two store instances on one fresh location (as two Agentry
    /// processes would share one database), sharing one test clock.
    static func withTwoInstances(
        _ backend: TestBackend, _ body: @Sendable ([Ledger], TestClock) async throws -> Void
    ) async throws {
        try await StoreFixture.withLocation(backend) { location in
            let first = try await StoreFixture.open(location)
            let second = try await StoreFixture.open(location)
            _ = try await first.migrate()
            let clock = TestClock(start)
            do {
                try await body([first, second].map { Ledger(store: $0.ledger, clock: { clock.now }) }, clock)
            } catch {
                try? await first.close()
                try? await second.close()
                throw error
            }
            try await first.close()
            try await second.close()
        }
    }

    /// Reserves `request`, returning the refusal instead of throwing it.
    static func attempt(_ ledger: Ledger, _ request: ReservationRequest) async throws -> LedgerError? {
        do {
            _ = try await ledger.reserve(request)
            return nil
        } catch let error as LedgerError {
            return error
        }
    }

    static func expectRefusal(_ expected: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as LedgerError {
            try await ensure(error.code == expected, "expected \(expected), got \(error.code): \(error)")
            return
        }
        throw ExpectationFailure("expected \(expected), nothing was refused")
    }

    static let lifecycle = ConformanceCase("reserve, settle and release resolve once; repeats are idempotent") {
        backend in
        try await StoreFixture.withStore(backend) { store in
            let clock = TestClock(start)
            let ledger = Ledger(store: store.ledger, clock: { clock.now })
            try await ledger.setCap(scope: team, window: .day, limit: Microdollars(1_000_000))
            let first = request("r1", 400_000, scopes: [.org, team, agent], clock: clock)
            guard case .done(let held) = try await ledger.reserve(first) else { throw ExpectationFailure("not done") }
            try await ensure(held.state == .pending && held.accounts.count == 6, "reserved: \(held)")
            guard case .exists = try await ledger.reserve(first) else { throw ExpectationFailure("repeat not exists") }
            try await expectRefusal("exists_with_different_amount") {
                _ = try await ledger.reserve(request("r1", 500_000, scopes: [.org, team, agent], clock: clock))
            }
            try await expectRefusal("settle_exceeds_reserved") {
                _ = try await ledger.settle(id: "r1", actual: Microdollars(400_001))
            }
            guard case .done(let settled) = try await ledger.settle(id: "r1", actual: Microdollars(150_000)) else {
                throw ExpectationFailure("settle not done")
            }
            try await ensure(settled.state == .settled && settled.settled == Microdollars(150_000), "\(settled)")
            guard case .exists = try await ledger.settle(id: "r1", actual: Microdollars(150_000)) else {
                throw ExpectationFailure("repeated settle not exists")
            }
            try await expectRefusal("exists_with_different_amount") {
                _ = try await ledger.settle(id: "r1", actual: Microdollars(1))
            }
            try await expectRefusal("already_resolved") { _ = try await ledger.release(id: "r1") }
            try await expectRefusal("reservation_not_found") { _ = try await ledger.release(id: "nope") }
            try await expectRefusal("cap_exceeded") {
                _ = try await ledger.reserve(request("r2", 850_001, scopes: [team], clock: clock))
            }
            _ = try await ledger.reserve(request("r3", 850_000, scopes: [team], clock: clock))
            _ = try await ledger.release(id: "r3")
            guard case .exists = try await ledger.release(id: "r3") else { throw ExpectationFailure("release repeat") }
            let balances = try await store.ledger.balances()
            let day = AccountKey(
                scope: team, window: .day, windowStart: ledger.calendar.windowStart(.day, containing: clock.now))
            try await ensure(
                balances[day] == Balance(reserved: .zero, settled: Microdollars(150_000)),
                "team day: \(String(describing: balances[day]))")
            try await ensure(try await ledger.drift().isEmpty, "the accounts drifted from their reservations")
            for bad in [
                request("", 1, scopes: [team], clock: clock), request("z", 0, scopes: [team], clock: clock),
                request("z", -5, scopes: [team], clock: clock), request("z", 5, scopes: [], clock: clock),
                request("z", 5, scopes: [team, team], clock: clock),
                request("z", 5, scopes: [team], clock: clock, ttl: -1),
                request("z", Int64.max, scopes: [team], clock: clock),
            ] {
                let refusal = try await attempt(ledger, bad)
                try await ensure(refusal != nil && refusal?.code != "cap_exceeded", "accepted a bad request \(bad.id)")
            }
            try await ensure(try await store.ledger.reservation(id: "z") == nil, "a refused request left a reservation")
        }
    }

    static let raceAdmitsExactlyWhatFits = ConformanceCase(
        "60 concurrent reservations of $0.07 on overlapping $1.00 and $0.50 caps admit exactly 7"
    ) { backend in
        try await StoreFixture.withStore(backend) { store in
            let clock = TestClock(start)
            let ledger = Ledger(store: store.ledger, clock: { clock.now })
            try await ledger.setCap(scope: team, window: .day, limit: Microdollars(1_000_000))
            try await ledger.setCap(scope: agent, window: .month, limit: Microdollars(500_000))
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for caller in 0..<60 {
                    let run = try LedgerScope(.run, id: "run_\(caller)")
                    group.addTask {
                        try await attempt(
                            ledger, request("race-\(caller)", 70_000, scopes: [.org, team, agent, run], clock: clock))
                            == nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            try await ensure(admitted == 7, "admitted \(admitted), not 7 (overshoot or starvation)")
            try await ensure(try await ledger.drift().isEmpty, "the accounts drifted from their reservations")
        }
    }

    static let twoInstancesShareTheCaps = ConformanceCase(
        "two instances racing 80 reservations of $0.03 on a $1.00 cap admit exactly 33"
    ) { backend in
        try await withTwoInstances(backend) { ledgers, clock in
            try await ledgers[0].setCap(scope: team, window: .month, limit: Microdollars(1_000_000))
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for caller in 0..<80 {
                    let ledger = ledgers[caller % 2]
                    group.addTask {
                        try await attempt(ledger, request("two-\(caller)", 30_000, scopes: [team], clock: clock)) == nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            let drift = try await ledgers[1].drift()
            try await ensure(admitted == 33, "admitted \(admitted), not 33")
            try await ensure(drift.isEmpty, "drift: \(drift)")
        }
    }

    static let expiryRunsOnce = ConformanceCase("overdue reservations expire once, even with two expirers") {
        backend in
        try await StoreFixture.withStore(backend) { store in
            let clock = TestClock(start)
            let ledger = Ledger(store: store.ledger, clock: { clock.now })
            try await ledger.setCap(scope: team, window: .day, limit: Microdollars(100_000))
            for number in 0..<10 {
                _ = try await ledger.reserve(request("x\(number)", 10_000, scopes: [team], clock: clock, ttl: 30))
            }
            try await expectRefusal("cap_exceeded") {
                _ = try await ledger.reserve(request("x10", 1, scopes: [team], clock: clock))
            }
            try await ensure(try await ledger.expireOverdue() == 0, "expired before the deadline")
            clock.advance(31)
            try await expectRefusal("reservation_expired") {
                _ = try await ledger.settle(id: "x3", actual: Microdollars(5))
            }
            async let one = ledger.expireOverdue()
            async let two = ledger.expireOverdue()
            let expired = try await one + two
            try await ensure(expired == 10, "\(expired) expirations for 10 overdue reservations")
            try await ensure(try await store.ledger.reservation(id: "x3")?.state == .expired, "x3 is not expired")
            try await expectRefusal("reservation_expired") { _ = try await ledger.release(id: "x4") }
            _ = try await ledger.reserve(request("x11", 100_000, scopes: [team], clock: clock))
            try await ensure(try await ledger.drift().isEmpty, "the accounts drifted from their reservations")
        }
    }

    static let loweringACapBlocksNewCalls = ConformanceCase("a cap lowered below spend blocks new calls, history stays")
    {
        backend in
        try await StoreFixture.withStore(backend) { store in
            let clock = TestClock(start)
            let ledger = Ledger(store: store.ledger, clock: { clock.now })
            try await ledger.setCap(scope: team, window: .month, limit: Microdollars(50_000_000))
            _ = try await ledger.reserve(request("big", 30_000_000, scopes: [team], clock: clock))
            _ = try await ledger.settle(id: "big", actual: Microdollars(29_880_000))
            try await ledger.setCap(scope: team, window: .month, limit: Microdollars(20_000_000))
            do {
                _ = try await ledger.reserve(request("more", 1, scopes: [team], clock: clock))
                throw ExpectationFailure("a call was admitted above the lowered cap")
            } catch LedgerError.capExceeded(let scope, let window, let cap, let remaining) {
                try await ensure(
                    scope == team && window == .month && cap == Microdollars(20_000_000) && remaining == .zero,
                    "refusal named \(scope) \(window) \(cap) \(remaining)")
            }
            let settled = try await store.ledger.balances().values.map(\.settled)
            try await ensure(
                settled == [Microdollars(29_880_000), Microdollars(29_880_000)], "history changed: \(settled)")
            try await ledger.setCap(scope: team, window: .month, limit: nil)
            _ = try await ledger.reserve(request("uncapped", 1, scopes: [team], clock: clock))
            try await expectRefusal("invalid_request") {
                try await ledger.setCap(scope: team, window: .run, limit: Microdollars(1))
            }
            try await expectRefusal("invalid_amount") {
                try await ledger.setCap(scope: team, window: .day, limit: Microdollars(-1))
            }
            try await ensure(try await store.ledger.caps().isEmpty, "a refused cap was stored")
        }
    }

    static let windowsRollOverInTheirZone = ConformanceCase(
        "a day cap in Europe/Berlin refuses at 23:59:59 and starts at zero at midnight; the month goes on; spend per day splits there"
    ) { backend in
        try await StoreFixture.withStore(backend) { store in
            // 2028-02-28 23:59:59 in Berlin (UTC+1): a leap-year February, the next day is the 29th.
            let clock = TestClock(Date(timeIntervalSince1970: 1_835_391_599))
            guard let berlin = LedgerCalendar(timeZoneIdentifier: "Europe/Berlin") else {
                throw ExpectationFailure("no Europe/Berlin zone")
            }
            let ledger = Ledger(store: store.ledger, calendar: berlin, clock: { clock.now })
            try await ledger.setCap(scope: team, window: .day, limit: Microdollars(1_000_000))
            try await ledger.setCap(scope: team, window: .month, limit: Microdollars(1_500_000))
            _ = try await ledger.reserve(request("late", 900_000, scopes: [team], clock: clock))
            try await expectRefusal("cap_exceeded") {
                _ = try await ledger.reserve(request("late2", 200_000, scopes: [team], clock: clock))
            }
            clock.advance(2)
            _ = try await ledger.reserve(request("early", 500_000, scopes: [team], clock: clock))
            try await expectRefusal("cap_exceeded") {
                _ = try await ledger.reserve(request("early2", 200_000, scopes: [team], clock: clock))
            }
            let accounts = try await store.ledger.balances().keys.filter { $0.window == .day }.map(\.windowStart)
                .sorted()
            try await ensure(accounts == [1_835_305_200_000, 1_835_391_600_000], "day windows: \(accounts)")
            // Spend by model per Berlin day splits at that midnight; per month it does not.
            let start = StoredTime.milliseconds(clock.now) - 60_000
            let perDay = try await store.ledger.spend(by: .model, per: .day, since: start, until: .max)
            try await ensure(
                perDay.map { "\($0.windowStart ?? -1) \($0.key ?? "-") \($0.inFlight.value)" } == [
                    "1835305200000 gpt-test 900000", "1835391600000 gpt-test 500000",
                ], "per day: \(perDay)")
            let perMonth = try await store.ledger.spend(by: .model, per: .month, since: start, until: .max)
            try await ensure(
                perMonth.map { "\($0.windowStart ?? -1) \($0.inFlight.value) \($0.reservations)" } == [
                    "1832972400000 1400000 2"
                ], "per month: \(perMonth)")
        }
    }

    static let oneBatchDecidesLikeItsOperationsInOrder = ConformanceCase(
        "a batch decides as its operations would one by one: later ones see earlier ones, refusals change nothing"
    ) { backend in
        try await StoreFixture.withStore(backend) { store in
            let clock = TestClock(start)
            let ledger = Ledger(store: store.ledger, clock: { clock.now })
            try await ledger.setCap(scope: team, window: .day, limit: Microdollars(100))
            let keys = ledger.calendar.accounts(for: [team], at: clock.now)
            let results = try await store.ledger.execute(
                [
                    .reserve(request("a", 60, scopes: [team], clock: clock), accounts: keys),
                    .reserve(request("b", 50, scopes: [team], clock: clock), accounts: keys),
                    .resolve(id: "a", .settle(actual: Microdollars(10))),
                    .reserve(request("b", 50, scopes: [team], clock: clock), accounts: keys),
                    .reserve(request("b", 50, scopes: [team], clock: clock), accounts: keys),
                    .resolve(id: "nope", .release),
                    .reserve(request("c", 41, scopes: [team], clock: clock), accounts: keys),
                    .resolve(id: "b", .release),
                ], at: clock.now)
            let summary = results.map { result -> String in
                switch result {
                case .success(.done(let reservation)): "done \(reservation.state.rawValue)"
                case .success(.exists): "exists"
                case .failure(let refusal): refusal.code
                }
            }
            try await ensure(
                summary == [
                    "done pending", "cap_exceeded", "done settled", "done pending", "exists", "reservation_not_found",
                    "cap_exceeded", "done released",
                ], "batch outcomes: \(summary)")
            try await ensure(try await store.ledger.reservation(id: "a")?.state == .settled, "a is not settled")
            try await ensure(try await store.ledger.reservation(id: "c") == nil, "a refused reservation was stored")
            try await ensure(try await ledger.drift().isEmpty, "the accounts drifted from their reservations")
            let day = keys.first { $0.window == .day }!
            let balance = try await store.ledger.balances()[day]
            try await ensure(
                balance == Balance(reserved: .zero, settled: Microdollars(10)), "\(String(describing: balance))")
        }
    }

    static let upgradeFromHoldRows = ConformanceCase(
        "reservations written with one hold row per account keep their accounts through migration 8"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            try await StoreFixture.open(location).closing { store in
                try await ensure(try await store.migrate(through: 7) == Array(1...7), "did not stop at version 7")
            }
            // Four reservations in the version-7 layout: pending on team and org (day and month),
            // settled on the same, released, and pending on a run scope only.
            let (day, month) = (Int64(1_789_948_800_000), Int64(1_788_220_800_000))
            let calendarHolds = { (id: String) in
                ["org", "team:finance"].flatMap { scope in
                    ["('\(id)', '\(scope)', 'day', \(day))", "('\(id)', '\(scope)', 'month', \(month))"]
                }
            }
            let columns = "id, amount, settled, state, created_at, expires_at, resolved_at, model"
            for statement in [
                """
                INSERT INTO ledger_reservations (\(columns)) VALUES
                    ('p1', 300, NULL, 'pending', 1, 9999999999999, NULL, 'gpt-test'),
                    ('s1', 500, 200, 'settled', 1, 9999999999999, 2, 'gpt-test'),
                    ('x1', 700, NULL, 'released', 1, 9999999999999, 2, NULL),
                    ('r1', 50, NULL, 'pending', 1, 9999999999999, NULL, NULL)
                """,
                "INSERT INTO ledger_holds (reservation_id, scope, period, window_start) VALUES "
                    + (calendarHolds("p1") + calendarHolds("s1") + calendarHolds("x1") + [
                        "('r1', 'run:run_9', 'run', 0)"
                    ])
                    .joined(separator: ", "),
                """
                INSERT INTO ledger_accounts (scope, period, window_start, reserved, settled) VALUES
                    ('org', 'day', \(day), 300, 200), ('org', 'month', \(month), 300, 200),
                    ('team:finance', 'day', \(day), 300, 200), ('team:finance', 'month', \(month), 300, 200),
                    ('run:run_9', 'run', 0, 50, 0)
                """,
            ] {
                try await RawSQL.execute(statement, on: location)
            }
            try await StoreFixture.open(location).closing { store in
                try await ensure(try await store.migrate(through: 8) == [8], "migration 8 was not applied")
                let ledger = Ledger(store: store.ledger, clock: { Date(timeIntervalSince1970: 1_790_000_000) })
                let team = try LedgerScope(.team, id: "finance")
                let want = [LedgerScope.org, team].flatMap { scope in
                    [
                        AccountKey(scope: scope, window: .day, windowStart: day),
                        AccountKey(scope: scope, window: .month, windowStart: month),
                    ]
                }.sorted()
                for id in ["p1", "s1", "x1"] {
                    let accounts = try await store.ledger.reservation(id: id)?.accounts
                    try await ensure(accounts == want, "\(id) holds \(String(describing: accounts))")
                }
                let run = try await store.ledger.reservation(id: "r1")?.accounts
                try await ensure(
                    run == [AccountKey(scope: try LedgerScope(.run, id: "run_9"), window: .run, windowStart: 0)],
                    "r1 holds \(String(describing: run))")
                try await ensure(try await ledger.drift().isEmpty, "the upgraded accounts drift")
                _ = try await ledger.settle(id: "p1", actual: Microdollars(100))
                let org = try await store.ledger.balances()[want[0]]
                try await ensure(
                    org == Balance(reserved: .zero, settled: Microdollars(300)),
                    "org after settling: \(String(describing: org))")
                try await ensure(try await ledger.drift().isEmpty, "settling an upgraded reservation drifted")
            }
        }
    }

    static let changesBehindTheStoresBackAreSeen = ConformanceCase(
        "a cap and a reservation changed by another connection are obeyed by the next batch"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            try await StoreFixture.open(location).closing { store in
                _ = try await store.migrate()
                let clock = TestClock(start)
                let ledger = Ledger(store: store.ledger, clock: { clock.now })
                try await ledger.setCap(scope: team, window: .day, limit: Microdollars(1_000_000))
                _ = try await ledger.reserve(request("warm", 500_000, scopes: [team], clock: clock))
                // Another process lowers the cap, and later releases the reservation, by hand.
                try await RawSQL.execute(
                    "UPDATE ledger_caps SET limit_micros = 600000 WHERE scope = 'team:finance' AND period = 'day'",
                    on: location)
                try await expectRefusal("cap_exceeded") {
                    _ = try await ledger.reserve(request("over", 200_000, scopes: [team], clock: clock))
                }
                try await RawSQL.execute(
                    "UPDATE ledger_reservations SET state = 'released', resolved_at = 1 WHERE id = 'warm'", on: location
                )
                try await RawSQL.execute(
                    "UPDATE ledger_accounts SET reserved = 0 WHERE scope = 'team:finance'", on: location)
                try await expectRefusal("already_resolved") {
                    _ = try await ledger.settle(id: "warm", actual: Microdollars(1))
                }
                _ = try await ledger.reserve(request("fits", 600_000, scopes: [team], clock: clock))
                try await ensure(try await ledger.drift().isEmpty, "the accounts drifted")
            }
        }
    }

    static let oneNewIDRacedByTwoInstancesIsMadeOnce = ConformanceCase(
        "the same new reservation id sent to two instances at once is made once; the other answer is exists"
    ) { backend in
        try await withTwoInstances(backend) { ledgers, clock in
            // 50 ids, each sent twice to each instance at once: 200 calls, 50 reservations.
            let outcomes = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for call in 0..<200 {
                    let (ledger, id) = (ledgers[call % 2], "dup-\(call / 4)")
                    group.addTask {
                        switch try await ledger.reserve(request(id, 10_000, scopes: [.org, team], clock: clock)) {
                        case .done: (id, "done")
                        case .exists: (id, "exists")
                        }
                    }
                }
                return try await group.reduce(into: [String: [String]]()) { $0[$1.0, default: []].append($1.1) }
            }
            let drift = try await ledgers[0].drift()
            let held = try await ledgers[0].store.balances().values.map(\.reserved.value)
            try await ensure(outcomes.count == 50, "\(outcomes.count) ids answered")
            for (id, answers) in outcomes {
                try await ensure(answers.sorted() == ["done", "exists", "exists", "exists"], "\(id): \(answers)")
            }
            try await ensure(held.allSatisfy { $0 == 500_000 }, "held: \(held)")
            try await ensure(drift.isEmpty, "drift: \(drift)")
        }
    }

    static let theTimeZoneIsClaimedOnce = ConformanceCase(
        "the first instance's time zone is stored; later claims get it; a change is stored with its audit entry"
    ) { backend in
        try await StoreFixture.withStore(backend) { store in
            let ledger = store.ledger
            let first = try await ledger.timeZone(claiming: "Europe/Berlin", at: start)
            let second = try await ledger.timeZone(claiming: "UTC", at: start)
            try await ensure(first == "Europe/Berlin" && second == "Europe/Berlin", "claims gave \(first), \(second)")
            let message = ChangeMessage(id: "obx_tz", createdAt: start, body: "{}")
            try await ledger.setTimeZone("Asia/Tokyo", at: start, recording: [message])
            let third = try await ledger.timeZone(claiming: "UTC", at: start)
            try await ensure(third == "Asia/Tokyo", "after the change: \(third)")
            let outbox = try await store.audit.outbox(olderThan: Int64.max, limit: 10).map(\.id)
            try await ensure(outbox == ["obx_tz"], "outbox: \(outbox)")
        }
    }
}
