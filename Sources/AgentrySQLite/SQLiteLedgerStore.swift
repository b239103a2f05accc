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

    func reserve(_ request: ReservationRequest, accounts: [AccountKey], at time: Date) async throws -> LedgerOutcome {
        try await pool.write { db in
            let existing = try Self.reservation(id: request.id, db)
            let caps = try Self.caps(for: accounts, db)
            let decision = try LedgerRules.reserve(
                request, accounts: accounts, existing: existing, balances: try Self.balances(of: accounts, db),
                caps: caps, at: time)
            switch decision {
            case .exists(let reservation): return .exists(reservation)
            case .apply(let balances, let reservation):
                let attribution = request.attribution
                try db.execute(
                    sql: """
                        INSERT INTO ledger_reservations (id, amount, settled, state, created_at, expires_at,
                            resolved_at, user_id, team, agent, agent_version, run, model, provider, zone)
                        VALUES (?, ?, NULL, 'pending', ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        reservation.id, reservation.amount.value, StoredTime.milliseconds(time),
                        StoredTime.milliseconds(reservation.expiresAt), attribution.user, attribution.team,
                        attribution.agent, attribution.agentVersion, attribution.run, attribution.model,
                        attribution.provider, attribution.zone,
                    ])
                for key in accounts {
                    try db.execute(
                        sql:
                            "INSERT INTO ledger_holds (reservation_id, scope, period, window_start) VALUES (?, ?, ?, ?)",
                        arguments: [reservation.id, key.scope.description, key.window.rawValue, key.windowStart])
                }
                try Self.write(balances, db)
                return .done(reservation)
            }
        }
    }

    func resolve(id: String, by resolution: Resolution, at time: Date) async throws -> LedgerOutcome {
        try await pool.write { db in
            guard let reservation = try Self.reservation(id: id, db) else {
                throw LedgerError.reservationNotFound(id: id)
            }
            let decision = try LedgerRules.resolve(
                reservation, by: resolution, balances: try Self.balances(of: reservation.accounts, db), at: time)
            switch decision {
            case .exists(let reservation): return .exists(reservation)
            case .apply(let balances, let resolved):
                try db.execute(
                    sql: "UPDATE ledger_reservations SET state = ?, settled = ?, resolved_at = ? WHERE id = ?",
                    arguments: [
                        resolved.state.rawValue, resolved.settled?.value,
                        resolved.resolvedAt.map(StoredTime.milliseconds), id,
                    ])
                try Self.write(balances, db)
                return .done(resolved)
            }
        }
    }

    func reservation(id: String) async throws -> Reservation? {
        try await pool.read { db in try Self.reservation(id: id, db) }
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

    func balances() async throws -> [AccountKey: Balance] {
        try await pool.read { db in
            var balances: [AccountKey: Balance] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT scope, period, window_start, reserved, settled FROM ledger_accounts")
            {
                let key = try LedgerRows.accountKey(scope: row[0], period: row[1], windowStart: row[2])
                balances[key] = Balance(reserved: Microdollars(row[3]), settled: Microdollars(row[4]))
            }
            return balances
        }
    }

    func recomputedBalances() async throws -> [AccountKey: Balance] {
        try await pool.read { db in
            var balances: [AccountKey: Balance] = [:]
            for row in try Row.fetchAll(db, sql: LedgerRows.recomputeSQL) {
                let key = try LedgerRows.accountKey(scope: row[0], period: row[1], windowStart: row[2])
                balances[key] = Balance(reserved: Microdollars(row[3]), settled: Microdollars(row[4]))
            }
            return balances
        }
    }

    private static func reservation(id: String, _ db: Database) throws -> Reservation? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT amount, settled, state, created_at, expires_at, resolved_at FROM ledger_reservations
                    WHERE id = ?
                    """, arguments: [id])
        else { return nil }
        let holds = try Row.fetchAll(
            db, sql: "SELECT scope, period, window_start FROM ledger_holds WHERE reservation_id = ?", arguments: [id]
        ).map { try LedgerRows.accountKey(scope: $0[0], period: $0[1], windowStart: $0[2]) }
        return try LedgerRows.reservation(
            id: id, amount: row[0], settled: row[1], state: row[2], createdAt: row[3], expiresAt: row[4],
            resolvedAt: row[5], accounts: holds)
    }

    private static func balances(of accounts: [AccountKey], _ db: Database) throws -> [AccountKey: Balance] {
        var balances: [AccountKey: Balance] = [:]
        for key in accounts {
            if let row = try Row.fetchOne(
                db,
                sql:
                    "SELECT reserved, settled FROM ledger_accounts WHERE scope = ? AND period = ? AND window_start = ?",
                arguments: [key.scope.description, key.window.rawValue, key.windowStart])
            {
                balances[key] = Balance(reserved: Microdollars(row[0]), settled: Microdollars(row[1]))
            }
        }
        return balances
    }

    private static func caps(for accounts: [AccountKey], _ db: Database) throws -> [CapKey: Microdollars] {
        var caps: [CapKey: Microdollars] = [:]
        for key in Set(accounts.map(\.capKey)) {
            if let limit = try Int64.fetchOne(
                db, sql: "SELECT limit_micros FROM ledger_caps WHERE scope = ? AND period = ?",
                arguments: [key.scope.description, key.window.rawValue])
            {
                caps[key] = Microdollars(limit)
            }
        }
        return caps
    }

    private static func write(_ balances: [AccountKey: Balance], _ db: Database) throws {
        for (key, balance) in balances.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: """
                    INSERT INTO ledger_accounts (scope, period, window_start, reserved, settled) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (scope, period, window_start) DO UPDATE SET reserved = excluded.reserved,
                        settled = excluded.settled
                    """,
                arguments: [
                    key.scope.description, key.window.rawValue, key.windowStart, balance.reserved.value,
                    balance.settled.value,
                ])
        }
    }
}
