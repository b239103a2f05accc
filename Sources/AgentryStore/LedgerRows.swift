import AgentryLedger
import Foundation
import Synchronization

/// Stored ledger values back into domain types, and SQL both backends share.
public enum LedgerRows {
    /// A stored row that no longer parses (edited by hand): the ledger refuses to guess.
    public struct Corrupt: Error, CustomStringConvertible {
        public let description: String

        /// A corruption report saying what does not parse.
        public init(description: String) { self.description = description }
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

    /// A stored reservation with the accounts it holds.
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

    /// The columns that say which accounts a reservation holds: its scopes (space-separated, sorted)
    /// and the starts of the day and month windows it was made in (nil when it has no such scope).
    /// A reservation holds every window of each of its scopes, so these three name all its accounts.
    public struct HeldAccounts: Equatable, Sendable {
        public let scopes: String
        public let dayStart: Int64?
        public let monthStart: Int64?

        /// The columns of `accounts`, which must be each of their scopes in each of its windows.
        public init(_ accounts: [AccountKey]) {
            var scopes: [LedgerScope] = []
            var (day, month): (Int64?, Int64?) = (nil, nil)
            for key in accounts {
                if scopes.last != key.scope { scopes.append(key.scope) }
                switch key.window {
                case .day: day = key.windowStart
                case .month: month = key.windowStart
                case .run: break
                }
            }
            self.scopes = scopes.map(\.description).joined(separator: " ")
            self.dayStart = day
            self.monthStart = month
            // Sorted accounts list each scope's windows together; these columns name exactly them.
            precondition(
                accounts.count == scopes.reduce(0) { $0 + $1.windows.count }
                    && accounts.allSatisfy { key in
                        key.windowStart == (key.window == .day ? day : key.window == .month ? month : 0)
                    },
                "a reservation holds every window of each of its scopes, in one day and one month")
        }

        /// The columns as stored.
        public init(scopes: String, dayStart: Int64?, monthStart: Int64?) {
            self.scopes = scopes
            self.dayStart = dayStart
            self.monthStart = monthStart
        }
    }

    /// The accounts stored columns name, sorted; throws `Corrupt` when they do not parse.
    public static func accounts(_ held: HeldAccounts) throws -> [AccountKey] {
        var accounts: [AccountKey] = []
        for scope in try scopes(held.scopes) {
            for window in scope.windows {
                let start: Int64? =
                    switch window {
                    case .run: 0
                    case .day: held.dayStart
                    case .month: held.monthStart
                    }
                guard let start else {
                    throw Corrupt(
                        description: "reservation scopes '\(held.scopes)' lack a \(window.rawValue) window start")
                }
                accounts.append(AccountKey(scope: scope, window: window, windowStart: start))
            }
        }
        return accounts.sorted()
    }

    /// Parsed scope lists by their stored text: most reservations share a handful of them.
    private static let parsedScopes = Mutex<[String: [LedgerScope]]>([:])

    /// The scopes of a stored `scopes` column.
    private static func scopes(_ text: String) throws -> [LedgerScope] {
        if let known = parsedScopes.withLock({ $0[text] }) { return known }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard !text.isEmpty,
            let scopes = try? words.map({ word throws(LedgerError) in try LedgerScope(parsing: String(word)) })
        else { throw Corrupt(description: "reservation scopes '\(text)' do not parse") }
        parsedScopes.withLock { cache in
            if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
            cache[text] = scopes
        }
        return scopes
    }

    /// Balances as the reservations say they should be, grouped by the columns that name their
    /// accounts: pending amounts reserved, settled amounts settled. Columns: scopes, day_start,
    /// month_start, reserved, settled; `recomputed(from:)` spreads each group over its accounts.
    public static let recomputeSQL = """
        SELECT scopes, day_start, month_start,
            CAST(SUM(CASE WHEN state = 'pending' THEN amount ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN state = 'settled' THEN settled ELSE 0 END) AS BIGINT)
        FROM ledger_reservations GROUP BY scopes, day_start, month_start
        """

    /// Every account's recomputed balance from the groups of `recomputeSQL`.
    public static func recomputed(from groups: [(HeldAccounts, Balance)]) throws -> [AccountKey: Balance] {
        var balances: [AccountKey: Balance] = [:]
        for (held, group) in groups {
            for key in try accounts(held) {
                var balance = balances[key] ?? Balance()
                balance.reserved = try balance.reserved.adding(group.reserved)
                balance.settled = try balance.settled.adding(group.settled)
                balances[key] = balance
            }
        }
        return balances
    }
}
