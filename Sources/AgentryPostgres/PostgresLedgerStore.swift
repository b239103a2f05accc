import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `LedgerStore` over PostgreSQL. A reserve inserts its reservation first (a concurrent one with
/// the same id waits, then finds it), then locks its accounts with `SELECT … FOR UPDATE` one by
/// one in `AccountKey` order, so concurrent transactions on overlapping accounts queue instead of
/// deadlocking, and every check runs on locked balances: several instances can share one ledger.
struct PostgresLedgerStore: LedgerStore {
    let client: PostgresClient
    let logger: Logger

    func setCap(_ key: CapKey, limit: Microdollars?, at time: Date, recording messages: [ChangeMessage]) async throws {
        let (scope, period, updated) = (key.scope.description, key.window.rawValue, StoredTime.milliseconds(time))
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                if let limit {
                    try await connection.query(
                        """
                        INSERT INTO ledger_caps (scope, period, limit_micros, updated_at)
                        VALUES (\(scope), \(period), \(limit.value), \(updated))
                        ON CONFLICT (scope, period) DO UPDATE SET limit_micros = excluded.limit_micros,
                            updated_at = excluded.updated_at
                        """, logger: logger)
                } else {
                    try await connection.query(
                        "DELETE FROM ledger_caps WHERE scope = \(scope) AND period = \(period)", logger: logger)
                }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
            }
        }
    }

    func caps() async throws -> [CapKey: Microdollars] {
        var caps: [CapKey: Microdollars] = [:]
        let rows = try await client.query("SELECT scope, period, limit_micros FROM ledger_caps", logger: logger)
        for try await (scope, period, limit) in rows.decode((String, String, Int64).self) {
            caps[try LedgerRows.capKey(scope: scope, period: period)] = Microdollars(limit)
        }
        return caps
    }

    /// One transaction per operation, in order: correct under any concurrency, not yet sharing
    /// transactions the way the SQLite store does.
    func execute(_ operations: [LedgerOperation], at time: Date) async throws -> [Result<LedgerOutcome, LedgerError>] {
        var results: [Result<LedgerOutcome, LedgerError>] = []
        for operation in operations {
            do {
                switch operation {
                case .reserve(let request, let accounts):
                    results.append(.success(try await reserveOne(request, accounts: accounts, at: time)))
                case .resolve(let id, let resolution):
                    results.append(.success(try await resolveOne(id: id, by: resolution, at: time)))
                }
            } catch let refusal as LedgerError {
                results.append(.failure(refusal))
            }
        }
        return results
    }

    private func reserveOne(_ request: ReservationRequest, accounts: [AccountKey], at time: Date) async throws
        -> LedgerOutcome
    {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> LedgerOutcome in
                let attribution = request.attribution
                let (created, expires) = (StoredTime.milliseconds(time), StoredTime.milliseconds(request.expiresAt))
                let inserted = try await connection.query(
                    """
                    INSERT INTO ledger_reservations (id, amount, settled, state, created_at, expires_at, resolved_at,
                        user_id, team, agent, agent_version, run, model, provider, zone)
                    VALUES (\(request.id), \(request.amount.value), NULL, 'pending', \(created), \(expires), NULL,
                        \(attribution.user), \(attribution.team), \(attribution.agent), \(attribution.agentVersion),
                        \(attribution.run), \(attribution.model), \(attribution.provider), \(attribution.zone))
                    ON CONFLICT (id) DO NOTHING RETURNING id
                    """, logger: logger)
                let existing =
                    try await inserted.collect().isEmpty
                    ? try await Self.reservation(id: request.id, locking: false, on: connection, logger: logger) : nil
                let balances = try await Self.lockBalances(
                    existing == nil ? accounts : [], on: connection, logger: logger)
                let decision = try LedgerRules.reserve(
                    request, accounts: accounts, existing: existing, balances: balances,
                    caps: try await Self.caps(for: accounts, on: connection, logger: logger), at: time)
                switch decision {
                case .exists(let reservation): return .exists(reservation)
                case .apply(let balances, let reservation):
                    for key in accounts {
                        try await connection.query(
                            """
                            INSERT INTO ledger_holds (reservation_id, scope, period, window_start)
                            VALUES (\(request.id), \(key.scope.description), \(key.window.rawValue), \(key.windowStart))
                            """, logger: logger)
                    }
                    try await Self.write(balances, on: connection, logger: logger)
                    return .done(reservation)
                }
            }
        }
    }

    private func resolveOne(id: String, by resolution: Resolution, at time: Date) async throws -> LedgerOutcome {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> LedgerOutcome in
                guard
                    let reservation = try await Self.reservation(id: id, locking: true, on: connection, logger: logger)
                else { throw LedgerError.reservationNotFound(id: id) }
                let balances =
                    reservation.state == .pending
                    ? try await Self.lockBalances(reservation.accounts, on: connection, logger: logger) : [:]
                switch try LedgerRules.resolve(reservation, by: resolution, balances: balances, at: time) {
                case .exists(let reservation): return .exists(reservation)
                case .apply(let balances, let resolved):
                    let resolvedAt = resolved.resolvedAt.map(StoredTime.milliseconds)
                    try await connection.query(
                        """
                        UPDATE ledger_reservations SET state = \(resolved.state.rawValue),
                            settled = \(resolved.settled?.value), resolved_at = \(resolvedAt)
                        WHERE id = \(id)
                        """, logger: logger)
                    try await Self.write(balances, on: connection, logger: logger)
                    return .done(resolved)
                }
            }
        }
    }

    func reservation(id: String) async throws -> Reservation? {
        try await client.withConnection { connection in
            try await Self.reservation(id: id, locking: false, on: connection, logger: logger)
        }
    }

    func overdue(at time: Date, limit: Int) async throws -> [String] {
        let rows = try await client.query(
            """
            SELECT id FROM ledger_reservations WHERE state = 'pending' AND expires_at <= \(StoredTime.milliseconds(time))
            ORDER BY expires_at LIMIT \(limit)
            """, logger: logger)
        var ids: [String] = []
        for try await id in rows.decode(String.self) { ids.append(id) }
        return ids
    }

    func balances() async throws -> [AccountKey: Balance] {
        try await Self.balanceRows(
            client.query("SELECT scope, period, window_start, reserved, settled FROM ledger_accounts", logger: logger))
    }

    func balancesAndRecomputed() async throws -> (
        stored: [AccountKey: Balance], recomputed: [AccountKey: Balance]
    ) {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                // One snapshot for both reads.
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
                let stored = try await Self.balanceRows(
                    connection.query(
                        "SELECT scope, period, window_start, reserved, settled FROM ledger_accounts", logger: logger))
                let recomputed = try await Self.balanceRows(
                    connection.query(PostgresQuery(unsafeSQL: LedgerRows.recomputeSQL), logger: logger))
                return (stored, recomputed)
            }
        }
    }

    func recomputedBalances() async throws -> [AccountKey: Balance] {
        try await Self.balanceRows(
            client.query(PostgresQuery(unsafeSQL: LedgerRows.recomputeSQL), logger: logger))
    }

    private static func balanceRows(_ rows: PostgresRowSequence) async throws -> [AccountKey: Balance] {
        var balances: [AccountKey: Balance] = [:]
        for try await (scope, period, start, reserved, settled) in rows.decode(
            (String, String, Int64, Int64, Int64).self)
        {
            balances[try LedgerRows.accountKey(scope: scope, period: period, windowStart: start)] = Balance(
                reserved: Microdollars(reserved), settled: Microdollars(settled))
        }
        return balances
    }

    private static func reservation(id: String, locking: Bool, on connection: PostgresConnection, logger: Logger)
        async throws -> Reservation?
    {
        let lock = locking ? " FOR UPDATE" : ""
        var query: PostgresQuery = """
            SELECT amount, settled, state, created_at, expires_at, resolved_at FROM ledger_reservations
            WHERE id = \(id)
            """
        query.sql += lock
        var found: (Int64, Int64?, String, Int64, Int64, Int64?)?
        for try await row in try await connection.query(query, logger: logger)
            .decode((Int64, Int64?, String, Int64, Int64, Int64?).self)
        {
            found = row
        }
        guard let (amount, settled, state, created, expires, resolved) = found else { return nil }
        var accounts: [AccountKey] = []
        let holds = try await connection.query(
            "SELECT scope, period, window_start FROM ledger_holds WHERE reservation_id = \(id)", logger: logger)
        for try await (scope, period, start) in holds.decode((String, String, Int64).self) {
            accounts.append(try LedgerRows.accountKey(scope: scope, period: period, windowStart: start))
        }
        return try LedgerRows.reservation(
            id: id, amount: amount, settled: settled, state: state, createdAt: created, expiresAt: expires,
            resolvedAt: resolved, accounts: accounts)
    }

    /// Creates missing accounts and locks all of `accounts`, in `AccountKey` order.
    private static func lockBalances(_ accounts: [AccountKey], on connection: PostgresConnection, logger: Logger)
        async throws -> [AccountKey: Balance]
    {
        var balances: [AccountKey: Balance] = [:]
        for key in accounts.sorted() {
            let (scope, period, start) = (key.scope.description, key.window.rawValue, key.windowStart)
            try await connection.query(
                """
                INSERT INTO ledger_accounts (scope, period, window_start, reserved, settled)
                VALUES (\(scope), \(period), \(start), 0, 0) ON CONFLICT DO NOTHING
                """, logger: logger)
            let rows = try await connection.query(
                """
                SELECT reserved, settled FROM ledger_accounts
                WHERE scope = \(scope) AND period = \(period) AND window_start = \(start) FOR UPDATE
                """, logger: logger)
            for try await (reserved, settled) in rows.decode((Int64, Int64).self) {
                balances[key] = Balance(reserved: Microdollars(reserved), settled: Microdollars(settled))
            }
        }
        return balances
    }

    private static func caps(for accounts: [AccountKey], on connection: PostgresConnection, logger: Logger)
        async throws -> [CapKey: Microdollars]
    {
        var caps: [CapKey: Microdollars] = [:]
        for key in Set(accounts.map(\.capKey)) {
            let rows = try await connection.query(
                """
                SELECT limit_micros FROM ledger_caps WHERE scope = \(key.scope.description)
                AND period = \(key.window.rawValue)
                """, logger: logger)
            for try await limit in rows.decode(Int64.self) { caps[key] = Microdollars(limit) }
        }
        return caps
    }

    private static func write(_ balances: [AccountKey: Balance], on connection: PostgresConnection, logger: Logger)
        async throws
    {
        for (key, balance) in balances.sorted(by: { $0.key < $1.key }) {
            try await connection.query(
                """
                UPDATE ledger_accounts SET reserved = \(balance.reserved.value), settled = \(balance.settled.value)
                WHERE scope = \(key.scope.description) AND period = \(key.window.rawValue)
                AND window_start = \(key.windowStart)
                """, logger: logger)
        }
    }
}
