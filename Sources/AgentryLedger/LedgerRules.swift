import struct Foundation.Date

/// The ledger's decisions as pure functions over the rows a store has locked, so every backend
/// applies exactly the same rules and each invariant is asserted before anything is written.
public enum LedgerRules {
    /// The largest amount one reservation may hold: $1,000,000,000.
    public static let amountMax = Microdollars(1_000_000_000 * 1_000_000)

    /// What a reserve writes: the accounts' new balances and the reservation; or that it exists.
    public enum ReserveDecision: Equatable, Sendable {
        case apply(balances: [AccountKey: Balance], reservation: Reservation)
        case exists(Reservation)
    }

    /// What a resolve writes, or that the same resolution happened before.
    public enum ResolveDecision: Equatable, Sendable {
        case apply(balances: [AccountKey: Balance], reservation: Reservation)
        case exists(Reservation)
    }

    /// Checks a request before any store is touched.
    public static func validate(_ request: ReservationRequest, at time: Date) throws(LedgerError) {
        try validateID(request.id)
        guard request.amount > .zero else { throw .invalidAmount(reason: "a reservation must be more than $0") }
        guard request.amount <= amountMax else {
            throw .invalidAmount(reason: "a reservation may hold at most \(amountMax)")
        }
        guard !request.scopes.isEmpty else { throw .invalidRequest(reason: "a reservation needs at least one scope") }
        guard Set(request.scopes).count == request.scopes.count else {
            throw .invalidRequest(reason: "a reservation names each scope once")
        }
        guard request.expiresAt > time else { throw .invalidRequest(reason: "a reservation must expire in the future") }
        let who = request.attribution
        for (name, value) in [
            ("user", who.user), ("team", who.team), ("agent", who.agent), ("agent_version", who.agentVersion),
            ("run", who.run), ("model", who.model), ("provider", who.provider), ("zone", who.zone),
        ] {
            guard let value else { continue }
            guard (1...128).contains(value.utf8.count),
                value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F })
            else { throw .invalidRequest(reason: "attribution \(name) is 1–128 bytes without control characters") }
        }
    }

    /// Checks a reservation id: 1–128 visible ASCII characters.
    public static func validateID(_ id: String) throws(LedgerError) {
        guard (1...128).contains(id.utf8.count), id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .invalidRequest(reason: "a reservation id is 1–128 visible ASCII characters")
        }
    }

    /// The reserve of `request` on `accounts`, given the stored reservation with that id (if any),
    /// the locked accounts' balances (missing ones are zero) and the caps set on them.
    public static func reserve(
        _ request: ReservationRequest, accounts: [AccountKey], existing: Reservation?,
        balances: [AccountKey: Balance], caps: [CapKey: Microdollars], at time: Date
    ) throws(LedgerError) -> ReserveDecision {
        if let existing {
            guard existing.amount == request.amount, Set(existing.accounts.map(\.scope)) == Set(request.scopes)
            else { throw .existsWithDifferentAmount(id: request.id) }
            return .exists(existing)
        }
        var updated: [AccountKey: Balance] = [:]
        var headroom: CapHeadroom?
        for key in accounts {
            var balance = balances[key] ?? Balance()
            if let cap = caps[key.capKey] {
                let spent = try balance.reserved.adding(balance.settled)
                let after = try spent.adding(request.amount)
                guard after <= cap else {
                    throw .capExceeded(
                        scope: key.scope, window: key.window, cap: cap,
                        remaining: max(.zero, try cap.subtracting(spent)))
                }
                let left = try cap.subtracting(after)
                if headroom.map({ left < $0.remaining }) ?? true {
                    headroom = CapHeadroom(scope: key.scope, window: key.window, remaining: left)
                }
            }
            balance.reserved = try balance.reserved.adding(request.amount)
            // Adding the sum would overflow before it could exceed any cap; check it all the same.
            _ = try balance.reserved.adding(balance.settled)
            updated[key] = balance
        }
        var reservation = Reservation(
            id: request.id, amount: request.amount, settled: nil, state: .pending, accounts: accounts,
            createdAt: time, expiresAt: request.expiresAt, resolvedAt: nil)
        reservation.headroom = headroom
        return .apply(balances: updated, reservation: reservation)
    }

    /// The resolution of `reservation` by `resolution` at `time`, given its accounts' balances.
    public static func resolve(
        _ reservation: Reservation, by resolution: Resolution, balances: [AccountKey: Balance], at time: Date
    ) throws(LedgerError) -> ResolveDecision {
        guard reservation.state == .pending else {
            switch (resolution, reservation.state) {
            case (.settle(let actual), .settled):
                guard actual == reservation.settled else { throw .existsWithDifferentAmount(id: reservation.id) }
                return .exists(reservation)
            case (.release, .released), (.expire, .expired): return .exists(reservation)
            case (_, .expired): throw .reservationExpired(id: reservation.id)
            default: throw .alreadyResolved(id: reservation.id, state: reservation.state)
            }
        }
        switch resolution {
        case .expire:
            guard reservation.expiresAt <= time else {
                throw .invalidRequest(reason: "reservation \(reservation.id) has not expired yet")
            }
        case .settle(let actual):
            guard reservation.expiresAt > time else { throw .reservationExpired(id: reservation.id) }
            guard actual >= .zero else { throw .invalidAmount(reason: "a settlement cannot be negative") }
            guard actual <= reservation.amount else {
                throw .settleExceedsReserved(id: reservation.id, reserved: reservation.amount, actual: actual)
            }
        case .release:
            guard reservation.expiresAt > time else { throw .reservationExpired(id: reservation.id) }
        }
        let actual: Microdollars = if case .settle(let actual) = resolution { actual } else { .zero }
        var updated: [AccountKey: Balance] = [:]
        for key in reservation.accounts {
            var balance = balances[key] ?? Balance()
            balance.reserved = try balance.reserved.subtracting(reservation.amount)
            balance.settled = try balance.settled.adding(actual)
            // Only stored data edited behind the ledger's back can get here; refuse rather than write it.
            guard balance.reserved >= .zero else {
                throw .invalidRequest(
                    reason: "account \(key) holds less than reservation \(reservation.id); run agentry ledger verify")
            }
            updated[key] = balance
        }
        var resolved = reservation
        resolved.state = resolution.state
        resolved.settled = resolution.state == .settled ? actual : nil
        resolved.resolvedAt = time
        return .apply(balances: updated, reservation: resolved)
    }
}
