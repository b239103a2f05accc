import AgentryIdentity
import AgentryRegistry
import Foundation

/// An agent as stored: what the registry manages about it (never what the builder declared,
/// which lives in each version's manifest).
public struct StoredAgent: Sendable, Equatable {
    /// The kill switch and deprecation, set by admins and owners.
    public enum State: String, CaseIterable, Sendable {
        case active
        /// No new runs, tokens revoked (admins' kill switch).
        case suspended
        /// Still runs, but its owner asks people to move on.
        case deprecated
    }

    public let id: String
    /// The manifest's `name`, unique in the registry.
    public let name: String
    /// The user who created it: the only one who may push its versions.
    public let ownerID: String
    /// The owner's team when the agent was created.
    public let teamID: String?
    public var state: State
    /// The version serving in the Catalog, if any.
    public var publishedVersion: String?
    public let createdAt: Date
    public var updatedAt: Date

    /// A stored agent.
    public init(
        id: String, name: String, ownerID: String, teamID: String?, state: State, publishedVersion: String?,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.ownerID = ownerID
        self.teamID = teamID
        self.state = state
        self.publishedVersion = publishedVersion
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One version of an agent as stored, without its package bytes.
public struct StoredAgentVersion: Sendable, Equatable {
    public let agentID: String
    /// The exact semantic version.
    public let version: String
    public var state: AgentVersionState
    /// `agent.yaml` as uploaded.
    public let manifest: String
    /// SHA-256 of the package, lowercase hex.
    public let packageSHA256: String
    /// The package's files with their sizes and hashes.
    public let files: [AgentPackage.File]
    public let createdAt: Date
    public var updatedAt: Date

    /// A stored version.
    public init(
        agentID: String, version: String, state: AgentVersionState, manifest: String, packageSHA256: String,
        files: [AgentPackage.File], createdAt: Date, updatedAt: Date
    ) {
        self.agentID = agentID
        self.version = version
        self.state = state
        self.manifest = manifest
        self.packageSHA256 = packageSHA256
        self.files = files
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Agents, their versions and packages. Every change is written with the audit messages that
/// record it, in one transaction; state changes are compare-and-set, so concurrent decisions
/// cannot both win.
public protocol RegistryStore: Sendable {
    /// The agent with `name`.
    func agent(name: String) async throws -> StoredAgent?
    /// The agent with `id`.
    func agent(id: String) async throws -> StoredAgent?
    /// Agents by name after `after`, at most `limit`; only `ownerID`'s when given.
    func agents(ownerID: String?, after: String?, limit: Int) async throws -> [StoredAgent]
    /// Creates `agent` with its first version and package; false when the name is taken.
    func createAgent(
        _ agent: StoredAgent, version: StoredAgentVersion, package: [UInt8], recording messages: [ChangeMessage]
    ) async throws -> Bool
    /// Every version of agent `agentID`, oldest first.
    func versions(agentID: String) async throws -> [StoredAgentVersion]
    /// Version `version` of agent `agentID`.
    func version(agentID: String, version: String) async throws -> StoredAgentVersion?
    /// The package of a version.
    func package(agentID: String, version: String) async throws -> [UInt8]?
    /// Adds `version` (new) or, when `replacingDraft`, replaces it while it is still a draft:
    /// false when the version exists (new) or is no longer a draft (replacing).
    func putVersion(
        _ version: StoredAgentVersion, package: [UInt8], replacingDraft: Bool, recording messages: [ChangeMessage]
    ) async throws -> Bool
    /// Moves a version from state `from` to `to`: false (nothing written) when it is not in `from`.
    func setState(
        agentID: String, version: String, from: AgentVersionState, to: AgentVersionState, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> Bool
}
