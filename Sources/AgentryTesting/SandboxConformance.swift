import AgentryIdentity
import AgentryStore
import Foundation

/// The `PolicyStore` and `SandboxStore` contracts as executable cases; every backend must pass every case.
public enum SandboxConformance {
    /// All cases, in a stable order.
    public static let cases: [ConformanceCase] = [policyRevisions, revisionsAreAppendOnly, sandboxesOncePerUser]

    private static let time = Date(timeIntervalSince1970: 1_790_000_000)

    static func revision(_ number: Int64, _ yaml: String, policy: PolicyName = .sandbox) -> StoredPolicyRevision {
        StoredPolicyRevision(policy: policy, revision: number, yaml: yaml, createdAt: time, createdBy: "usr_a")
    }

    static let policyRevisions = ConformanceCase("policy revisions append in order; a taken one is refused") {
        backend in
        try await StoreFixture.withStore(backend) { backend in
            let store = backend.policies
            try await ensure(try await store.current(.sandbox) == nil, "a new store has no stored revision")
            let first = revision(1, "models: [a]")
            try await ensure(try await store.append(first, recording: []), "revision 1 was refused")
            let rival = revision(1, "models: [b]")
            try await ensure(!(try await store.append(rival, recording: [])), "a second revision 1 was stored")
            let second = revision(2, "models: [c]")
            try await ensure(try await store.append(second, recording: []), "revision 2 was refused")
            try await ensure(try await store.current(.sandbox) == second, "the newest revision is not current")
            try await ensure(try await store.revision(.sandbox, 1) == first, "revision 1 changed")
            try await ensure(
                try await store.revisions(.sandbox, before: nil, limit: 5).map(\.revision) == [2, 1],
                "revisions not newest first")
            try await ensure(try await store.revisions(.sandbox, before: 2, limit: 5) == [first], "paging before 2")
            let approval = revision(1, "rules: []", policy: .approval)
            try await ensure(try await store.append(approval, recording: []), "each policy counts its own revisions")
            try await ensure(try await store.current(.approval) == approval, "the approval policy's newest")
            try await ensure(try await store.current(.sandbox) == second, "policies do not mix")
            let zero = revision(0, "x")
            _ = try await expectThrows { _ = try await store.append(zero, recording: []) }
        }
    }

    static let revisionsAreAppendOnly = ConformanceCase("the database refuses to rewrite policy revisions") { backend in
        try await StoreFixture.withLocation(backend) { location in
            let store = try await StoreFixture.open(location)
            try await store.closing { store in
                _ = try await store.migrate()
                _ = try await store.policies.append(revision(1, "models: [a]"), recording: [])
            }
            for sql in ["UPDATE policy_revisions SET yaml = 'models: [\"*\"]'", "DELETE FROM policy_revisions"]
                + (backend == .postgres ? ["TRUNCATE policy_revisions"] : [])
            {
                _ = try await expectThrows { try await RawSQL.execute(sql, on: location) }
            }
            let kept = try await RawSQL.strings("SELECT yaml FROM policy_revisions", on: location)
            try await ensure(kept == ["models: [a]"], "a revision was rewritten: \(kept)")
        }
    }

    static let sandboxesOncePerUser = ConformanceCase("one Sandbox per user; caps revisions only move forward") {
        backend in
        try await StoreFixture.withStore(backend) { backend in
            let users = try ["a@example.com", "b@example.com"].map { try IdentityFixtures.user($0) }
            for user in users { try await backend.identity.insertUser(user) }
            let store = backend.sandboxes
            let fresh = StoredSandbox(userID: users[0].id, createdAt: time, capsRevision: nil)
            let (made, created) = try await store.createSandbox(fresh, recording: [])
            try await ensure(created && made == fresh, "the first Sandbox was not created")
            let later = StoredSandbox(userID: users[0].id, createdAt: time.addingTimeInterval(60), capsRevision: 3)
            let (again, createdAgain) = try await store.createSandbox(later, recording: [])
            try await ensure(!createdAgain && again == fresh, "a second Sandbox replaced the first: \(again)")
            _ = try await store.createSandbox(
                StoredSandbox(userID: users[1].id, createdAt: time, capsRevision: 2), recording: [])
            let stranger = StoredSandbox(userID: "usr_nobody", createdAt: time, capsRevision: nil)
            _ = try await expectThrows { _ = try await store.createSandbox(stranger, recording: []) }
            try await ensure(
                try await store.sandboxes(capsRevisionBelow: 2, limit: 10).map(\.userID) == [users[0].id],
                "only the Sandbox without caps is behind revision 2")
            try await store.setCapsRevision(5, userIDs: users.map(\.id))
            try await store.setCapsRevision(4, userIDs: users.map(\.id))
            for user in users {
                try await ensure(
                    try await store.sandbox(userID: user.id)?.capsRevision == 5, "a caps revision moved backwards")
            }
            try await ensure(
                try await store.sandboxes(capsRevisionBelow: 6, limit: 1).map(\.userID) == [users.map(\.id).min()!],
                "the limit and the order by user id")
        }
    }
}
