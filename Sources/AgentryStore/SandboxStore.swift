import AgentryIdentity
import Foundation

/// One revision of IT's Sandbox policy as stored: the YAML the admin sent, never rewritten.
public struct StoredSandboxPolicy: Sendable, Equatable {
    /// 1, 2, …: each change appends the next. Revision 0 is the shipped policy, never stored.
    public let revision: Int64
    /// The policy's YAML, as the admin sent it.
    public let yaml: String
    public let createdAt: Date
    /// The admin who set it.
    public let createdBy: String

    /// A stored revision.
    public init(revision: Int64, yaml: String, createdAt: Date, createdBy: String) {
        self.revision = revision
        self.yaml = yaml
        self.createdAt = createdAt
        self.createdBy = createdBy
    }
}

/// A user's personal Sandbox as stored.
public struct StoredSandbox: Sendable, Equatable {
    /// The owner: each user has one Sandbox, named by the user's id.
    public let userID: String
    public let createdAt: Date
    /// The policy revision whose default caps the Sandbox's caps follow; nil until they are set.
    public let capsRevision: Int64?

    /// A stored Sandbox.
    public init(userID: String, createdAt: Date, capsRevision: Int64?) {
        self.userID = userID
        self.createdAt = createdAt
        self.capsRevision = capsRevision
    }
}

/// Sandbox policy revisions and personal Sandboxes. Every change is written with the audit
/// messages that record it, in one transaction.
public protocol SandboxStore: Sendable {
    /// The newest stored revision; nil while the shipped policy is in effect.
    func currentPolicy() async throws -> StoredSandboxPolicy?
    /// Revision `revision`, if stored.
    func policy(revision: Int64) async throws -> StoredSandboxPolicy?
    /// Stored revisions, newest first: at most `limit`, older than `before` when given.
    func policies(before: Int64?, limit: Int) async throws -> [StoredSandboxPolicy]
    /// Stores `policy` unless its revision is taken (another admin changed the policy first):
    /// true when stored with `messages`, false when nothing was written.
    func appendPolicy(_ policy: StoredSandboxPolicy, recording messages: [ChangeMessage]) async throws -> Bool
    /// The Sandbox of user `userID`, if it exists.
    func sandbox(userID: String) async throws -> StoredSandbox?
    /// Creates `sandbox` with `messages` unless the user has one; answers the stored one and
    /// whether it was created now.
    func createSandbox(_ sandbox: StoredSandbox, recording messages: [ChangeMessage]) async throws
        -> (sandbox: StoredSandbox, created: Bool)
    /// Records that the caps of the Sandboxes of `userIDs` follow revision `revision`, unless they
    /// already follow a newer one (revisions only move forward).
    func setCapsRevision(_ revision: Int64, userIDs: [String]) async throws
    /// Sandboxes whose caps follow a revision older than `revision`, or none yet: at most `limit`,
    /// by user id.
    func sandboxes(capsRevisionBelow revision: Int64, limit: Int) async throws -> [StoredSandbox]
}
