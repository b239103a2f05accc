/// Why the registry refused: each case has a stable code and a message that says what and why.
public enum RegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidTransition(from: AgentVersionState, event: AgentVersionEvent)
    case agentNotFound(String)
    case versionNotFound(agent: String, version: String)
    /// The version was submitted once and can never change.
    case versionImmutable(agent: String, version: String, state: AgentVersionState)
    /// A new version must be higher than every version the agent has.
    case versionNotNewer(agent: String, version: String, highest: String)
    /// The agent belongs to someone else.
    case notOwner(agent: String)
    /// The manifest names an owner other than the caller.
    case ownerMismatch(declared: String, caller: String)
    /// Another change landed first (a concurrent push, submit or decision).
    case conflict(String)
    /// The agent is suspended: nothing new may happen to it.
    case suspended(String)

    /// A stable snake_case code.
    public var code: String {
        switch self {
        case .invalidTransition: "invalid_transition"
        case .agentNotFound: "agent_not_found"
        case .versionNotFound: "version_not_found"
        case .versionImmutable: "version_immutable"
        case .versionNotNewer: "version_not_newer"
        case .notOwner: "not_owner"
        case .ownerMismatch: "owner_mismatch"
        case .conflict: "conflict"
        case .suspended: "agent_suspended"
        }
    }

    public var description: String {
        switch self {
        case .invalidTransition(let from, let event):
            "a \(from.rawValue) version cannot be \(event.pastTense)"
        case .agentNotFound(let name): "no agent is named '\(name)'"
        case .versionNotFound(let agent, let version): "\(agent) has no version \(version)"
        case .versionImmutable(let agent, let version, let state):
            "\(agent) \(version) is \(state.rawValue) and can never change; push a higher version"
        case .versionNotNewer(let agent, let version, let highest):
            "\(agent) \(version) is not higher than its version \(highest); versions only go up"
        case .notOwner(let agent): "the agent '\(agent)' belongs to another user"
        case .ownerMismatch(let declared, let caller):
            "agent.yaml names the owner \(declared), but you are \(caller)"
        case .conflict(let what): "\(what) changed at the same time; read it again and retry"
        case .suspended(let agent): "the agent '\(agent)' is suspended"
        }
    }
}

extension AgentVersionEvent {
    /// The event as a past participle, for messages.
    public var pastTense: String {
        switch self {
        case .repush: "pushed again"
        case .submit: "submitted"
        case .withdraw: "withdrawn"
        case .approve: "approved"
        case .reject: "rejected"
        case .requestChanges: "sent back for changes"
        case .retire: "retired"
        }
    }
}
