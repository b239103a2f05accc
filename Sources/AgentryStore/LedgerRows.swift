import AgentryLedger
import Foundation

/// Stored ledger values back into domain types, and SQL both backends share.
public enum LedgerRows {
    /// A stored row that no longer parses (edited by hand): the ledger refuses to guess.
    public struct Corrupt: Error, CustomStringConvertible {
        public let description: String
    }

    /// The key of a stored cap.
    public static func capKey(scope: String, period: String) throws -> CapKey {
        guard let window = CapWindow(rawValue: period), let scope = try? LedgerScope(parsing: scope) else {
            throw Corrupt(description: "ledger row with scope '\(scope)' and period '\(period)' does not parse")
        }
        return CapKey(scope: scope, window: window)
    }

    /// The key of a stored account or hold.
    public static func accountKey(scope: String, period: String, windowStart: Int64) throws -> AccountKey {
        let cap = try capKey(scope: scope, period: period)
        return AccountKey(scope: cap.scope, window: cap.window, windowStart: windowStart)
    }

    /// A stored reservation with its holds.
    public static func reservation(
        id: String, amount: Int64, settled: Int64?, state: String, createdAt: Int64, expiresAt: Int64,
        resolvedAt: Int64?, accounts: [AccountKey]
    ) throws -> Reservation {
        guard let state = ReservationState(rawValue: state) else {
            throw Corrupt(description: "reservation \(id) has unknown state '\(state)'")
        }
        return Reservation(
            id: id, amount: Microdollars(amount), settled: settled.map(Microdollars.init), state: state,
            accounts: accounts.sorted(), createdAt: StoredTime.date(createdAt), expiresAt: StoredTime.date(expiresAt),
            resolvedAt: resolvedAt.map(StoredTime.date))
    }

    /// Every account's balance as its reservations say it should be: pending amounts reserved,
    /// settled amounts settled. Columns: scope, period, window_start, reserved, settled.
    public static let recomputeSQL = """
        SELECT h.scope, h.period, h.window_start,
            CAST(SUM(CASE WHEN r.state = 'pending' THEN r.amount ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN r.state = 'settled' THEN r.settled ELSE 0 END) AS BIGINT)
        FROM ledger_holds h JOIN ledger_reservations r ON r.id = h.reservation_id
        GROUP BY h.scope, h.period, h.window_start
        """
}
