import AgentryIdentity
import Foundation

/// One change of an agent's state (suspended, resumed, deprecated): who made it, when and why.
public struct AgentStateChange: Sendable, Equatable {
    public let agentID: String
    /// 1 for the agent's first change, then one more for each.
    public let sequence: Int64
    public let state: StoredAgent.State
    public let reason: String
    public let actorID: String
    public let changedAt: Date

    /// A change as stored.
    public init(
        agentID: String, sequence: Int64, state: StoredAgent.State, reason: String, actorID: String, changedAt: Date
    ) {
        self.agentID = agentID
        self.sequence = sequence
        self.state = state
        self.reason = reason
        self.actorID = actorID
        self.changedAt = changedAt
    }
}

/// A request to hand an agent to a new owner, and how a reviewer decided it.
public struct OwnershipTransfer: Sendable, Equatable {
    /// Open until a reviewer approves or rejects it or its requester withdraws it.
    public enum State: String, Sendable, CaseIterable {
        case open, approved, rejected, withdrawn
    }

    public let id: String
    public let agentID: String
    /// The owner when the request was made; the transfer takes effect only while they still are.
    public let fromOwnerID: String
    public let toOwnerID: String
    /// The owner or an admin.
    public let requestedBy: String
    public let reason: String
    public var state: State
    public var decidedBy: String?
    public var decisionReason: String?
    public let createdAt: Date
    public var decidedAt: Date?

    /// A transfer as stored.
    public init(
        id: String, agentID: String, fromOwnerID: String, toOwnerID: String, requestedBy: String, reason: String,
        state: State, decidedBy: String?, decisionReason: String?, createdAt: Date, decidedAt: Date?
    ) {
        self.id = id
        self.agentID = agentID
        self.fromOwnerID = fromOwnerID
        self.toOwnerID = toOwnerID
        self.requestedBy = requestedBy
        self.reason = reason
        self.state = state
        self.decidedBy = decidedBy
        self.decisionReason = decisionReason
        self.createdAt = createdAt
        self.decidedAt = decidedAt
    }
}

/// How a decided transfer ends, in the decision's transaction.
public struct TransferDecision: Sendable, Equatable {
    /// `approved`, `rejected` or `withdrawn`.
    public let state: OwnershipTransfer.State
    public let by: String
    public let reason: String
    /// The new owner's team, which the agent and its Catalog entry take on approval.
    public let teamID: String?

    /// A decision.
    public init(state: OwnershipTransfer.State, by: String, reason: String, teamID: String?) {
        precondition(state != .open, "a decision closes the transfer")
        self.state = state
        self.by = by
        self.reason = reason
        self.teamID = teamID
    }
}

/// An agent's stewardship: its state changes (append-only) and its ownership transfers.
public protocol StewardshipStore: Sendable {
    /// Sets the agent's state (and its Catalog entry's) from one of `from`, appending the change
    /// with its reason; nil (nothing written) when the agent's state is not in `from`.
    func setAgentState(
        agentID: String, from: [StoredAgent.State], to state: StoredAgent.State, reason: String, actor: String,
        at time: Date, recording messages: [ChangeMessage]
    ) async throws -> AgentStateChange?
    /// The agent's state changes, oldest first.
    func stateChanges(agentID: String) async throws -> [AgentStateChange]
    /// Stores an open request; false (nothing written) when the agent already has one open.
    func requestTransfer(_ transfer: OwnershipTransfer, recording messages: [ChangeMessage]) async throws -> Bool
    func transfer(id: String) async throws -> OwnershipTransfer?
    /// Transfers newest first, after the one with id `after` (a cursor): only those in `state`,
    /// and only those `userID` made, gives or receives, when given.
    func transfers(state: OwnershipTransfer.State?, involving userID: String?, after: String?, limit: Int)
        async throws -> [OwnershipTransfer]
    /// Closes an open transfer; on approval the agent and its Catalog entry change owner, but
    /// only while the requester's `fromOwnerID` still owns it. False (nothing written) otherwise.
    func decideTransfer(id: String, _ decision: TransferDecision, at time: Date, recording messages: [ChangeMessage])
        async throws -> Bool
}
