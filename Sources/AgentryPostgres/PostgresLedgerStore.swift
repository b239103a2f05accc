import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// `LedgerStore` over PostgreSQL. A batch locks its reservation ids (advisory locks) and its
/// accounts (`SELECT … FOR UPDATE` in one sorted order), so instances sharing one database queue
/// on overlapping accounts instead of deadlocking, and every decision is made on locked balances.
struct PostgresLedgerStore: LedgerStore {
    let client: PostgresClient
    let logger: Logger
    let knownAccounts: KnownAccounts

    /// Accounts this process has seen committed: account rows are never deleted, so a batch whose
    /// accounts are all known skips creating them.
    final class KnownAccounts: Sendable {
        private let keys = Mutex(Set<AccountKey>())

        /// Whether every one of `accounts` is known to exist.
        func containsAll(_ accounts: [AccountKey]) -> Bool {
            keys.withLock { known in accounts.allSatisfy { known.contains($0) } }
        }

        /// Remembers `accounts` as existing (forgetting everything past 200,000 to bound memory).
        func insert(_ accounts: some Sequence<AccountKey>) {
            keys.withLock { known in
                if known.count > 200_000 { known.removeAll(keepingCapacity: true) }
                known.formUnion(accounts)
            }
        }
    }

    func setCaps(_ changes: [CapChange], at time: Date, recording messages: [ChangeMessage]) async throws -> Bool {
        let updated = StoredTime.milliseconds(time)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                // Expected caps are checked under the caps table's lock, so two writers that read
                // the same cap cannot both change it; unconditional changes take no such lock.
                if changes.contains(where: { $0.expecting != .anything }) {
                    try await connection.query("LOCK TABLE ledger_caps IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                }
                for change in changes where change.expecting != .anything {
                    let (scope, period) = (change.key.scope.description, change.key.window.rawValue)
                    let rows = try await connection.query(
                        "SELECT limit_micros FROM ledger_caps WHERE scope = \(scope) AND period = \(period)",
                        logger: logger)
                    var current: Microdollars?
                    for try await value in rows.decode(Int64.self) { current = Microdollars(value) }
                    guard change.expecting.holds(for: current) else { return false }
                }
                for change in changes {
                    let (scope, period) = (change.key.scope.description, change.key.window.rawValue)
                    if let limit = change.limit {
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
                }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    func timeZone(claiming identifier: String, at time: Date) async throws -> String {
        let updated = StoredTime.milliseconds(time)
        try await client.query(
            """
            INSERT INTO ledger_settings (name, value, updated_at) VALUES ('time_zone', \(identifier), \(updated))
            ON CONFLICT (name) DO NOTHING
            """, logger: logger)
        let rows = try await client.query(
            "SELECT value FROM ledger_settings WHERE name = 'time_zone'", logger: logger)
        for try await value in rows.decode(String.self) { return value }
        return identifier
    }

    func setTimeZone(_ identifier: String, at time: Date, recording messages: [ChangeMessage]) async throws {
        let updated = StoredTime.milliseconds(time)
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO ledger_settings (name, value, updated_at) VALUES ('time_zone', \(identifier), \(updated))
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                    """, logger: logger)
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

    /// One transaction per batch of five round trips: transaction-scoped advisory locks on the
    /// batch's reservation ids (so two instances never decide about one id at once); the stored
    /// reservations; every account the batch touches created if missing, then locked with `FOR
    /// UPDATE` in one sorted order (so batches on overlapping accounts queue instead of
    /// deadlocking) and read with its cap; `LedgerBatchState` decides each operation in order; and
    /// one statement writes new reservations, resolutions and balances.
    func execute(_ operations: [LedgerOperation], at time: Date) async throws -> [Result<LedgerOutcome, LedgerError>] {
        let (results, accounts) = try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let ids = Array(Set(operations.map(\.id)))
                try await connection.query(
                    """
                    SELECT pg_advisory_xact_lock(h) FROM
                        (SELECT DISTINCT hashtextextended(id, \(Self.idLockSeed)) AS h FROM unnest(\(ids)::text[]) AS u(id)
                         ORDER BY 1) AS locks
                    """, logger: logger)
                let stored = try await Self.reservations(ids, on: connection, logger: logger)
                var accounts = Set(stored.values.flatMap(\.accounts))
                for case .reserve(_, let keys) in operations { accounts.formUnion(keys) }
                let sorted = accounts.sorted()
                var (balances, caps) = try await Self.lock(
                    sorted, creating: !knownAccounts.containsAll(sorted), on: connection, logger: logger)
                if balances.count < sorted.count {
                    // A row thought to exist is missing (deleted by hand): create it after all.
                    (balances, caps) = try await Self.lock(sorted, creating: true, on: connection, logger: logger)
                }
                guard balances.count == sorted.count else {
                    throw LedgerRows.Corrupt(description: "ledger accounts could not be created or locked")
                }
                var state = LedgerBatchState(reservations: stored, balances: balances, caps: caps)
                let results = operations.map { state.apply($0, at: time) }
                try await Self.write(state, on: connection, logger: logger)
                return (results, sorted)
            }
        }
        // Only after the commit: the accounts of a rolled-back batch may not exist.
        knownAccounts.insert(accounts)
        return results
    }

    /// Three: batches on other connections take their id locks and read while one holds the accounts.
    var batchesInFlight: Int { 3 }

    /// Seed of the advisory-lock keys of reservation ids (any constant unique to the ledger).
    static let idLockSeed: Int64 = 0x4C45_4447_4552

    func reservation(id: String) async throws -> Reservation? {
        try await client.withConnection { connection in
            try await Self.reservations([id], on: connection, logger: logger)[id]
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

    func spend(_ query: SpendQuery) async throws -> [(AccountKey, Balance)] {
        var bindings = PostgresBindings()
        bindings.append(query.window.rawValue)
        bindings.append(query.since)
        bindings.append(query.until)
        var conditions = ["period = ?", "window_start >= ?", "window_start < ?"]
        if let (sql, value) = query.scopeCondition {
            bindings.append(value)
            conditions.append(sql)
        }
        bindings.append(query.limit)
        let sql = PostgresPlaceholders.numbered(
            """
            SELECT scope, period, window_start, reserved, settled FROM ledger_accounts
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY window_start, scope COLLATE "C" LIMIT ?
            """)
        var found: [(AccountKey, Balance)] = []
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        for try await (scope, period, start, reserved, settled) in rows.decode(
            (String, String, Int64, Int64, Int64).self)
        {
            found.append(
                (
                    try LedgerRows.accountKey(scope: scope, period: period, windowStart: start),
                    Balance(reserved: Microdollars(reserved), settled: Microdollars(settled))
                ))
        }
        return found
    }

    func spend(by attribution: SpendDimension, per window: CapWindow?, since: Int64, until: Int64) async throws
        -> [SpendTotal]
    {
        var bindings = PostgresBindings()
        bindings.append(since)
        bindings.append(until)
        let sql = PostgresPlaceholders.numbered(attribution.totalsSQL(per: window))
        var totals: [SpendTotal] = []
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        for try await (start, key, settled, inFlight, count) in rows.decode((Int64?, String?, Int64, Int64, Int64).self)
        {
            totals.append(
                SpendTotal(
                    windowStart: start, key: key, settled: Microdollars(settled), inFlight: Microdollars(inFlight),
                    reservations: count))
        }
        return totals
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
                let recomputed = try await Self.recomputed(
                    connection.query(PostgresQuery(unsafeSQL: LedgerRows.recomputeSQL), logger: logger))
                return (stored, recomputed)
            }
        }
    }

    func recomputedBalances() async throws -> [AccountKey: Balance] {
        try await Self.recomputed(client.query(PostgresQuery(unsafeSQL: LedgerRows.recomputeSQL), logger: logger))
    }

    /// Recomputed balances from the rows of `LedgerRows.recomputeSQL`.
    private static func recomputed(_ rows: PostgresRowSequence) async throws -> [AccountKey: Balance] {
        var groups: [(LedgerRows.HeldAccounts, Balance)] = []
        for try await (scopes, day, month, reserved, settled) in rows.decode(
            (String, Int64?, Int64?, Int64, Int64).self)
        {
            groups.append(
                (
                    LedgerRows.HeldAccounts(scopes: scopes, dayStart: day, monthStart: month),
                    Balance(reserved: Microdollars(reserved), settled: Microdollars(settled))
                ))
        }
        return try LedgerRows.recomputed(from: groups)
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

    /// The stored reservations among `ids`.
    private static func reservations(_ ids: [String], on connection: PostgresConnection, logger: Logger)
        async throws -> [String: Reservation]
    {
        guard !ids.isEmpty else { return [:] }
        var found: [String: Reservation] = [:]
        let rows = try await connection.query(
            """
            SELECT id, amount, settled, state, created_at, expires_at, resolved_at, scopes, day_start, month_start
            FROM ledger_reservations WHERE id = ANY(\(ids))
            """, logger: logger)
        for try await (id, amount, settled, state, created, expires, resolved, scopes, day, month) in rows.decode(
            (String, Int64, Int64?, String, Int64, Int64, Int64?, String, Int64?, Int64?).self)
        {
            found[id] = try LedgerRows.reservation(
                id: id, amount: amount, settled: settled, state: state, createdAt: created, expiresAt: expires,
                resolvedAt: resolved,
                accounts: LedgerRows.accounts(LedgerRows.HeldAccounts(scopes: scopes, dayStart: day, monthStart: month))
            )
        }
        return found
    }

    /// Creates missing accounts (unless all are known to exist), then locks all of `accounts` with
    /// one sorted `FOR UPDATE` and reads their balances and caps.
    private static func lock(
        _ accounts: [AccountKey], creating: Bool, on connection: PostgresConnection, logger: Logger
    ) async throws -> (balances: [AccountKey: Balance], caps: [CapKey: Microdollars]) {
        guard !accounts.isEmpty else { return ([:], [:]) }
        let (scopes, periods, starts) = (
            accounts.map(\.scope.description), accounts.map(\.window.rawValue), accounts.map(\.windowStart)
        )
        if creating {
            try await connection.query(
                """
                INSERT INTO ledger_accounts (scope, period, window_start, reserved, settled)
                SELECT s, p, w, 0, 0 FROM unnest(\(scopes)::text[], \(periods)::text[], \(starts)::bigint[]) AS u(s, p, w)
                ORDER BY s COLLATE "C", p COLLATE "C", w
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        let rows = try await connection.query(
            """
            SELECT a.scope, a.period, a.window_start, a.reserved, a.settled, c.limit_micros FROM ledger_accounts AS a
            JOIN unnest(\(scopes)::text[], \(periods)::text[], \(starts)::bigint[]) AS u(s, p, w)
                ON a.scope = u.s AND a.period = u.p AND a.window_start = u.w
            LEFT JOIN ledger_caps AS c ON c.scope = a.scope AND c.period = a.period
            ORDER BY a.scope COLLATE "C", a.period COLLATE "C", a.window_start
            FOR UPDATE OF a
            """, logger: logger)
        var (balances, caps): ([AccountKey: Balance], [CapKey: Microdollars]) = ([:], [:])
        for try await (scope, period, start, reserved, settled, limit) in rows.decode(
            (String, String, Int64, Int64, Int64, Int64?).self)
        {
            let key = try LedgerRows.accountKey(scope: scope, period: period, windowStart: start)
            balances[key] = Balance(reserved: Microdollars(reserved), settled: Microdollars(settled))
            if let limit { caps[key.capKey] = Microdollars(limit) }
        }
        return (balances, caps)
    }

    /// Writes what a batch changed in one statement: its new reservations, its resolutions of
    /// stored ones, and the new balances. Absent attribution, window starts and settlements travel
    /// as '' and -1. (The new and the resolved reservations are different rows, as one statement
    /// may change a row only once.)
    private static func write(_ state: LedgerBatchState, on connection: PostgresConnection, logger: Logger)
        async throws
    {
        let created = state.createdFinal
        let (reservations, who) = (created.map(\.0), created.map(\.1))
        func text(_ value: (SpendAttribution) -> String?) -> [String] { who.map { value($0) ?? "" } }
        let (user, team, agent, version) = (text(\.user), text(\.team), text(\.agent), text(\.agentVersion))
        let (run, model, provider, zone) = (text(\.run), text(\.model), text(\.provider), text(\.zone))
        let held = reservations.map { LedgerRows.HeldAccounts($0.accounts) }
        let resolved = state.resolvedIDs.sorted().compactMap { state.reservations[$0] }
        let balances = state.balances.filter { state.changedAccounts.contains($0.key) }.sorted { $0.key < $1.key }
        guard !reservations.isEmpty || !resolved.isEmpty || !balances.isEmpty else { return }
        try await connection.query(
            """
            WITH created AS (
                INSERT INTO ledger_reservations (id, amount, settled, state, created_at, expires_at, resolved_at,
                    scopes, day_start, month_start, user_id, team, agent, agent_version, run, model, provider, zone)
                SELECT id, amount, NULLIF(settled, -1), state, created_at, expires_at, NULLIF(resolved_at, -1),
                    scopes, NULLIF(day_start, -1), NULLIF(month_start, -1),
                    NULLIF(user_id, ''), NULLIF(team, ''), NULLIF(agent, ''), NULLIF(agent_version, ''),
                    NULLIF(run, ''), NULLIF(model, ''), NULLIF(provider, ''), NULLIF(zone, '')
                FROM unnest(\(reservations.map(\.id))::text[], \(reservations.map(\.amount.value))::bigint[],
                    \(reservations.map { $0.settled?.value ?? -1 })::bigint[],
                    \(reservations.map(\.state.rawValue))::text[],
                    \(reservations.map { StoredTime.milliseconds($0.createdAt) })::bigint[],
                    \(reservations.map { StoredTime.milliseconds($0.expiresAt) })::bigint[],
                    \(reservations.map { $0.resolvedAt.map(StoredTime.milliseconds) ?? -1 })::bigint[],
                    \(held.map(\.scopes))::text[], \(held.map { $0.dayStart ?? -1 })::bigint[],
                    \(held.map { $0.monthStart ?? -1 })::bigint[], \(user)::text[], \(team)::text[], \(agent)::text[],
                    \(version)::text[], \(run)::text[], \(model)::text[], \(provider)::text[], \(zone)::text[])
                    AS u(id, amount, settled, state, created_at, expires_at, resolved_at, scopes, day_start,
                        month_start, user_id, team, agent, agent_version, run, model, provider, zone)
                RETURNING 1
            ), resolved AS (
                UPDATE ledger_reservations AS r SET state = u.state, settled = NULLIF(u.settled, -1),
                    resolved_at = u.resolved_at
                FROM unnest(\(resolved.map(\.id))::text[], \(resolved.map(\.state.rawValue))::text[],
                    \(resolved.map { $0.settled?.value ?? -1 })::bigint[],
                    \(resolved.map { $0.resolvedAt.map(StoredTime.milliseconds) ?? 0 })::bigint[])
                    AS u(id, state, settled, resolved_at)
                WHERE r.id = u.id
                RETURNING 1
            )
            UPDATE ledger_accounts AS a SET reserved = u.r, settled = u.t
            FROM unnest(\(balances.map(\.key.scope.description))::text[], \(balances.map(\.key.window.rawValue))::text[],
                \(balances.map(\.key.windowStart))::bigint[], \(balances.map(\.value.reserved.value))::bigint[],
                \(balances.map(\.value.settled.value))::bigint[]) AS u(s, p, w, r, t)
            WHERE a.scope = u.s AND a.period = u.p AND a.window_start = u.w
            """, logger: logger)
    }
}
