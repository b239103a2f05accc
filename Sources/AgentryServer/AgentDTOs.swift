import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation

/// An agent as the API shows it: what the registry manages about it.
struct AgentView: Encodable, Sendable {
    let id: String
    let name: String
    let ownerId: String
    let teamId: String?
    let state: String
    let publishedVersion: String?
    let createdAt: Date
    let updatedAt: Date
    /// The change that set the state, where the caller has just made one.
    let stateChange: AgentStateChangeView?

    init(_ agent: StoredAgent, stateChange: AgentStateChange? = nil) {
        id = agent.id
        name = agent.name
        ownerId = agent.ownerID
        teamId = agent.teamID
        state = agent.state.rawValue
        publishedVersion = agent.publishedVersion
        createdAt = agent.createdAt
        updatedAt = agent.updatedAt
        self.stateChange = stateChange.map(AgentStateChangeView.init)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, state
        case ownerId = "owner_id"
        case teamId = "team_id"
        case publishedVersion = "published_version"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case stateChange = "state_change"
    }

    /// Writes `team_id` and `published_version` as explicit nulls.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(ownerId, forKey: .ownerId)
        try container.encode(teamId, forKey: .teamId)
        try container.encode(state, forKey: .state)
        try container.encode(publishedVersion, forKey: .publishedVersion)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(stateChange, forKey: .stateChange)
    }
}

/// One change of an agent's state: to what, why, by whom and when.
struct AgentStateChangeView: Encodable, Sendable {
    let sequence: Int64
    let state: String
    let reason: String
    let actorId: String
    let changedAt: Date

    init(_ change: AgentStateChange) {
        sequence = change.sequence
        state = change.state.rawValue
        reason = change.reason
        actorId = change.actorID
        changedAt = change.changedAt
    }

    enum CodingKeys: String, CodingKey {
        case sequence, state, reason
        case actorId = "actor_id"
        case changedAt = "changed_at"
    }

    /// The agent's changes `user` may read: all of them for its owner, reviewers, admins and
    /// auditors; for anyone else only deprecations (why a suspension happened stays with those
    /// who govern it).
    static func visible(_ store: any StewardshipStore, agentID: String, owner: String, to user: User) async throws
        -> [AgentStateChangeView]
    {
        let everything = user.id == owner || [Role.reviewer, .admin, .auditor].contains(where: user.has)
        return try await store.stateChanges(agentID: agentID).filter { everything || $0.state == .deprecated }
            .map(AgentStateChangeView.init)
    }
}

/// An agent with the versions the caller may see.
struct AgentDetailView: Encodable, Sendable {
    let agent: AgentView
    let versions: [AgentVersionView]
    /// Every suspension, resumption and deprecation, oldest first.
    let stateChanges: [AgentStateChangeView]

    enum CodingKeys: String, CodingKey {
        case agent, versions
        case stateChanges = "state_changes"
    }
}

/// One version: its state, package hash and files, and (in detail) the manifest as uploaded.
struct AgentVersionView: Encodable, Sendable {
    let agent: String
    let version: String
    let state: String
    let packageSha256: String
    let files: [AgentPackage.File]
    let createdAt: Date
    let updatedAt: Date
    /// `agent.yaml` as uploaded; only in a version's own view.
    let manifest: String?

    init(_ version: StoredAgentVersion, agent: StoredAgent, manifest: Bool = false) {
        self.agent = agent.name
        self.version = version.version
        state = version.state.rawValue
        packageSha256 = version.packageSHA256
        files = version.files
        createdAt = version.createdAt
        updatedAt = version.updatedAt
        self.manifest = manifest ? version.manifest : nil
    }

    enum CodingKeys: String, CodingKey {
        case agent, version, state, files, manifest
        case packageSha256 = "package_sha256"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}
