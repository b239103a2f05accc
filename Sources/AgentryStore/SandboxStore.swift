import AgentryIdentity
import Foundation

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

/// Personal Sandboxes. Every change is written with the audit messages that record it, in one
/// transaction.
public protocol SandboxStore: Sendable {
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
