import AgentryLedger
import Synchronization

/// The ledger rows this process's writer last committed, kept in memory so a batch reads from the
/// file only what it has not seen: caps (also known absences), balances, and pending reservations.
///
/// It is a cache, never a second truth. It is read and changed only inside the writer's IMMEDIATE
/// transactions, filled from committed rows, and changed only after a commit succeeded. It is
/// dropped whenever `PRAGMA data_version` says another connection (another process, another
/// `SQLiteStore` on the same file, a hand edit) committed since the writer last looked, and after
/// any failed transaction.
final class SQLiteLedgerCache: Sendable {
    /// What one batch may see and change.
    struct Rows {
        /// `data_version` when the cache was last valid; nil before the first batch.
        var dataVersion: Int64?
        /// Caps by key; `.some(nil)` means known to be unset.
        var caps: [CapKey: Microdollars?] = [:]
        /// Balances of accounts; missing means not loaded (an account without a row is zero).
        var balances: [AccountKey: Balance] = [:]
        /// Pending reservations by id; a reservation not here may still be stored.
        var pending: [String: Reservation] = [:]

        /// Forgets everything but the version.
        mutating func drop() {
            caps.removeAll(keepingCapacity: true)
            balances.removeAll(keepingCapacity: true)
            pending.removeAll(keepingCapacity: true)
        }

        /// Keeps memory bounded: past this many rows of one kind the cache starts over.
        static let rowsMax = 200_000

        /// Drops the cache if any kind has grown past `rowsMax`.
        mutating func trim() {
            if caps.count > Self.rowsMax || balances.count > Self.rowsMax || pending.count > Self.rowsMax { drop() }
        }
    }

    private let rows = Mutex(Rows())

    /// Runs `body` on the cached rows (only ever inside the writer's transaction).
    func withRows<T>(_ body: (inout Rows) throws -> T) rethrows -> T {
        try rows.withLock { try body(&$0) }
    }
}
