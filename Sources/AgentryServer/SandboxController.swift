import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPolicy
import Foundation
import Hummingbird

/// `/api/v1/sandbox`: the caller's own personal Sandbox (created on first use) and its keys, and
/// `/api/v1/sandbox/policy`: IT's Sandbox defaults, readable by everyone, set by admins, each
/// change an audited revision. Nobody sees another user's Sandbox.
struct SandboxController: Sendable {
    let sandboxes: SandboxService
    let identity: IdentityService
    let gateway: Gateway
    let bodyBytesMax: Int

    func register(on api: APIRouter) {
        api.on(.get, "sandbox", show)
        api.on(.post, "sandbox/keys", createKey)
        let sandboxes = self.sandboxes
        PolicyRoutes(
            book: sandboxes.book, path: "sandbox/policy", bodyBytesMax: bodyBytesMax, view: SandboxPolicyView.init,
            afterChange: { try await sandboxes.bringCapsUpToDate() }
        ).register(on: api)
    }

    /// The caller's Sandbox: what it may use, its caps with this window's spend, and its keys.
    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let user = try context.caller().user
        let sandbox = try await sandboxes.ensure(userID: user.id)
        let revision = sandboxes.revision
        let scope = try LedgerScope(.user, id: user.id)
        let caps = try await ledger.store.caps()
        let now = ledger.now()
        var windows: [SandboxWindowView] = []
        for window in [CapWindow.day, .month] {
            let start = ledger.calendar.windowStart(window, containing: now)
            let spend = try await ledger.store.spend(
                SpendQuery(window: window, scope: scope, since: start, until: start + 1))
            let balance = spend.first?.1 ?? Balance()
            windows.append(
                SandboxWindowView(window: window, cap: caps[CapKey(scope: scope, window: window)], balance: balance))
        }
        let keys = try await identity.store.tokens(userID: user.id).filter {
            $0.kind == .sandbox && $0.revokedAt == nil && ($0.expiresAt.map { $0 > now } ?? true)
        }
        let models = gateway.catalog.models.values
            .filter { $0.zones.contains(.sandbox) && revision.policy.allowsModel($0.name) }
            .map(\.name).sorted()
        return try JSONResponse.make(
            SandboxView(
                userId: user.id, createdAt: sandbox.createdAt, policyRevision: revision.number, models: models,
                tools: revision.policy.tools.map(\.description),
                maxDataClassification: revision.policy.maxDataClassification.rawValue,
                runCap: revision.policy.caps.run?.decimalText, caps: windows, keys: keys.map(TokenView.init)))
    }

    /// Issues a Sandbox key for the caller's own Sandbox; the secret is shown once.
    @Sendable func createKey(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        var request = request
        let body = try await request.decodeJSON(CreateSandboxKeyBody.self, limit: bodyBytesMax)
        // The key first: a refused name or lifetime creates nothing.
        let issued = try await identity.issuePersonalToken(
            userID: caller.user.id, name: body.name ?? "sandbox",
            lifetime: body.expiresInDays.map { TimeInterval($0) * 86_400 },
            kind: .sandbox, by: caller.user.id)
        _ = try await sandboxes.ensure(userID: caller.user.id)
        context.logger.info("sandbox.key_created", metadata: ["token.id": .string(issued.record.id)])
        return try JSONResponse.make(
            CreatedTokenView(token: issued.secret, record: TokenView(issued.record)), status: .created)
    }

    private var ledger: Ledger { sandboxes.ledger }
}
