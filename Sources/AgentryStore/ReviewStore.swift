import AgentryIdentity
import AgentryPolicy
import AgentryRegistry
import Foundation

/// A submission as stored: one version put up for review, with the checklist the approval
/// criteria produced and, once approved, what was granted.
public struct StoredSubmission: Sendable, Equatable {
    public let id: String
    public let agentID: String
    public let version: String
    /// The version published when it was submitted: what the delta is taken against.
    public let baseVersion: String?
    public let submittedBy: String
    /// The builder's answer to "what is it for".
    public let purpose: String
    public let checklist: [Checklist.Item]
    /// The approval policy revision the checklist was made with.
    public let policyRevision: Int64
    /// How many distinct reviewers must approve.
    public let approvalsRequired: Int
    public var state: SubmissionState
    public var grants: Grants?
    public let createdAt: Date
    public var decidedAt: Date?

    /// A stored submission.
    public init(
        id: String, agentID: String, version: String, baseVersion: String?, submittedBy: String, purpose: String,
        checklist: [Checklist.Item], policyRevision: Int64, approvalsRequired: Int, state: SubmissionState,
        grants: Grants?, createdAt: Date, decidedAt: Date?
    ) {
        self.id = id
        self.agentID = agentID
        self.version = version
        self.baseVersion = baseVersion
        self.submittedBy = submittedBy
        self.purpose = purpose
        self.checklist = checklist
        self.policyRevision = policyRevision
        self.approvalsRequired = approvalsRequired
        self.state = state
        self.grants = grants
        self.createdAt = createdAt
        self.decidedAt = decidedAt
    }
}

/// One entry of a submission's thread: a comment, a reviewer's decision or the owner's withdrawal.
public struct StoredReviewEvent: Sendable, Equatable {
    /// What the entry is.
    public enum Kind: String, CaseIterable, Sendable {
        case comment
        case approve
        case reject
        case requestChanges = "request_changes"
        case withdraw
        /// The approval criteria approved it (no reviewer).
        case autoApprove = "auto_approve"
    }

    public let submissionID: String
    /// 1, 2, … within the submission.
    public let sequence: Int64
    public let authorID: String
    public let kind: Kind
    /// The comment or the reason: every decision carries one.
    public let body: String
    /// What an approval granted (approvals only).
    public let grants: Grants?
    public let createdAt: Date

    /// A stored entry.
    public init(
        submissionID: String, sequence: Int64, authorID: String, kind: Kind, body: String, grants: Grants? = nil,
        createdAt: Date
    ) {
        self.grants = grants
        self.submissionID = submissionID
        self.sequence = sequence
        self.authorID = authorID
        self.kind = kind
        self.body = body
        self.createdAt = createdAt
    }
}

/// How a decided submission changes its version and agent, in the decision's transaction.
public struct SubmissionOutcome: Sendable, Equatable {
    /// The submission's new state.
    public let state: SubmissionState
    /// The version's new state (from `submitted`).
    public let versionState: AgentVersionState
    /// What was granted (approvals only).
    public let grants: Grants?
    /// The Catalog entry the publication writes (approvals only).
    public let catalogEntry: CatalogEntry?

    /// An outcome.
    public init(
        state: SubmissionState, versionState: AgentVersionState, grants: Grants?, catalogEntry: CatalogEntry? = nil
    ) {
        self.state = state
        self.versionState = versionState
        self.grants = grants
        self.catalogEntry = catalogEntry
    }
}

/// Submissions and their threads. Decisions are compare-and-set on the submission (open) and the
/// version (submitted), so two reviewers cannot both decide; publishing retires the version
/// that served before, in the same transaction.
public protocol ReviewStore: Sendable {
    /// Moves the version from draft to submitted and stores `submission`: false (nothing written)
    /// when the version is no longer a draft.
    func submit(_ submission: StoredSubmission, recording messages: [ChangeMessage]) async throws -> Bool
    func submission(id: String) async throws -> StoredSubmission?
    /// Submissions newest first, after the one with id `after` (a cursor): only those in `state`
    /// and by `submittedBy` when given.
    func submissions(state: SubmissionState?, submittedBy: String?, after: String?, limit: Int) async throws
        -> [StoredSubmission]
    /// The submissions of one agent, oldest first.
    func submissions(agentID: String) async throws -> [StoredSubmission]
    /// The thread, oldest first.
    func events(submissionID: String) async throws -> [StoredReviewEvent]
    /// Appends an entry to the thread (its sequence is the next one), with what an approval
    /// grants; nil when the submission does not exist.
    func append(
        submissionID: String, authorID: String, kind: StoredReviewEvent.Kind, body: String, grants: Grants?,
        at time: Date, recording messages: [ChangeMessage]
    ) async throws -> StoredReviewEvent?
    /// Decides an open submission: its state and grants, its version's state, and on approval the
    /// agent's published version (the one before retired). False when it is no longer open.
    func decide(
        submissionID: String, outcome: SubmissionOutcome, at time: Date, recording messages: [ChangeMessage]
    ) async throws -> Bool
}

extension ReviewStore {
    /// Appends an entry that grants nothing (a comment, a rejection, a withdrawal).
    public func append(
        submissionID: String, authorID: String, kind: StoredReviewEvent.Kind, body: String, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> StoredReviewEvent? {
        try await append(
            submissionID: submissionID, authorID: authorID, kind: kind, body: body, grants: nil, at: time,
            recording: messages)
    }
}
