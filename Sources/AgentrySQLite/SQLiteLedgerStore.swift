import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import GRDB

/// `LedgerStore` over a SQLite pool. SQLite's single write transaction is the lock: every
/// batch reads, decides and writes in one IMMEDIATE transaction while no other writer can run.
/// Rows the writer committed before are taken from `cache` instead of the file.
struct SQLiteLedgerStore: LedgerStore {
    let pool: DatabasePool
    let cache: SQLiteLedgerCache

    func setCaps(_ changes: [CapChange], at time: Date, recording messages: [ChangeMessage]) async throws -> Bool {
        try await committing { db in
            // The write transaction is immediate: what is read here stays true until commit.
            for change in changes where change.expecting != .anything {
                let current = try Int64.fetchOne(
                    db, sql: "SELECT limit_micros FROM ledger_caps WHERE scope = ? AND period = ?",
                    arguments: [change.key.scope.description, change.key.window.rawValue])
                guard change.expecting.holds(for: current.map(Microdollars.init)) else { return (false, { _ in }) }
            }
            try SQLiteIdentityStore.record(messages, into: db)
            for change in changes {
                let (scope, period) = (change.key.scope.description, change.key.window.rawValue)
                if let limit = change.limit {
                    try db.execute(
                        sql: """
                            INSERT INTO ledger_caps (scope, period, limit_micros, updated_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT (scope, period) DO UPDATE SET limit_micros = excluded.limit_micros,
                                updated_at = excluded.updated_at
                            """,
                        arguments: [scope, period, limit.value, StoredTime.milliseconds(time)])
                } else {
                    try db.execute(
                        sql: "DELETE FROM ledger_caps WHERE scope = ? AND period = ?", arguments: [scope, period])
                }
            }
            return (true, { rows in for change in changes { rows.caps[change.key] = .some(change.limit) } })
        }
    }

    func timeZone(claiming identifier: String, at time: Date) async throws -> String {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ledger_settings (name, value, updated_at) VALUES ('time_zone', ?, ?)
                    ON CONFLICT (name) DO NOTHING
                    """, arguments: [identifier, StoredTime.milliseconds(time)])
            return try String.fetchOne(db, sql: "SELECT value FROM ledger_settings WHERE name = 'time_zone'")
                ?? identifier
        }
    }

    func setTimeZone(_ identifier: String, at time: Date, recording messages: [ChangeMessage]) async throws {
        try await pool.write { db in
            try SQLiteIdentityStore.record(messages, into: db)
            try db.execute(
                sql: """
                    INSERT INTO ledger_settings (name, value, updated_at) VALUES ('time_zone', ?, ?)
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                    """, arguments: [identifier, StoredTime.milliseconds(time)])
        }
    }

    func caps() async throws -> [CapKey: Microdollars] {
        try await pool.read { db in
            var caps: [CapKey: Microdollars] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT scope, period, limit_micros FROM ledger_caps") {
                caps[try LedgerRows.capKey(scope: row[0], period: row[1])] = Microdollars(row[2])
            }
            return caps
        }
    }

    /// A change to the cached rows, applied once its transaction has committed.
    private typealias CacheChange = @Sendable (inout SQLiteLedgerCache.Rows) -> Void

    /// Runs `body` in an IMMEDIATE transaction on the writer; once the commit has succeeded, applies
    /// the cache change `body` returned. Any failure drops the cache instead.
    private func committing<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> (T, CacheChange))
        async throws -> T
    {
        try await pool.writeWithoutTransaction { [cache] db in
            var outcome: (T, CacheChange)?
            do {
                try db.inTransaction(.immediate) {
                    outcome = try body(db)
                    return .commit
                }
            } catch {
                cache.withRows { rows in
                    rows.drop()
                    rows.dataVersion = nil
                }
                throw error
            }
            guard let (value, change) = outcome else { preconditionFailure("a committed transaction ran its body") }
            cache.withRows { rows in
                change(&rows)
                rows.trim()
            }
            return value
        }
    }

    /// Reads every row the batch needs that the cache lacks, lets `LedgerBatchState` apply the
    /// operations in order, writes the changed accounts and reservations, and commits; then the
    /// cache learns what was committed.
    func execute(_ operations: [LedgerOperation], at time: Date) async throws -> [Result<LedgerOutcome, LedgerError>] {
        try await committing { [cache] db in
            let batch = try Self.decide(operations, at: time, cache: cache, db)
            return (
                batch.results,
                { rows in
                    for (key, limit) in batch.capsSeen { rows.caps[key] = limit }
                    for key in batch.accounts { rows.balances[key] = batch.state.balances[key] ?? Balance() }
                    for (id, reservation) in batch.state.reservations {
                        rows.pending[id] = reservation.state == .pending ? reservation : nil
                    }
                }
            )
        }
    }

    /// What one batch decided, and the committed rows it saw.
    private struct Decided: Sendable {
        var results: [Result<LedgerOutcome, LedgerError>]
        var state: LedgerBatchState
        var accounts: Set<AccountKey>
        var capsSeen: [CapKey: Microdollars?]
    }

    /// The batch inside its transaction: cached rows unless another connection has committed
    /// since (`data_version`), the rest read from the file.
    private static func decide(
        _ operations: [LedgerOperation], at time: Date, cache: SQLiteLedgerCache, _ db: Database
    ) throws -> Decided {
        let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? -1
        let ids = Set(operations.map(\.id))
        var stored: [String: Reservation] = [:]
        let unknownIDs = cache.withRows { rows -> [String] in
            if rows.dataVersion != version {
                rows.drop()
                rows.dataVersion = version
            }
            return ids.filter { id in
                guard let pending = rows.pending[id] else { return true }
                stored[id] = pending
                return false
            }
        }
        stored.merge(try reservations(unknownIDs, db)) { cached, _ in cached }
        var accounts = Set(stored.values.flatMap(\.accounts))
        for case .reserve(_, let keys) in operations { accounts.formUnion(keys) }
        var balances: [AccountKey: Balance] = [:]
        var capsSeen: [CapKey: Microdollars?] = [:]
        let capKeys = Set(accounts.map(\.capKey))
        let (unknownAccounts, unknownCaps) = cache.withRows { rows -> ([AccountKey], [CapKey]) in
            var unknownAccounts: [AccountKey] = []
            for key in accounts {
                if let balance = rows.balances[key] { balances[key] = balance } else { unknownAccounts.append(key) }
            }
            var unknownCaps: [CapKey] = []
            for key in capKeys {
                if let limit = rows.caps[key] { capsSeen[key] = limit } else { unknownCaps.append(key) }
            }
            return (unknownAccounts, unknownCaps)
        }
        balances.merge(try Self.balances(of: unknownAccounts, db)) { cached, _ in cached }
        let loadedCaps = try Self.caps(for: unknownCaps, db)
        for key in unknownCaps { capsSeen[key] = .some(loadedCaps[key]) }
        var state = LedgerBatchState(
            reservations: stored, balances: balances, caps: capsSeen.compactMapValues { $0 })
        let results = operations.map { state.apply($0, at: time) }
        try Self.insert(state.createdFinal, db)
        let update = try db.cachedStatement(
            sql: "UPDATE ledger_reservations SET state = ?, settled = ?, resolved_at = ? WHERE id = ?")
        for id in state.resolvedIDs.sorted() {
            guard let resolved = state.reservations[id] else { continue }
            try update.execute(arguments: [
                resolved.state.rawValue, resolved.settled?.value, resolved.resolvedAt.map(StoredTime.milliseconds), id,
            ])
        }
        try Self.write(state.balances.filter { state.changedAccounts.contains($0.key) }, db)
        return Decided(results: results, state: state, accounts: accounts, capsSeen: capsSeen)
    }

    /// Rows per multi-row statement: one statement per chunk instead of one per row.
    private static let chunk = 32

    /// Inserts the reservations a batch made, `chunk` rows per statement.
    private static func insert(_ created: [(Reservation, SpendAttribution)], _ db: Database) throws {
        var start = 0
        while start < created.count {
            let rows = created[start..<min(start + chunk, created.count)]
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO ledger_reservations (id, amount, settled, state, created_at, expires_at,
                        resolved_at, scopes, day_start, month_start, user_id, team, agent, agent_version, run, model,
                        provider, zone)
                    VALUES \(repeatElement("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows.count)
                        .joined(separator: ", "))
                    """)
            var values: [(any DatabaseValueConvertible)?] = []
            values.reserveCapacity(rows.count * 18)
            for (reservation, attribution) in rows {
                let held = LedgerRows.HeldAccounts(reservation.accounts)
                values += [
                    reservation.id, reservation.amount.value, reservation.settled?.value, reservation.state.rawValue,
                    StoredTime.milliseconds(reservation.createdAt), StoredTime.milliseconds(reservation.expiresAt),
                    reservation.resolvedAt.map(StoredTime.milliseconds), held.scopes, held.dayStart, held.monthStart,
                    attribution.user, attribution.team, attribution.agent, attribution.agentVersion, attribution.run,
                    attribution.model, attribution.provider, attribution.zone,
                ]
            }
            try statement.execute(arguments: StatementArguments(values))
            start += rows.count
        }
    }

    func reservation(id: String) async throws -> Reservation? {
        try await pool.read { db in try Self.reservations([id], db)[id] }
    }

    func overdue(at time: Date, limit: Int) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT id FROM ledger_reservations WHERE state = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
                arguments: [StoredTime.milliseconds(time), limit])
        }
    }

    func balances() async throws -> [AccountKey: Balance] { try await pool.read(Self.balances) }

    func spend(by attribution: SpendDimension, per window: CapWindow?, since: Int64, until: Int64) async throws
        -> [SpendTotal]
    {
        try await pool.read { db in
            try Row.fetchAll(db, sql: attribution.totalsSQL(per: window), arguments: [since, until]).map { row in
                SpendTotal(
                    windowStart: row[0], key: row[1], settled: Microdollars(row[2]), inFlight: Microdollars(row[3]),
                    reservations: row[4])
            }
        }
    }

    func spend(_ query: SpendQuery) async throws -> [(AccountKey, Balance)] {
        var conditions = ["period = ?", "window_start >= ?", "window_start < ?"]
        var values: [DatabaseValue] = [
            query.window.rawValue.databaseValue, query.since.databaseValue, query.until.databaseValue,
        ]
        if let (sql, value) = query.scopeCondition {
            conditions.append(sql)
            values.append(value.databaseValue)
        }
        values.append(query.limit.databaseValue)
        let arguments = StatementArguments(values)
        let sql = """
            SELECT scope, period, window_start, reserved, settled FROM ledger_accounts
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY window_start, scope LIMIT ?
            """
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map {
                row in
                (
                    try LedgerRows.accountKey(scope: row[0], period: row[1], windowStart: row[2]),
                    Balance(reserved: Microdollars(row[3]), settled: Microdollars(row[4]))
                )
            }
        }
    }

    func balancesAndRecomputed() async throws -> (
        stored: [AccountKey: Balance], recomputed: [AccountKey: Balance]
    ) {
        // One read transaction is one snapshot.
        try await pool.read { db in (try Self.balances(db), try Self.recomputed(db)) }
    }

    func recomputedBalances() async throws -> [AccountKey: Balance] { try await pool.read(Self.recomputed) }

    private static func balances(_ db: Database) throws -> [AccountKey: Balance] {
        try balanceRows(db, sql: "SELECT scope, period, window_start, reserved, settled FROM ledger_accounts")
    }

    private static func recomputed(_ db: Database) throws -> [AccountKey: Balance] {
        try LedgerRows.recomputed(
            from: Row.fetchAll(db, sql: LedgerRows.recomputeSQL).map { row in
                (
                    LedgerRows.HeldAccounts(scopes: row[0], dayStart: row[1], monthStart: row[2]),
                    Balance(reserved: Microdollars(row[3]), settled: Microdollars(row[4]))
                )
            })
    }

    /// Balances from rows of `scope, period, window_start, reserved, settled`.
    private static func balanceRows(_ db: Database, sql: String) throws -> [AccountKey: Balance] {
        var balances: [AccountKey: Balance] = [:]
        for row in try Row.fetchAll(db, sql: sql) {
            let key = try LedgerRows.accountKey(scope: row[0], period: row[1], windowStart: row[2])
            balances[key] = Balance(reserved: Microdollars(row[3]), settled: Microdollars(row[4]))
        }
        return balances
    }

    /// The stored reservations among `ids`, read `chunk` ids per statement.
    private static func reservations(_ ids: [String], _ db: Database) throws -> [String: Reservation] {
        var found: [String: Reservation] = [:]
        var start = 0
        while start < ids.count {
            let some = ids[start..<min(start + chunk, ids.count)]
            let select = try db.cachedStatement(
                sql: """
                    SELECT id, amount, settled, state, created_at, expires_at, resolved_at, scopes, day_start,
                        month_start
                    FROM ledger_reservations WHERE id IN (\(repeatElement("?", count: some.count).joined(separator: ", ")))
                    """)
            let rows = try Row.fetchCursor(select, arguments: StatementArguments(Array(some)))
            while let row = try rows.next() {
                let id: String = row[0]
                found[id] = try LedgerRows.reservation(
                    id: id, amount: row[1], settled: row[2], state: row[3], createdAt: row[4], expiresAt: row[5],
                    resolvedAt: row[6],
                    accounts: LedgerRows.accounts(
                        LedgerRows.HeldAccounts(scopes: row[7], dayStart: row[8], monthStart: row[9])))
            }
            start += some.count
        }
        return found
    }

    private static func balances(of accounts: [AccountKey], _ db: Database) throws -> [AccountKey: Balance] {
        let select = try db.cachedStatement(
            sql: "SELECT reserved, settled FROM ledger_accounts WHERE scope = ? AND period = ? AND window_start = ?")
        var balances: [AccountKey: Balance] = [:]
        for key in accounts {
            if let row = try Row.fetchOne(
                select, arguments: [key.scope.description, key.window.rawValue, key.windowStart])
            {
                balances[key] = Balance(reserved: Microdollars(row[0]), settled: Microdollars(row[1]))
            }
        }
        return balances
    }

    private static func caps(for keys: [CapKey], _ db: Database) throws -> [CapKey: Microdollars] {
        let select = try db.cachedStatement(sql: "SELECT limit_micros FROM ledger_caps WHERE scope = ? AND period = ?")
        var caps: [CapKey: Microdollars] = [:]
        for key in keys {
            if let limit = try Int64.fetchOne(select, arguments: [key.scope.description, key.window.rawValue]) {
                caps[key] = Microdollars(limit)
            }
        }
        return caps
    }

    /// Writes new balances, `chunk` accounts per statement.
    private static func write(_ balances: [AccountKey: Balance], _ db: Database) throws {
        let entries = balances.sorted { $0.key < $1.key }
        var start = 0
        while start < entries.count {
            let some = entries[start..<min(start + chunk, entries.count)]
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO ledger_accounts (scope, period, window_start, reserved, settled)
                    VALUES \(repeatElement("(?, ?, ?, ?, ?)", count: some.count).joined(separator: ", "))
                    ON CONFLICT (scope, period, window_start) DO UPDATE SET reserved = excluded.reserved,
                        settled = excluded.settled
                    """)
            var values: [(any DatabaseValueConvertible)?] = []
            for (key, balance) in some {
                values += [
                    key.scope.description, key.window.rawValue, key.windowStart, balance.reserved.value,
                    balance.settled.value,
                ]
            }
            try upsert.execute(arguments: StatementArguments(values))
            start += some.count
        }
    }
}
