import struct Foundation.Date

/// One ledger operation, as batched into a shared transaction.
public enum LedgerOperation: Sendable {
    /// Reserve `request` on `accounts` (its scopes in their current windows).
    case reserve(ReservationRequest, accounts: [AccountKey])
    /// Resolve reservation `id`.
    case resolve(id: String, Resolution)

    /// The reservation id it concerns.
    public var id: String {
        switch self {
        case .reserve(let request, _): request.id
        case .resolve(let id, _): id
        }
    }
}

/// The rows a batch of operations reads, the operations applied one after another in memory by
/// `LedgerRules`, and what is left to write. Each operation sees the effect of those before it, so
/// a batch decides exactly as the same operations would one transaction each.
public struct LedgerBatchState: Sendable {
    /// Stored reservations the batch names, then their state as the batch leaves it.
    public private(set) var reservations: [String: Reservation]
    /// Balances of every account the batch touches (missing ones are zero).
    public private(set) var balances: [AccountKey: Balance]
    /// Caps on those accounts.
    public let caps: [CapKey: Microdollars]
    /// Accounts whose balance changed.
    public private(set) var changedAccounts: Set<AccountKey> = []
    /// Reservations made by this batch, in order, with their attribution.
    public private(set) var created: [(Reservation, SpendAttribution)] = []
    /// Ids of stored reservations this batch resolved.
    public private(set) var resolvedIDs: Set<String> = []

    /// The state of the rows a store loaded.
    public init(reservations: [String: Reservation], balances: [AccountKey: Balance], caps: [CapKey: Microdollars]) {
        self.reservations = reservations
        self.balances = balances
        self.caps = caps
    }

    /// Applies `operation` at `time`; a refusal changes nothing.
    public mutating func apply(_ operation: LedgerOperation, at time: Date) -> Result<LedgerOutcome, LedgerError> {
        do throws(LedgerError) {
            switch operation {
            case .reserve(let request, let accounts):
                switch try LedgerRules.reserve(
                    request, accounts: accounts, existing: reservations[request.id], balances: balances, caps: caps,
                    at: time)
                {
                case .exists(let reservation): return .success(.exists(reservation))
                case .apply(let updated, let reservation):
                    record(updated)
                    reservations[reservation.id] = reservation
                    created.append((reservation, request.attribution))
                    return .success(.done(reservation))
                }
            case .resolve(let id, let resolution):
                guard let reservation = reservations[id] else { throw .reservationNotFound(id: id) }
                switch try LedgerRules.resolve(reservation, by: resolution, balances: balances, at: time) {
                case .exists(let reservation): return .success(.exists(reservation))
                case .apply(let updated, let resolved):
                    record(updated)
                    reservations[id] = resolved
                    if !created.contains(where: { $0.0.id == id }) { resolvedIDs.insert(id) }
                    return .success(.done(resolved))
                }
            }
        } catch {
            return .failure(error)
        }
    }

    /// Reservations made by this batch as they end it (a batch may reserve and settle one id).
    public var createdFinal: [(Reservation, SpendAttribution)] {
        created.map { (reservations[$0.0.id] ?? $0.0, $0.1) }
    }

    private mutating func record(_ updated: [AccountKey: Balance]) {
        for (key, balance) in updated {
            balances[key] = balance
            changedAccounts.insert(key)
        }
    }
}
