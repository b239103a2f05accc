import AgentryIdentity
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation

/// The `RegistryStore` contract as executable cases; every backend must pass every case.
public enum RegistryConformance {
    /// All cases, in a stable order.
    public static let cases: [ConformanceCase] = [
        agentsAndVersions, submittedVersionsAreFrozen, concurrentDecisions, onePublishedVersion,
    ]

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

    /// A new owner in `store` with agent `name` and its draft 1.0.0.
    static func seeded(_ store: any StoreBackend, agent name: String) async throws -> (StoredAgent, User) {
        let owner = try IdentityFixtures.user("owner@example.com")
        try await store.identity.insertUser(owner)
        let agent = Self.agent(name, owner: owner.id)
        _ = try await store.registry.createAgent(
            agent, version: version(agent.id, "1.0.0"), package: [1], recording: [])
        return (agent, owner)
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
                let (agent, _) = try await seeded(store, agent: "frozen")
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

    static func submission(_ id: String, agentID: String, version: String, by user: String) -> StoredSubmission {
        StoredSubmission(
            id: id, agentID: agentID, version: version, baseVersion: nil, submittedBy: user, purpose: "p",
            checklist: [],
            policyRevision: 0, approvalsRequired: 1, state: .open, grants: nil, createdAt: time, decidedAt: nil)
    }

    static let approval = SubmissionOutcome(
        state: .approved, versionState: .published,
        grants: Grants(models: ["m"], tools: [:], runCap: 1, dayCap: nil, monthCap: nil))

    static let concurrentDecisions = ConformanceCase("of twenty concurrent decisions exactly one takes effect") {
        backend in
        try await StoreFixture.withStore(backend) { backend in
            let (agent, owner) = try await seeded(backend, agent: "race")
            let store = backend.reviews
            try await ensure(
                try await store.submit(
                    submission("sub_race", agentID: agent.id, version: "1.0.0", by: owner.id), recording: []),
                "submit")
            try await ensure(
                !(try await store.submit(
                    submission("sub_again", agentID: agent.id, version: "1.0.0", by: owner.id), recording: [])),
                "a submitted version was submitted again")
            let outcomes: [SubmissionOutcome] = (0..<20).map { index in
                index.isMultiple(of: 2)
                    ? approval : SubmissionOutcome(state: .rejected, versionState: .rejected, grants: nil)
            }
            let won = try await withThrowingTaskGroup(of: Bool.self) { group in
                for outcome in outcomes {
                    group.addTask {
                        try await store.decide(submissionID: "sub_race", outcome: outcome, at: time, recording: [])
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            try await ensure(won == 1, "\(won) decisions took effect")
            let decided = try await store.submission(id: "sub_race")
            let version = try await backend.registry.version(agentID: agent.id, version: "1.0.0")
            try await ensure(
                (decided?.state == .approved && version?.state == .published)
                    || (decided?.state == .rejected && version?.state == .rejected),
                "the submission and its version disagree: \(String(describing: decided?.state)) \(String(describing: version?.state))"
            )
            let events = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await store.append(
                            submissionID: "sub_race", authorID: owner.id, kind: .comment, body: "\(index)", at: time,
                            recording: [])?.sequence ?? 0
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            try await ensure(events.sorted() == Array(1...20), "thread sequences collided: \(events.sorted())")
        }
    }

    static let onePublishedVersion = ConformanceCase("publishing retires the version before; never two published") {
        backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            let agentID = try await store.closing { store in
                _ = try await store.migrate()
                let (agent, owner) = try await seeded(store, agent: "serial")
                _ = try await store.registry.putVersion(
                    version(agent.id, "2.0.0"), package: [2], replacingDraft: false, recording: [])
                for (id, number) in [("sub_1", "1.0.0"), ("sub_2", "2.0.0")] {
                    _ = try await store.reviews.submit(
                        submission(id, agentID: agent.id, version: number, by: owner.id), recording: [])
                    _ = try await store.reviews.append(
                        submissionID: id, authorID: owner.id, kind: .approve, body: "ok", at: time, recording: [])
                    _ = try await store.reviews.decide(submissionID: id, outcome: approval, at: time, recording: [])
                }
                let states = try await store.registry.versions(agentID: agent.id).map(\.state)
                try await ensure(states == [.retired, .published], "states after two approvals: \(states)")
                try await ensure(
                    try await store.registry.agent(id: agent.id)?.publishedVersion == "2.0.0", "the agent's version")
                return agent.id
            }
            _ = try await expectThrows {
                try await RawSQL.execute(
                    "UPDATE agent_versions SET state = 'published' WHERE agent_id = '\(agentID)' AND version = '1.0.0'",
                    on: location)
            }
            for sql in ["DELETE FROM review_events", "UPDATE review_events SET body = 'rewritten'"] {
                _ = try await expectThrows { try await RawSQL.execute(sql, on: location) }
            }
        }
    }
}
