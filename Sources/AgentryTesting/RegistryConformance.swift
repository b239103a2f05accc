import AgentryIdentity
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation

/// The `RegistryStore` contract as executable cases; every backend must pass every case.
public enum RegistryConformance {
    /// All cases, in a stable order.
    public static let cases: [ConformanceCase] = [
        agentsAndVersions, submittedVersionsAreFrozen, concurrentDecisions, onePublishedVersion, catalogRevisions,
        stateChangesAndTransfers,
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

    /// The entry `agent` publishes at 1.0.0, with `words` in its description.
    static func entry(_ agent: StoredAgent, _ words: String) -> CatalogEntry {
        CatalogEntry(
            agentID: agent.id, name: agent.name, title: "T", description: words, department: "Finance", tags: [],
            skills: [], tools: ["slack"], models: ["m"], ownerID: agent.ownerID, teamID: nil, version: "1.0.0",
            kind: "declarative", dataClassification: "internal", state: .active, publishedAt: time)
    }

    static let catalogRevisions = ConformanceCase(
        "every Catalog write takes the next revision, in commit order; a second instance's search sees it next"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let first = try await StoreFixture.open(location)
            let second = try await StoreFixture.open(location)
            try await first.closing { first in
                try await second.closing { second in
                    _ = try await first.migrate()
                    let owner = try IdentityFixtures.user("owner@example.com")
                    try await first.identity.insertUser(owner)
                    let elsewhere = CatalogSearch(store: second.catalog)
                    try await ensure(try await elsewhere.search(CatalogQuery(text: nil)).total == 0, "empty at first")
                    var agents: [StoredAgent] = []
                    for index in 0..<8 {
                        let agent = Self.agent("agent-\(index)", owner: owner.id)
                        _ = try await first.registry.createAgent(
                            agent, version: version(agent.id, "1.0.0"), package: [1], recording: [])
                        _ = try await first.reviews.submit(
                            submission("sub_\(index)", agentID: agent.id, version: "1.0.0", by: owner.id), recording: []
                        )
                        agents.append(agent)
                    }
                    // Eight publications at once: each takes its own revision.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for (index, agent) in agents.enumerated() {
                            group.addTask {
                                let outcome = SubmissionOutcome(
                                    state: .approved, versionState: .published, grants: approval.grants,
                                    catalogEntry: entry(agent, "ledger reconciler number\(index)"))
                                _ = try await first.reviews.decide(
                                    submissionID: "sub_\(index)", outcome: outcome, at: time, recording: [])
                            }
                        }
                        try await group.waitForAll()
                    }
                    try await ensure(try await second.catalog.revision() == 8, "eight writes, revision 8")
                    let all = try await second.catalog.changes(after: -1)
                    try await ensure(all.revision == 8 && all.entries.count == 8, "all changes: \(all.entries.count)")
                    try await ensure(try await second.catalog.changes(after: 8).entries.isEmpty, "nothing after 8")
                    let found = try await elsewhere.search(CatalogQuery(text: "ledger recon"))
                    try await ensure(found.total == 8, "the second instance finds all eight: \(found.total)")
                    try await ensure(
                        found.departments == [FacetCount(value: "Finance", count: 8)]
                            && found.tools == [FacetCount(value: "slack", count: 8)], "facets \(found)")
                    // A suspension on the first instance is in the second's very next search.
                    _ = try await first.stewardship.setAgentState(
                        agentID: agents[3].id, from: [.active], to: .suspended, reason: "leaks", actor: owner.id,
                        at: time, recording: [])
                    try await ensure(try await first.catalog.revision() == 9, "the suspension is revision 9")
                    let after = try await elsewhere.search(CatalogQuery(text: "number3"))
                    try await ensure(after.total == 0, "a suspended agent is still found elsewhere")
                    var admin = CatalogQuery(text: "number3")
                    admin.includeSuspended = true
                    try await ensure(
                        try await elsewhere.search(admin).entries.map(\.state) == [.suspended],
                        "admins see it suspended")
                    // A write behind the application's back still takes a revision (a trigger).
                    try await RawSQL.execute(
                        "UPDATE catalog_entries SET description = 'payroll' WHERE agent_id = '\(agents[0].id)'",
                        on: location)
                    try await ensure(
                        try await elsewhere.search(CatalogQuery(text: "payroll")).entries.map(\.name) == ["agent-0"],
                        "a raw write is seen")
                    try await ensure(
                        try await elsewhere.search(CatalogQuery(text: "ledger")).total == 6, "its old words are gone")
                }
            }
        }
    }

    static func transfer(_ id: String, _ agent: StoredAgent, to: String) -> OwnershipTransfer {
        OwnershipTransfer(
            id: id, agentID: agent.id, fromOwnerID: agent.ownerID, toOwnerID: to, requestedBy: agent.ownerID,
            reason: "moving on", state: .open, decidedBy: nil, decisionReason: nil, createdAt: time, decidedAt: nil)
    }

    static let stateChangesAndTransfers = ConformanceCase(
        "state changes compare-and-set and append-only; one open transfer an agent; approval moves the owner only from the asker"
    ) { backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            try await store.closing { store in
                _ = try await store.migrate()
                let (agent, owner) = try await seeded(store, agent: "steward")
                let heir = try IdentityFixtures.user("heir@example.com")
                try await store.identity.insertUser(heir)
                let stewardship = store.stewardship
                try await ensure(
                    try await stewardship.setAgentState(
                        agentID: agent.id, from: [.active], to: .suspended, reason: "leak", actor: owner.id, at: time,
                        recording: [])?.sequence == 1, "suspend")
                try await ensure(
                    try await stewardship.setAgentState(
                        agentID: agent.id, from: [.active], to: .suspended, reason: "again", actor: owner.id, at: time,
                        recording: []) == nil, "a second suspension from active")
                let resumed = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            try await stewardship.setAgentState(
                                agentID: agent.id, from: [.suspended], to: .active, reason: "fixed \(index)",
                                actor: owner.id, at: time, recording: []) != nil
                        }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                try await ensure(resumed == 1, "\(resumed) of ten concurrent resumptions took effect")
                let changes = try await stewardship.stateChanges(agentID: agent.id)
                try await ensure(
                    changes.map(\.sequence) == [1, 2] && changes.map(\.state) == [.suspended, .active]
                        && changes[0].reason == "leak", "changes: \(changes)")
                for sql in ["DELETE FROM agent_state_changes", "UPDATE agent_state_changes SET reason = 'nothing'"] {
                    _ = try await expectThrows { try await RawSQL.execute(sql, on: location) }
                }

                try await ensure(
                    try await stewardship.requestTransfer(transfer("trf_1", agent, to: heir.id), recording: []),
                    "request")
                try await ensure(
                    !(try await stewardship.requestTransfer(transfer("trf_2", agent, to: heir.id), recording: [])),
                    "a second open request")
                try await ensure(
                    try await stewardship.transfer(id: "trf_1") == transfer("trf_1", agent, to: heir.id), "round trip")
                try await ensure(
                    try await stewardship.transfers(state: .open, involving: heir.id, after: nil, limit: 10).map(\.id)
                        == ["trf_1"], "the recipient's list")
                try await ensure(
                    try await stewardship.transfers(state: .approved, involving: nil, after: nil, limit: 10).isEmpty,
                    "none approved")
                let approve = TransferDecision(state: .approved, by: heir.id, reason: "ok", teamID: nil)
                // The owner changed behind the request's back: the approval takes nothing.
                try await RawSQL.execute(
                    "UPDATE agents SET owner_id = '\(heir.id)' WHERE id = '\(agent.id)'", on: location)
                try await ensure(
                    !(try await stewardship.decideTransfer(id: "trf_1", approve, at: time, recording: [])),
                    "an approval from a former owner")
                try await ensure(try await stewardship.transfer(id: "trf_1")?.state == .open, "still open")
                try await RawSQL.execute(
                    "UPDATE agents SET owner_id = '\(owner.id)' WHERE id = '\(agent.id)'", on: location)
                let decided = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<10 {
                        group.addTask {
                            try await stewardship.decideTransfer(id: "trf_1", approve, at: time, recording: [])
                        }
                    }
                    return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                try await ensure(decided == 1, "\(decided) of ten concurrent decisions took effect")
                try await ensure(try await store.registry.agent(id: agent.id)?.ownerID == heir.id, "the new owner")
                let closed = try await stewardship.transfer(id: "trf_1")
                try await ensure(
                    closed?.state == .approved && closed?.decidedBy == heir.id && closed?.decisionReason == "ok"
                        && closed?.decidedAt == time, "closed: \(String(describing: closed))")
                // The agent is free for another request once none is open.
                let next = OwnershipTransfer(
                    id: "trf_3", agentID: agent.id, fromOwnerID: heir.id, toOwnerID: owner.id, requestedBy: heir.id,
                    reason: "back", state: .open, decidedBy: nil, decisionReason: nil, createdAt: time + 1,
                    decidedAt: nil)
                try await ensure(try await stewardship.requestTransfer(next, recording: []), "a new request")
                let page = try await stewardship.transfers(state: nil, involving: nil, after: "trf_3", limit: 10)
                try await ensure(page.map(\.id) == ["trf_1"], "after the cursor: \(page.map(\.id))")
            }
        }
    }
}
