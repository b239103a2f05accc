import struct Foundation.Date

/// Where a reservation's state stands; pending resolves exactly once into one of the others.
public enum ReservationState: String, CaseIterable, Sendable {
    case pending
    case settled
    case released
    case expired
}

/// Who and what a reservation's spend is attributed to, for spend queries. Free of secrets.
public struct SpendAttribution: Equatable, Sendable {
    public var user: String?
    public var team: String?
    public var agent: String?
    public var agentVersion: String?
    public var run: String?
    public var model: String?
    public var provider: String?
    /// `sandbox` or `catalog`.
    public var zone: String?

    /// An attribution; every field is optional.
    public init(
        user: String? = nil, team: String? = nil, agent: String? = nil, agentVersion: String? = nil,
        run: String? = nil, model: String? = nil, provider: String? = nil, zone: String? = nil
    ) {
        self.user = user
        self.team = team
        self.agent = agent
        self.agentVersion = agentVersion
        self.run = run
        self.model = model
        self.provider = provider
        self.zone = zone
    }
}

/// A request to hold `amount` against every cap of `scopes` until `expiresAt`.
public struct ReservationRequest: Sendable {
    /// The caller's idempotency key: repeating a request with the same id changes nothing.
    public let id: String
    /// The worst-case cost.
    public let amount: Microdollars
    /// The scopes whose caps apply (the caller knows them: key or run → scopes).
    public let scopes: [LedgerScope]
    /// When an unresolved hold is given back; longer than the longest upstream timeout.
    public let expiresAt: Date
    /// For spend queries.
    public let attribution: SpendAttribution

    /// Creates a request.
    public init(
        id: String, amount: Microdollars, scopes: [LedgerScope], expiresAt: Date,
        attribution: SpendAttribution = SpendAttribution()
    ) {
        self.id = id
        self.amount = amount
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.attribution = attribution
    }
}

/// A reservation as stored.
public struct Reservation: Equatable, Sendable {
    public let id: String
    /// What was reserved.
    public let amount: Microdollars
    /// What was settled (only when `state` is settled).
    public var settled: Microdollars?
    public var state: ReservationState
    /// The accounts it holds, sorted.
    public let accounts: [AccountKey]
    public let createdAt: Date
    public let expiresAt: Date
    public var resolvedAt: Date?
    /// Right after a reserve: the capped account with the least budget left. Not stored, and not
    /// part of equality.
    public var headroom: CapHeadroom?

    /// Creates a reservation record.
    public init(
        id: String, amount: Microdollars, settled: Microdollars?, state: ReservationState, accounts: [AccountKey],
        createdAt: Date, expiresAt: Date, resolvedAt: Date?
    ) {
        self.id = id
        self.amount = amount
        self.settled = settled
        self.state = state
        self.accounts = accounts
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.resolvedAt = resolvedAt
    }
}

extension Reservation {
    /// Reservations are equal when their stored fields are (`headroom` is a reserve's by-product).
    public static func == (lhs: Reservation, rhs: Reservation) -> Bool {
        lhs.id == rhs.id && lhs.amount == rhs.amount && lhs.settled == rhs.settled && lhs.state == rhs.state
            && lhs.accounts == rhs.accounts && lhs.createdAt == rhs.createdAt && lhs.expiresAt == rhs.expiresAt
            && lhs.resolvedAt == rhs.resolvedAt
    }
}

/// The budget a cap has left: which scope and window, and how much.
public struct CapHeadroom: Equatable, Sendable {
    public let scope: LedgerScope
    public let window: CapWindow
    public let remaining: Microdollars

    /// A headroom.
    public init(scope: LedgerScope, window: CapWindow, remaining: Microdollars) {
        self.scope = scope
        self.window = window
        self.remaining = remaining
    }
}

/// What an account holds: spend in flight and spend done.
public struct Balance: Equatable, Sendable {
    public var reserved: Microdollars
    public var settled: Microdollars

    /// A balance.
    public init(reserved: Microdollars = .zero, settled: Microdollars = .zero) {
        self.reserved = reserved
        self.settled = settled
    }
}

/// How a pending reservation is resolved.
public enum Resolution: Equatable, Sendable {
    /// The call cost `actual` (≤ reserved); the rest goes back.
    case settle(actual: Microdollars)
    /// The call failed before any cost arose.
    case release
    /// The holder never came back; run by the expiry service once `expiresAt` has passed.
    case expire

    /// The state it leads to.
    var state: ReservationState {
        switch self {
        case .settle: .settled
        case .release: .released
        case .expire: .expired
        }
    }
}

/// The answer to a reserve or resolve: done now, or done before by the same request (`exists`).
public enum LedgerOutcome: Equatable, Sendable {
    case done(Reservation)
    case exists(Reservation)

    /// The reservation either way.
    public var reservation: Reservation {
        switch self {
        case .done(let reservation), .exists(let reservation): reservation
        }
    }
}
