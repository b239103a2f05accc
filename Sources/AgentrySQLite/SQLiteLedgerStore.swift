import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import GRDB

/// `LedgerStore` over a SQLite pool. SQLite's single write transaction is the lock: every
/// reserve and resolve reads, decides and writes while no other writer can run.
struct SQLiteLedgerStore: LedgerStore {
    let pool: DatabasePool

    func setCap(_ key: CapKey, limit: Microdollars?, at time: Date, recording messages: [ChangeMessage]) async throws {
        try await pool.write { db in
            try SQLiteIdentityStore.record(messages, into: db)
            if let limit {
                try db.execute(
                    sql: """
                        INSERT INTO ledger_caps (scope, period, limit_micros, updated_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (scope, period) DO UPDATE SET limit_micros = excluded.limit_micros,
                            updated_at = excluded.updated_at
                        """,
                    arguments: [key.scope.description, key.window.rawValue, limit.value, StoredTime.milliseconds(time)])
            } else {
                try db.execute(
                    sql: "DELETE FROM ledger_caps WHERE scope = ? AND period = ?",
                    arguments: [key.scope.description, key.window.rawValue])
            }
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

    /// Reads every row the batch needs, lets `LedgerBatchState` apply the operations in order,
    /// and writes the changed accounts and reservations, all in one write transaction.
    func execute(_ operations: [LedgerOperation], at time: Date) async throws -> [Result<LedgerOutcome, LedgerError>] {
        try await pool.write { db in
            let stored = try Self.reservations(Array(Set(operations.map(\.id))), db)
            var accounts = Set(stored.values.flatMap(\.accounts))
            for case .reserve(_, let keys) in operations { accounts.formUnion(keys) }
            let sorted = accounts.sorted()
            var state = LedgerBatchState(
                reservations: stored, balances: try Self.balances(of: sorted, db), caps: try Self.caps(for: sorted, db))
            let results = operations.map { state.apply($0, at: time) }
            try Self.insert(state.createdFinal, db)
            let update = try db.cachedStatement(
                sql: "UPDATE ledger_reservations SET state = ?, settled = ?, resolved_at = ? WHERE id = ?")
            for id in state.resolvedIDs.sorted() {
                guard let resolved = state.reservations[id] else { continue }
                try update.execute(arguments: [
                    resolved.state.rawValue, resolved.settled?.value, resolved.resolvedAt.map(StoredTime.milliseconds),
                    id,
                ])
            }
            try Self.write(state.balances.filter { state.changedAccounts.contains($0.key) }, db)
            return results
        }
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

    func spend(by attribution: SpendDimension, since: Int64, until: Int64) async throws -> [SpendTotal] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: attribution.totalsSQL,
                arguments: [since, until]
            ).map { row in
                SpendTotal(
                    key: row[0], settled: Microdollars(row[1]), inFlight: Microdollars(row[2]), reservations: row[3])
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

    private static func caps(for accounts: [AccountKey], _ db: Database) throws -> [CapKey: Microdollars] {
        let select = try db.cachedStatement(sql: "SELECT limit_micros FROM ledger_caps WHERE scope = ? AND period = ?")
        var caps: [CapKey: Microdollars] = [:]
        for key in Set(accounts.map(\.capKey)) {
            if let limit = try Int64.fetchOne(select, arguments: [key.scope.description, key.window.rawValue]) {
                caps[key] = Microdollars(limit)
            }
        }
        return caps
    }

    private static func write(_ balances: [AccountKey: Balance], _ db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO ledger_accounts (scope, period, window_start, reserved, settled) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (scope, period, window_start) DO UPDATE SET reserved = excluded.reserved,
                    settled = excluded.settled
                """)
        for (key, balance) in balances.sorted(by: { $0.key < $1.key }) {
            try upsert.execute(
                arguments: [
                    key.scope.description, key.window.rawValue, key.windowStart, balance.reserved.value,
                    balance.settled.value,
                ])
        }
    }
}
