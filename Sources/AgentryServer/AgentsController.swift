import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation
import Hummingbird

/// `/api/v1/agents`: push agent packages into your Sandbox, and read agents and their versions.
/// A draft is the owner's alone (nobody sees another's Sandbox); reviewers, admins and auditors
/// see versions from submission on; everyone sees published ones.
struct AgentsController: Sendable {
    let registry: AgentRegistryService
    let stewardship: any StewardshipStore

    /// Roles that see every submitted, decided and retired version.
    static let overseers: [Role] = [.reviewer, .admin, .auditor]

    func register(on api: APIRouter) {
        api.on(.post, "agents", push)
        api.on(.get, "agents", list)
        api.on(.get, "agents/{name}", show)
        api.on(.get, "agents/{name}/versions/{version}", version)
        api.on(.get, "agents/{name}/versions/{version}/package", package)
    }

    /// Uploads a zip (`Content-Type: application/zip`) as a draft in the caller's Sandbox.
    @Sendable func push(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
        guard ["application/zip", "application/octet-stream"].contains(mediaType?.lowercased() ?? "") else {
            throw APIError(
                .unsupportedMediaType, "unsupported_media_type",
                "send the agent package as a zip with 'Content-Type: application/zip'")
        }
        var request = request
        let bytes = try await request.bytes(limit: RegistryLimits.packageBytesMax)
        let pushed = try await registry.push(bytes, by: caller.user)
        context.logger.info(
            "agent.pushed",
            metadata: ["agent.name": .string(pushed.agent.name), "agent.version": .string(pushed.version.version)])
        return try JSONResponse.make(
            AgentVersionView(pushed.version, agent: pushed.agent), status: pushed.isNew ? .created : .ok)
    }

    /// The caller's agents; `?owner=all` lists everyone's for reviewers, admins and auditors.
    @Sendable func list(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let paging = try Paging(request)
        var owner: String? = caller.user.id
        if let scope = request.uri.queryParameters["owner"].map(String.init) {
            switch scope {
            case "me": owner = caller.user.id
            case "all":
                try caller.require(Self.overseers, to: "listing everyone's agents")
                owner = nil
            default: throw APIError.invalidQuery("owner", "must be me or all")
            }
        }
        let agents = try await registry.store.agents(ownerID: owner, after: paging.after, limit: paging.limit + 1)
        let (items, next) = paging.page(agents, id: \.name)
        return try JSONResponse.make(Page(items: items.map { AgentView($0) }, nextAfter: next))
    }

    /// An agent and the versions the caller may see.
    @Sendable func show(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let caller = try context.caller()
        let agent = try await agent(context)
        let versions = try await registry.store.versions(agentID: agent.id).filter {
            Self.may(caller, see: $0, of: agent)
        }
        guard !versions.isEmpty || agent.ownerID == caller.user.id else {
            throw RegistryError.agentNotFound(agent.name)
        }
        return try JSONResponse.make(
            AgentDetailView(
                agent: AgentView(agent), versions: versions.map { AgentVersionView($0, agent: agent) },
                stateChanges: try await AgentStateChangeView.visible(
                    stewardship, agentID: agent.id, owner: agent.ownerID, to: caller.user)))
    }

    /// One version: its manifest, files and hashes.
    @Sendable func version(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let (agent, version) = try await visibleVersion(context)
        return try JSONResponse.make(AgentVersionView(version, agent: agent, manifest: true))
    }

    /// The package exactly as uploaded (its SHA-256 is the version's `package_sha256`).
    @Sendable func package(_ request: Request, context: AgentryRequestContext) async throws -> Response {
        let (agent, version) = try await visibleVersion(context)
        guard let bytes = try await registry.store.package(agentID: agent.id, version: version.version) else {
            throw RegistryError.versionNotFound(agent: agent.name, version: version.version)
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/zip",
                .contentDisposition: "attachment; filename=\"\(agent.name)-\(version.version).zip\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func agent(_ context: AgentryRequestContext) async throws -> StoredAgent {
        let name = try context.parameters.require("name")
        guard let agent = try await registry.store.agent(name: name) else { throw RegistryError.agentNotFound(name) }
        return agent
    }

    /// The version of the path, if the caller may see it; otherwise "not found", which says nothing
    /// of whether another user's draft exists.
    private func visibleVersion(_ context: AgentryRequestContext) async throws -> (StoredAgent, StoredAgentVersion) {
        let caller = try context.caller()
        let agent = try await agent(context)
        let number = try context.parameters.require("version")
        guard let version = try await registry.store.version(agentID: agent.id, version: number),
            Self.may(caller, see: version, of: agent)
        else {
            // Whether the agent exists is not told to who may see none of its versions.
            let visible = try await registry.store.versions(agentID: agent.id).contains {
                Self.may(caller, see: $0, of: agent)
            }
            throw visible
                ? RegistryError.versionNotFound(agent: agent.name, version: number)
                : RegistryError.agentNotFound(agent.name)
        }
        return (agent, version)
    }

    /// Drafts are the owner's; submitted and later versions are also the overseers'; published
    /// ones everyone's.
    static func may(_ caller: Principal, see version: StoredAgentVersion, of agent: StoredAgent) -> Bool {
        if agent.ownerID == caller.user.id { return true }
        switch version.state {
        case .draft: return false
        case .published: return true
        case .submitted, .changesRequested, .rejected, .withdrawn, .retired:
            return overseers.contains(where: caller.user.has)
        }
    }
}
