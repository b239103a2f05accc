import AgentryIdentity
import Foundation

/// The policies IT writes as YAML, each kept as a series of revisions.
public enum PolicyName: String, CaseIterable, Sendable {
    /// What every personal Sandbox may use (docs/sandboxes.md).
    case sandbox
    /// The criteria submissions are checked against (docs/review.md).
    case approval
    /// The tools agents reach through the tool gateway (docs/tools.md).
    case tools
}

/// One revision of a policy as stored: the YAML the admin sent, never rewritten.
public struct StoredPolicyRevision: Sendable, Equatable {
    public let policy: PolicyName
    /// 1, 2, …: each change appends the next. Revision 0 is the policy in effect before any
    /// change (shipped or the installation's), never stored.
    public let revision: Int64
    /// The policy's YAML, as the admin sent it.
    public let yaml: String
    public let createdAt: Date
    /// The admin who set it.
    public let createdBy: String

    /// A stored revision.
    public init(policy: PolicyName, revision: Int64, yaml: String, createdAt: Date, createdBy: String) {
        self.policy = policy
        self.revision = revision
        self.yaml = yaml
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// Revisions of IT's policies, append-only (the database refuses to rewrite one). Every change is
/// written with the audit messages that record it, in one transaction.
public protocol PolicyStore: Sendable {
    /// The newest stored revision of `policy`; nil while revision 0 is in effect.
    func current(_ policy: PolicyName) async throws -> StoredPolicyRevision?
    /// Revision `revision` of `policy`, if stored.
    func revision(_ policy: PolicyName, _ revision: Int64) async throws -> StoredPolicyRevision?
    /// Stored revisions of `policy`, newest first: at most `limit`, older than `before` when given.
    func revisions(_ policy: PolicyName, before: Int64?, limit: Int) async throws -> [StoredPolicyRevision]
    /// Stores `revision` unless its number is taken (another admin changed the policy first):
    /// true when stored with `messages`, false when nothing was written.
    func append(_ revision: StoredPolicyRevision, recording messages: [ChangeMessage]) async throws -> Bool
}
