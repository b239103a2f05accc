import AgentryIdentity
import AgentryRegistry
import AgentryStore
import Foundation

/// The `RegistryStore` contract as executable cases; every backend must pass every case.
public enum RegistryConformance {
    /// All cases, in a stable order.
    public static let cases: [ConformanceCase] = [agentsAndVersions, submittedVersionsAreFrozen]

    private static let time = Date(timeIntervalSince1970: 1_790_000_000)

    static func version(_ agentID: String, _ number: String, sha: Character = "a") -> StoredAgentVersion {
        StoredAgentVersion(
            agentID: agentID, version: number, state: .draft, manifest: "name: x\nversion: \(number)",
            packageSHA256: String(repeating: sha, count: 64),
            files: [AgentPackage.File(path: "agent.yaml", size: 20, sha256: String(repeating: "b", count: 64))],
            createdAt: time, updatedAt: time)
    }

    static func agent(_ name: String, owner: String) -> StoredAgent {
        StoredAgent(
            id: "agn_\(name)", name: name, ownerID: owner, teamID: nil, state: .active, publishedVersion: nil,
            createdAt: time, updatedAt: time)
    }

    static let agentsAndVersions = ConformanceCase("agents, versions and packages round-trip; states compare-and-set") {
        backend in
        try await StoreFixture.withStore(backend) { backend in
            let owner = try IdentityFixtures.user("owner@example.com")
            try await backend.identity.insertUser(owner)
            let store = backend.registry
            let agent = Self.agent("notes", owner: owner.id)
            let first = version(agent.id, "0.1.0")
            try await ensure(
                try await store.createAgent(agent, version: first, package: [0, 1, 2, 255], recording: []), "create")
            try await ensure(
                !(try await store.createAgent(
                    Self.agent("notes", owner: owner.id), version: first, package: [], recording: [])),
                "a second agent with the name")
            try await ensure(try await store.agent(name: "notes") == agent, "agent by name")
            try await ensure(try await store.version(agentID: agent.id, version: "0.1.0") == first, "version")
            try await ensure(try await store.package(agentID: agent.id, version: "0.1.0") == [0, 1, 2, 255], "bytes")
            try await ensure(
                !(try await store.putVersion(first, package: [], replacingDraft: false, recording: [])),
                "a second 0.1.0")
            try await ensure(
                try await store.putVersion(
                    version(agent.id, "0.1.0", sha: "c"), package: [9], replacingDraft: true, recording: []),
                "replacing a draft")
            try await ensure(try await store.package(agentID: agent.id, version: "0.1.0") == [9], "replaced bytes")
            try await ensure(
                try await store.setState(
                    agentID: agent.id, version: "0.1.0", from: .draft, to: .submitted, at: time, recording: []),
                "submit")
            try await ensure(
                !(try await store.setState(
                    agentID: agent.id, version: "0.1.0", from: .draft, to: .submitted, at: time, recording: [])),
                "a second submit won")
            try await ensure(
                !(try await store.putVersion(
                    version(agent.id, "0.1.0"), package: [], replacingDraft: true, recording: [])),
                "a submitted version was replaced")
            try await ensure(
                try await store.agents(ownerID: owner.id, after: nil, limit: 5).map(\.name) == ["notes"], "listing")
            try await ensure(try await store.agents(ownerID: "usr_other", after: nil, limit: 5).isEmpty, "by owner")
        }
    }

    static let submittedVersionsAreFrozen = ConformanceCase("the database refuses to change a submitted version") {
        backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            let agentID = try await store.closing { store in
                _ = try await store.migrate()
                let owner = try IdentityFixtures.user("owner@example.com")
                try await store.identity.insertUser(owner)
                let agent = Self.agent("frozen", owner: owner.id)
                _ = try await store.registry.createAgent(
                    agent, version: version(agent.id, "1.0.0"), package: [1], recording: [])
                _ = try await store.registry.setState(
                    agentID: agent.id, version: "1.0.0", from: .draft, to: .submitted, at: time, recording: [])
                return agent.id
            }
            for sql in [
                "UPDATE agent_versions SET manifest = 'name: evil' WHERE agent_id = '\(agentID)'",
                "UPDATE agent_versions SET package_sha256 = '\(String(repeating: "f", count: 64))'",
                "UPDATE agent_versions SET state = 'teleported'",
            ] {
                _ = try await expectThrows { try await RawSQL.execute(sql, on: location) }
            }
            let kept = try await RawSQL.strings("SELECT manifest FROM agent_versions", on: location)
            try await ensure(kept == ["name: x\nversion: 1.0.0"], "a submitted version changed: \(kept)")
        }
    }
}
