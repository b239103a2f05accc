import AgentryIdentity
import AgentryLedger
import Foundation
import Hummingbird

/// `/api/v1/reservations`: the ledger's two phases over HTTP, for runtimes and metering
/// integrations that spend outside the gateway. Admins reserve, settle and release; admins,
/// finance and auditors read. A reserve holds the amount on every cap of its scopes or on none
/// (429 `cap_exceeded`); repeating a request with the same id answers the stored reservation.
struct ReservationsController: Sendable {
    let ledger: Ledger
    let bodyBytesMax: Int

    static let writers: [Role] = [.admin]

    func register(on api: APIRouter) {
        api.on(.post, "reservations", reserve)
        api.on(.get, "reservations/{id}", show)
        api.on(.post, "reservations/{id}/settle", settle)
        api.on(.post, "reservations/{id}/release", release)
    }

    /// Holds `amount` on every cap of `scopes` for `ttl_seconds`; 201 when made, 200 when it existed.
    @Sendable func reserve(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.writers, to: "reserving spend")
        var request = request
        let body = try await request.decodeJSON(ReserveBody.self, limit: bodyBytesMax)
        guard let amount = Microdollars(parsing: body.amount) else {
            throw APIError(
                .badRequest, "invalid_field",
                "amount: must be a dollar amount as a string, like \"0.25\" (at most 6 decimals)")
        }
        guard (1...16).contains(body.scopes.count) else {
            throw APIError(.badRequest, "invalid_field", "scopes: must name 1 to 16 scopes")
        }
        let scopes = try body.scopes.map { try LedgerScope(parsing: $0) }
        let ttl = body.ttlSeconds ?? Self.ttlDefault
        guard (1...Self.ttlMax).contains(ttl) else {
            throw APIError(.badRequest, "invalid_field", "ttl_seconds: must be a whole number from 1 to \(Self.ttlMax)")
        }
        let outcome = try await ledger.reserve(
            ReservationRequest(
                id: body.id, amount: amount, scopes: scopes, expiresAt: ledger.now() + TimeInterval(ttl),
                attribution: SpendAttribution(
                    user: body.user, team: body.team, agent: body.agent, agentVersion: body.agentVersion,
                    run: body.run, model: body.model, provider: body.provider, zone: body.zone)))
        return try Self.respond(outcome, created: true)
    }

    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(CapsController.readers, to: "reading reservations")
        let id = try Self.id(context)
        guard let reservation = try await ledger.store.reservation(id: id) else {
            throw APIError(.notFound, "reservation_not_found", "no reservation \(id)")
        }
        return try JSONResponse.make(ReservationView(reservation))
    }

    /// Settles at `actual` (≤ reserved); the rest goes back to the caps.
    @Sendable func settle(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.writers, to: "settling spend")
        let id = try Self.id(context)
        var request = request
        let body = try await request.decodeJSON(SettleBody.self, limit: bodyBytesMax)
        guard let actual = Microdollars(parsing: body.actual) else {
            throw APIError(
                .badRequest, "invalid_field",
                "actual: must be a dollar amount as a string, like \"0.10\" (at most 6 decimals)")
        }
        return try Self.respond(try await ledger.settle(id: id, actual: actual), created: false)
    }

    /// Gives the whole hold back: the call failed before any cost arose.
    @Sendable func release(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.writers, to: "releasing spend")
        return try Self.respond(try await ledger.release(id: try Self.id(context)), created: false)
    }

    /// Ten minutes: longer than any upstream call the gateway allows.
    static let ttlDefault = 600
    /// One day.
    static let ttlMax = 86_400

    private static func id(_ context: AgentryRequestContext) throws -> String {
        // Percent-encoded ids (`%2F` for `/`) name the same reservation as in the body that made it.
        let id = String(try context.parameters.require("id"))
        try LedgerRules.validateID(id)
        return id
    }

    /// 201 (or 200 for a settle or release) when this request changed the ledger, 200 with
    /// `"repeated": true` when an identical earlier request already had.
    private static func respond(_ outcome: LedgerOutcome, created: Bool) throws -> Response {
        var view = ReservationView(outcome.reservation)
        if case .exists = outcome { view.repeated = true }
        let status: HTTPResponse.Status = created && !view.repeated ? .created : .ok
        return try JSONResponse.make(view, status: status)
    }
}

/// `POST /api/v1/reservations`.
struct ReserveBody: ClosedJSONBody {
    static let fields = [
        "id", "amount", "scopes", "ttl_seconds", "user", "team", "agent", "agent_version", "run", "model", "provider",
        "zone",
    ]
    /// The caller's idempotency key.
    let id: String
    /// Dollars as a decimal string.
    let amount: String
    let scopes: [String]
    let ttlSeconds: Int?
    let user: String?
    let team: String?
    let agent: String?
    let agentVersion: String?
    let run: String?
    let model: String?
    let provider: String?
    let zone: String?

    enum CodingKeys: String, CodingKey {
        case id, amount, scopes, user, team, agent, run, model, provider, zone
        case ttlSeconds = "ttl_seconds"
        case agentVersion = "agent_version"
    }
}

/// `POST /api/v1/reservations/{id}/settle`.
struct SettleBody: ClosedJSONBody {
    static let fields = ["actual"]
    /// Dollars as a decimal string.
    let actual: String
}

/// A reservation as the API shows it; amounts as dollar strings and as integer microdollars.
struct ReservationView: Encodable, Sendable {
    let id: String
    let state: String
    let amount: String
    let amountMicros: Int64
    let settled: String?
    let settledMicros: Int64?
    let accounts: [String]
    let createdAt: Date
    let expiresAt: Date
    let resolvedAt: Date?
    /// True when an identical earlier request had already made this change.
    var repeated = false

    init(_ reservation: Reservation) {
        id = reservation.id
        state = reservation.state.rawValue
        amount = reservation.amount.description
        amountMicros = reservation.amount.value
        settled = reservation.settled?.description
        settledMicros = reservation.settled?.value
        accounts = reservation.accounts.map(\.description)
        createdAt = reservation.createdAt
        expiresAt = reservation.expiresAt
        resolvedAt = reservation.resolvedAt
    }
}
