import AgentryAudit
import AgentryIdentity
import AgentryLedger
import AgentryRegistry
import AgentryStore
import Foundation
import Hummingbird

/// `/api/v1/catalog`: every published agent, searchable by anyone signed in, each with its
/// owner, versions, grants and spend, and its A2A AgentCard; and the lifecycle an agent has once
/// published: its owner deprecates it, admins suspend it (the kill switch) and resume it.
struct CatalogController: Sendable {
    let catalog: any CatalogStore
    let search: CatalogSearch
    let registry: any RegistryStore
    let reviews: any ReviewStore
    let stewardship: any StewardshipStore
    let identity: IdentityService
    let ledger: Ledger
    let recorder: AuditChangeRecorder
    /// Stops the runs of an agent that is suspended.
    let runs: RunService
    let bodyBytesMax: Int

    /// The largest page.
    static let pageSizeMax = 100

    func register(on api: APIRouter) {
        api.on(.get, "catalog", find)
        api.on(.get, "catalog/{name}", show)
        api.on(.get, "catalog/{name}/agent-card", card)
        api.on(.post, "agents/{name}/suspend", suspend)
        api.on(.post, "agents/{name}/resume", resume)
        api.on(.post, "agents/{name}/deprecate", deprecate)
    }

    /// `?q=` words (prefixes), `department`, `tool`, `tag`, `limit`, `offset`; facets count the matches.
    @Sendable func find(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let parameters = request.uri.queryParameters
        let limit = try QueryInteger.parse(
            parameters["limit"].map(String.init), name: "limit", default: 20, range: 1...Int64(Self.pageSizeMax))
        let offset = try QueryInteger.parse(
            parameters["offset"].map(String.init), name: "offset", default: 0, range: 0...10_000)
        let text = parameters["q"].map(String.init)
        if let text, text.count > 500 { throw APIError.invalidQuery("q", "must be at most 500 characters") }
        var query = CatalogQuery(
            text: text, department: parameters["department"].map(String.init),
            tool: parameters["tool"].map(String.init),
            tag: parameters["tag"].map(String.init), limit: Int(limit), offset: Int(offset))
        query.includeSuspended = parameters["suspended"] == "include" && caller.user.has(.admin)
        let page = try await search.search(query)
        let next = Int(offset) + page.entries.count < page.total ? Int(offset) + page.entries.count : nil
        return try JSONResponse.make(
            CatalogPageView(
                items: page.entries.map(CatalogEntryView.init), total: page.total, nextOffset: next,
                facets: CatalogFacetsView(
                    departments: page.departments.map(FacetView.init), tools: page.tools.map(FacetView.init))))
    }

    /// One published agent: its entry, owner, versions, what was granted, and its spend.
    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let entry = try await entry(context, for: caller)
        let versions = try await registry.versions(agentID: entry.agentID).filter {
            $0.state == .published || $0.state == .retired
        }
        let grants = try await reviews.submissions(agentID: entry.agentID).last {
            $0.version == entry.version && $0.state == .approved
        }?.grants
        let owner = try await identity.store.user(id: entry.ownerID)
        let scope = try LedgerScope(.agent, id: entry.name)
        var spend: [SandboxWindowView] = []
        for window in [CapWindow.day, .month] {
            let start = ledger.calendar.windowStart(window, containing: ledger.now())
            let balance =
                try await ledger.store.spend(SpendQuery(window: window, scope: scope, since: start, until: start + 1))
                .first?.1 ?? Balance()
            spend.append(
                SandboxWindowView(
                    window: window,
                    cap: grants.flatMap { window == .day ? $0.dayCap : $0.monthCap }.map(Microdollars.init),
                    balance: balance))
        }
        return try JSONResponse.make(
            CatalogDetailView(
                entry: CatalogEntryView(entry),
                owner: owner.map { CatalogOwnerView(id: $0.id, name: $0.displayName, email: $0.email.description) },
                versions: versions.map { ["version": $0.version, "state": $0.state.rawValue] },
                grants: grants.map(GrantsBody.init), spend: spend,
                stateChanges: try await AgentStateChangeView.visible(
                    stewardship, agentID: entry.agentID, owner: entry.ownerID, to: caller.user),
                usage: CatalogUsageView(try await runs.store.runs.usage(agentID: entry.agentID)))
        )
    }

    /// The agent as an A2A AgentCard (protocol 1.0), for other agents' discovery.
    @Sendable func card(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let entry = try await entry(context, for: caller)
        guard let version = try await registry.version(agentID: entry.agentID, version: entry.version) else {
            throw RegistryError.versionNotFound(agent: entry.name, version: entry.version)
        }
        let manifest = try AgentManifest(yaml: version.manifest)
        let base = request.head.authority.map { "http://\($0)" } ?? ""
        return try JSONResponse.verbatim(AgentCardView(manifest: manifest, entry: entry, base: base))
    }

    @Sendable func suspend(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try await change(request, context, to: .suspended, roles: [.admin], kind: .agentSuspended)
    }

    @Sendable func resume(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try await change(request, context, to: .active, roles: [.admin], kind: .agentResumed)
    }

    @Sendable func deprecate(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        try await change(request, context, to: .deprecated, roles: [.admin], ownerToo: true, kind: .agentDeprecated)
    }

    /// Sets the agent's state with a reason, recorded in the audit log with the change.
    private func change(
        _ request: Request, _ context: AgentryRequestContext, to state: StoredAgent.State, roles: [Role],
        ownerToo: Bool = false, kind: AuditEventKind
    ) async throws -> Response {
        let caller = try context.caller()
        let name = try context.parameters.require("name")
        guard let agent = try await registry.agent(name: name) else { throw RegistryError.agentNotFound(name) }
        guard roles.contains(where: caller.user.has) || (ownerToo && agent.ownerID == caller.user.id) else {
            throw APIError.forbidden("changing an agent's state", needs: roles)
        }
        // Only an admin's resume lifts a suspension; nothing else moves a suspended agent.
        let allowed: [StoredAgent.State] =
            switch state {
            case .suspended: [.active, .deprecated]
            case .active: [.suspended]
            case .deprecated: [.active]
            }
        guard allowed.contains(agent.state) else {
            throw APIError(
                .conflict, "invalid_transition",
                "the agent '\(agent.name)' is \(agent.state.rawValue); it cannot become \(state.rawValue)")
        }
        var request = request
        let body = try await request.decodeJSON(ReasonBody.self, limit: bodyBytesMax)
        let reason = try ReviewService.text(body.reason, field: "reason")
        let time = ledger.now()
        // The reason is an erasable payload of the audit record, and kept with the agent's changes.
        let message = try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: kind, actor: caller.user.id, subject: agent.name,
                agent: agent.name, outcome: state.rawValue),
            payloads: [AuditPayload(name: "reason", bytes: Array(reason.utf8))], at: time)
        guard
            let made = try await stewardship.setAgentState(
                agentID: agent.id, from: allowed, to: state, reason: reason, actor: caller.user.id, at: time,
                recording: [message])
        else {
            // Another change came first: report the state it left.
            let now = try await registry.agent(id: agent.id)
            throw APIError(
                .conflict, "invalid_transition",
                "the agent '\(agent.name)' is \(now?.state.rawValue ?? "gone"); it cannot become \(state.rawValue)")
        }
        try await recorder.deliver([message])
        // The kill switch: runs stop and their tokens die now, not at their next call.
        if state == .suspended { await runs.suspended(agentID: agent.id) }
        context.logger.info(
            "agent.state_changed",
            metadata: ["agent.name": .string(agent.name), "agent.state": .string(state.rawValue)])
        guard let changed = try await registry.agent(id: agent.id) else { throw RegistryError.agentNotFound(name) }
        return try JSONResponse.make(
            AgentView(changed, stateChange: made))
    }

    /// The entry of the path's agent; a suspended one only for admins.
    private func entry(_ context: AgentryRequestContext, for caller: Principal) async throws -> CatalogEntry {
        let name = try context.parameters.require("name")
        guard let entry = try await catalog.entry(name: name), entry.state != .suspended || caller.user.has(.admin)
        else { throw RegistryError.agentNotFound(name) }
        return entry
    }
}

/// `{"reason": …}` of a state change.
struct ReasonBody: ClosedJSONBody {
    static let fields = ["reason"]
    let reason: String
}
