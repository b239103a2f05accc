/// Why the ledger refused: each case has a stable code and a message that says what and why.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A cap would be exceeded: the scope and window that refused, the cap, and what remains.
    case capExceeded(scope: LedgerScope, window: CapWindow, cap: Microdollars, remaining: Microdollars)
    /// The id names a reservation with another amount or other scopes.
    case existsWithDifferentAmount(id: String)
    /// No reservation has this id.
    case reservationNotFound(id: String)
    /// The reservation was resolved otherwise already (settled, released or expired).
    case alreadyResolved(id: String, state: ReservationState)
    /// A settlement larger than the reservation.
    case settleExceedsReserved(id: String, reserved: Microdollars, actual: Microdollars)
    /// The reservation's expiry has passed; what it held went back to its caps.
    case reservationExpired(id: String)
    /// An amount that is zero, negative or too large.
    case invalidAmount(reason: String)
    /// A scope that cannot be parsed or is not allowed.
    case invalidScope(String, reason: String)
    /// A reservation request or cap that makes no sense (no scopes, bad id, expiry in the past).
    case invalidRequest(reason: String)
    /// A sum left the 64-bit range.
    case overflow

    /// Stable code for API error bodies.
    public var code: String {
        switch self {
        case .capExceeded: "cap_exceeded"
        case .existsWithDifferentAmount: "exists_with_different_amount"
        case .reservationNotFound: "reservation_not_found"
        case .alreadyResolved: "already_resolved"
        case .settleExceedsReserved: "settle_exceeds_reserved"
        case .reservationExpired: "reservation_expired"
        case .invalidAmount: "invalid_amount"
        case .invalidScope: "invalid_scope"
        case .invalidRequest: "invalid_request"
        case .overflow: "amount_overflow"
        }
    }

    public var description: String {
        switch self {
        case .capExceeded(let scope, let window, let cap, let remaining):
            let period = window == .run ? "per-run" : window == .day ? "daily" : "monthly"
            return "\(period) cap of \(scope) exceeded: \(cap) cap, \(remaining) left"
        case .existsWithDifferentAmount(let id):
            return "reservation \(id) already exists with a different amount or scopes"
        case .reservationNotFound(let id): return "no reservation \(id)"
        case .alreadyResolved(let id, let state): return "reservation \(id) is already \(state.rawValue)"
        case .settleExceedsReserved(let id, let reserved, let actual):
            return "reservation \(id) holds \(reserved); it cannot settle \(actual)"
        case .reservationExpired(let id):
            return "reservation \(id) expired before it was resolved; its hold goes back to the caps when it is expired"
        case .invalidAmount(let reason): return "invalid amount: \(reason)"
        case .invalidScope(let text, let reason): return "invalid scope '\(text)': \(reason)"
        case .invalidRequest(let reason): return reason
        case .overflow: return "the amount is too large to add up"
        }
    }
}
