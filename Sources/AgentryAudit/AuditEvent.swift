import Crypto

/// What happened, as recorded in one leaf of the audit log.
public enum AuditEventKind: String, CaseIterable, Sendable, Codable {
    case userCreated = "user.created"
    case userUpdated = "user.updated"
    case teamCreated = "team.created"
    case teamUpdated = "team.updated"
    case tokenCreated = "token.created"
    case tokenRevoked = "token.revoked"
    case userSignedIn = "user.signed_in"
    case agentCreated = "agent.created"
    case agentSubmitted = "agent.submitted"
    case reviewDecided = "review.decided"
    case agentPublished = "agent.published"
    case runStarted = "run.started"
    case runFinished = "run.finished"
    case runCancelled = "run.cancelled"
    case modelCall = "model.call"
    case toolCall = "tool.call"
    case payloadErased = "payload.erased"
    case keyRotated = "key.rotated"
    case capChanged = "cap.changed"
    case ledgerTimeZoneChanged = "ledger.time_zone_changed"
    case credentialChanged = "credential.changed"
    case catalogChanged = "catalog.changed"
    case sandboxPolicyChanged = "sandbox_policy.changed"
    case sandboxCreated = "sandbox.created"
    case agentPushed = "agent.pushed"
    case approvalPolicyChanged = "approval_policy.changed"
    case submissionCommented = "submission.commented"
    case submissionWithdrawn = "submission.withdrawn"
    case agentSuspended = "agent.suspended"
    case agentResumed = "agent.resumed"
    case agentDeprecated = "agent.deprecated"
    case agentTransferRequested = "agent.transfer_requested"
    case agentTransferDecided = "agent.transfer_decided"
    case agentTransferWithdrawn = "agent.transfer_withdrawn"
    case toolCatalogChanged = "tool_catalog.changed"
}

/// A salted commitment to a payload kept outside the leaf: SHA-256(tag ‖ salt ‖ payload).
public struct PayloadCommitment: Hashable, Sendable {
    /// What the payload is to the event, e.g. `input`, `output`, `arguments`, `result`.
    public let name: String
    /// The commitment hash.
    public let hash: LogHash

    /// Creates a commitment entry.
    public init(name: String, hash: LogHash) {
        self.name = name
        self.hash = hash
    }

    /// Domain separation, so a commitment can never be confused with a record or node hash.
    public static let domainTag = Array("agentry-audit-payload/v1\n".utf8)
    /// Salts are 32 random bytes, so a short payload cannot be found by guessing.
    public static let saltByteCount = 32

    /// SHA-256(domain tag ‖ salt ‖ payload).
    public static func commit(payload: [UInt8], salt: [UInt8]) -> LogHash {
        precondition(salt.count == saltByteCount, "payload salts are 32 bytes")
        var hasher = SHA256()
        hasher.update(data: domainTag)
        hasher.update(data: salt)
        hasher.update(data: payload)
        return LogHash(finishing: hasher)
    }

    /// 32 bytes from the system's cryptographic generator, drawn 8 at a time (one system call each).
    public static func newSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var words = (
            generator.next() as UInt64, generator.next() as UInt64, generator.next() as UInt64,
            generator.next() as UInt64
        )
        return withUnsafeBytes(of: &words) { Array($0) }
    }
}

/// The header of an audit event: identifiers, numbers and payload commitments, never free text,
/// personal data or secrets. Its canonical encoding is the leaf the Merkle tree hashes.
public struct AuditEvent: Equatable, Sendable {
    /// Milliseconds since 1970 (UTC); non-decreasing along the log.
    public var time: Int64
    /// What happened.
    public var kind: AuditEventKind
    /// Who did it: a user id, `system` (the server itself) or `proxy` (a trusted sign-in proxy).
    public var actor: String
    /// What it was done to, when that is not an agent or run (a user, team or token id).
    public var subject: String?
    /// The agent, agent version and run involved.
    public var agent: String?
    public var agentVersion: String?
    public var run: String?
    /// `ok`, `denied`, `failed`, `cap_exceeded`, … as the kind defines.
    public var outcome: String?
    /// Model and tool identifiers of a call.
    public var model: String?
    public var tool: String?
    /// Token counts and cost of a call.
    public var inputTokens: Int64?
    public var outputTokens: Int64?
    public var costMicrodollars: Int64?
    /// For `payload.erased`: the commitment whose payload was erased.
    public var erases: LogHash?
    /// Commitments to payloads stored apart, sorted by name, names unique.
    public var payloads: [PayloadCommitment]

    /// Creates an event; `validate()` says whether it can be encoded.
    public init(
        time: Int64, kind: AuditEventKind, actor: String, subject: String? = nil, agent: String? = nil,
        agentVersion: String? = nil, run: String? = nil, outcome: String? = nil, model: String? = nil,
        tool: String? = nil, inputTokens: Int64? = nil, outputTokens: Int64? = nil, costMicrodollars: Int64? = nil,
        erases: LogHash? = nil, payloads: [PayloadCommitment] = []
    ) {
        self.time = time
        self.kind = kind
        self.actor = actor
        self.subject = subject
        self.agent = agent
        self.agentVersion = agentVersion
        self.run = run
        self.outcome = outcome
        self.model = model
        self.tool = tool
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.costMicrodollars = costMicrodollars
        self.erases = erases
        self.payloads = payloads.sorted { $0.name < $1.name }
    }
}
