import AgentryAudit
import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation

/// Agents and their versions: pushes into the owner's Sandbox, with the rules of docs/agents.md
/// (one owner per agent, versions only go up, a submitted version never changes).
struct AgentRegistryService: Sendable {
    let store: any RegistryStore
    let recorder: AuditChangeRecorder
    let clock: @Sendable () -> Date

    /// What a push did.
    struct Pushed: Sendable {
        let agent: StoredAgent
        let version: StoredAgentVersion
        /// False when a draft of the same version was replaced.
        let isNew: Bool
    }

    /// Stores `bytes` (an agent package) as a draft version of the agent its manifest names,
    /// creating the agent when the name is new.
    func push(_ bytes: [UInt8], by user: User) async throws -> Pushed {
        let package = try AgentPackage(zip: bytes)
        let manifest = package.manifest
        if let declared = manifest.owner, declared.lowercased() != user.email.description.lowercased() {
            throw RegistryError.ownerMismatch(declared: declared, caller: user.email.description)
        }
        let time = clock()
        let version = StoredAgentVersion(
            agentID: "", version: manifest.version.description, state: .draft, manifest: package.manifestText,
            packageSHA256: package.sha256, files: package.files, createdAt: time, updatedAt: time)
        // Two tries: a first push of a new name may race another's.
        for _ in 0..<2 {
            if let agent = try await store.agent(name: manifest.name) {
                return try await pushVersion(version, package: bytes, of: agent, by: user, at: time)
            }
            let agent = StoredAgent(
                id: RandomText.identifier(prefix: "agn"), name: manifest.name, ownerID: user.id, teamID: user.teamID,
                state: .active, publishedVersion: nil, createdAt: time, updatedAt: time)
            let first = version.of(agent.id)
            let messages = try [
                message(.agentCreated, agent: agent.name, version: nil, by: user.id, outcome: "created", at: time),
                message(.agentPushed, agent: agent.name, version: first.version, by: user.id, outcome: "new", at: time),
            ]
            if try await store.createAgent(agent, version: first, package: bytes, recording: messages) {
                try await recorder.deliver(messages)
                return Pushed(agent: agent, version: first, isNew: true)
            }
        }
        throw RegistryError.conflict("the agent '\(manifest.name)'")
    }

    private func pushVersion(
        _ pushed: StoredAgentVersion, package: [UInt8], of agent: StoredAgent, by user: User, at time: Date
    ) async throws -> Pushed {
        guard agent.ownerID == user.id else { throw RegistryError.notOwner(agent: agent.name) }
        guard agent.state != .suspended else { throw RegistryError.suspended(agent.name) }
        let version = pushed.of(agent.id)
        let existing = try await store.versions(agentID: agent.id)
        if let same = existing.first(where: { $0.version == version.version }) {
            guard same.state.isMutable else {
                throw RegistryError.versionImmutable(agent: agent.name, version: same.version, state: same.state)
            }
            let message = try message(
                .agentPushed, agent: agent.name, version: version.version, by: user.id, outcome: "replaced", at: time)
            guard try await store.putVersion(version, package: package, replacingDraft: true, recording: [message])
            else {
                throw RegistryError.versionImmutable(agent: agent.name, version: version.version, state: .submitted)
            }
            try await recorder.deliver([message])
            return Pushed(agent: agent, version: version, isNew: false)
        }
        if let highest = existing.compactMap({ SemanticVersion($0.version) }).max(),
            let new = SemanticVersion(version.version), new <= highest
        {
            throw RegistryError.versionNotNewer(
                agent: agent.name, version: version.version, highest: highest.description)
        }
        let message = try message(
            .agentPushed, agent: agent.name, version: version.version, by: user.id, outcome: "new", at: time)
        guard try await store.putVersion(version, package: package, replacingDraft: false, recording: [message]) else {
            throw RegistryError.conflict("\(agent.name) \(version.version)")
        }
        try await recorder.deliver([message])
        return Pushed(agent: agent, version: version, isNew: true)
    }

    /// The outbox message of a registry event.
    func message(
        _ kind: AuditEventKind, agent: String, version: String?, by actor: String, outcome: String, at time: Date
    ) throws -> ChangeMessage {
        try recorder.message(
            for: AuditEvent(
                time: StoredTime.milliseconds(time), kind: kind, actor: actor, subject: agent, agent: agent,
                agentVersion: version, outcome: outcome),
            at: time)
    }
}

extension StoredAgentVersion {
    /// This version, belonging to agent `agentID`.
    func of(_ agentID: String) -> StoredAgentVersion {
        StoredAgentVersion(
            agentID: agentID, version: version, state: state, manifest: manifest, packageSHA256: packageSHA256,
            files: files, createdAt: createdAt, updatedAt: updatedAt)
    }
}
