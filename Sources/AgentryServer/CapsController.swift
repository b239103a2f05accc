import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AgentryStore
import Foundation
import Hummingbird

/// `/api/v1/caps`: spend caps per scope and window. Admins and finance set and remove them,
/// auditors read them; every change is a `cap.changed` audit record written with the change.
struct CapsController: Sendable {
    let ledger: Ledger
    /// Resolves `team:<name>` to the team's id, the scope the gateway charges.
    let identity: IdentityService
    let recorder: AuditChangeRecorder
    let bodyBytesMax: Int

    static let readers: [Role] = [.admin, .finance, .auditor]
    static let writers: [Role] = [.admin, .finance]

    func register(on api: APIRouter) {
        api.on(.get, "caps", list)
        api.on(.put, "caps/{scope}", setWindows)
        api.on(.put, "caps/{scope}/{window}", set)
        api.on(.delete, "caps/{scope}/{window}", remove)
    }

    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try context.caller().require(Self.readers, to: "reading spend caps")
        let caps = try await ledger.store.caps().sorted { $0.key < $1.key }.map {
            CapView(key: $0.key, limit: $0.value)
        }
        return try JSONResponse.make(CapList(items: caps))
    }

    /// Sets a cap; the body's `limit` is a dollar amount as a string (`"50"`, `"0.12"`), never a float.
    @Sendable func set(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require(Self.writers, to: "setting spend caps")
        let key = try await key(context)
        var request = request
        let body = try await request.decodeJSON(SetCapBody.self, limit: bodyBytesMax)
        guard let limit = Microdollars(parsing: body.limit) else {
            throw APIError(
                .badRequest, "invalid_field",
                "limit: must be a dollar amount as a string, like \"50\" or \"0.12\" (at most 6 decimals)")
        }
        try await change([CapChange(key: key, limit: limit)], by: caller.user.id)
        return try JSONResponse.make(CapView(key: key, limit: limit))
    }

    /// Sets the caps of several windows of one scope at once (`{"day":"50","month":"500"}`): all
    /// of them, each recorded, or none.
    @Sendable func setWindows(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require(Self.writers, to: "setting spend caps")
        let scope = try await scope(context)
        var request = request
        let body = try await request.decodeJSON(SetCapsBody.self, limit: bodyBytesMax)
        var changes: [CapChange] = []
        for (window, text) in [(CapWindow.run, body.run), (.day, body.day), (.month, body.month)] {
            guard let text else { continue }
            guard let limit = Microdollars(parsing: text) else {
                throw APIError(
                    .badRequest, "invalid_field",
                    "\(window.rawValue): must be a dollar amount as a string, like \"50\" or \"0.12\" (at most 6 decimals)"
                )
            }
            changes.append(CapChange(key: CapKey(scope: scope, window: window), limit: limit))
        }
        guard !changes.isEmpty else {
            throw APIError(.badRequest, "invalid_field", "body: give at least one of run, day and month")
        }
        try await change(changes, by: caller.user.id)
        return try JSONResponse.make(CapList(items: changes.map { CapView(key: $0.key, limit: $0.limit ?? .zero) }))
    }

    @Sendable func remove(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        try caller.require(Self.writers, to: "removing spend caps")
        try await change([CapChange(key: try await key(context), limit: nil)], by: caller.user.id)
        return Response(status: .noContent)
    }

    /// Sets or removes caps and records each change, atomically through the outbox.
    private func change(_ changes: [CapChange], by actor: String) async throws {
        try await recorder.setCaps(changes, by: actor, on: ledger)
    }

    /// The `{scope}` of the path. A team may be named by its id or its name (`team:finance`): the
    /// cap is set on the id of the team of that name, which is what model calls are charged to
    /// and which a rename does not change. A name no team has is kept as written.
    private func scope(_ context: AgentryRequestContext) async throws -> LedgerScope {
        // Clients may percent-encode the ':' of a scope (`team%3Afinance`); both forms name it.
        let scope = try LedgerScope(parsing: try context.parameters.require("scope"))
        guard scope.kind == .team else { return scope }
        do {
            return try LedgerScope(.team, id: try await identity.team(reference: scope.id).id)
        } catch IdentityError.teamNotFound {
            return scope
        }
    }

    private func key(_ context: AgentryRequestContext) async throws -> CapKey {
        let scope = try await scope(context)
        let text = try context.parameters.require("window")
        guard let window = CapWindow(rawValue: text) else {
            throw APIError(.badRequest, "invalid_query", "window: must be run, day or month")
        }
        return CapKey(scope: scope, window: window)
    }
}

/// `PUT /api/v1/caps/{scope}/{window}`.
struct SetCapBody: ClosedJSONBody {
    static let fields = ["limit"]
    /// Dollars as a decimal string.
    let limit: String
}

/// `PUT /api/v1/caps/{scope}`: dollars as decimal strings per window; at least one.
struct SetCapsBody: ClosedJSONBody {
    static let fields = ["run", "day", "month"]
    let run: String?
    let day: String?
    let month: String?
}

/// A cap as the API shows it.
struct CapView: Encodable, Sendable {
    let scope: String
    let window: String
    /// Dollars, e.g. `$50.00`.
    let limit: String
    let limitMicros: Int64

    init(key: CapKey, limit: Microdollars) {
        scope = key.scope.description
        window = key.window.rawValue
        self.limit = limit.description
        limitMicros = limit.value
    }
}

/// Every cap.
struct CapList: Encodable, Sendable {
    let items: [CapView]
}

extension AuditChangeRecorder {
    /// Applies cap changes with a `cap.changed` record each, in one transaction through the
    /// outbox; false (nothing written or recorded) when a change's expectation did not hold.
    @discardableResult
    func setCaps(_ changes: [CapChange], by actor: String, on ledger: Ledger) async throws -> Bool {
        let time = ledger.now()
        let messages = try changes.map { change in
            try message(
                for: AuditEvent(
                    time: StoredTime.milliseconds(time), kind: .capChanged, actor: actor,
                    subject: "\(change.key.scope)/\(change.key.window.rawValue)",
                    outcome: change.limit == nil ? "removed" : "set", costMicrodollars: change.limit?.value),
                at: time)
        }
        guard try await ledger.setCaps(changes, recording: messages) else { return false }
        try await deliver(messages)
        return true
    }
}
