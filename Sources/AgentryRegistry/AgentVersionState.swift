/// Where one version of an agent is in its life: built in the Sandbox, reviewed, published in
/// the Catalog, and finally retired by a newer version. Every change goes through `after(_:)`,
/// so a forbidden step is an error with a reason, never a silent write.
public enum AgentVersionState: String, CaseIterable, Sendable {
    /// In the owner's Sandbox; its package may still be replaced.
    case draft
    /// Waiting for review; immutable from here on.
    case submitted
    /// A reviewer asked for changes; the builder answers with a new version.
    case changesRequested = "changes_requested"
    case rejected
    /// Its owner took the submission back; it never changes, a new version carries on.
    case withdrawn
    /// Approved and serving in the Catalog.
    case published
    /// Replaced in the Catalog by a newer published version.
    case retired
}

/// What can happen to a version.
public enum AgentVersionEvent: String, CaseIterable, Sendable {
    /// The owner uploads the package again under the same version.
    case repush
    case submit
    /// The owner takes a submission back before it is decided.
    case withdraw
    case approve
    case reject
    case requestChanges = "request_changes"
    /// A newer version was published.
    case retire
}

extension AgentVersionState {
    /// The state after `event`, or why `event` cannot happen now.
    public func after(_ event: AgentVersionEvent) throws(RegistryError) -> AgentVersionState {
        switch (self, event) {
        case (.draft, .repush): return .draft
        case (.draft, .submit): return .submitted
        case (.submitted, .withdraw): return .withdrawn
        case (.submitted, .approve): return .published
        case (.submitted, .reject): return .rejected
        case (.submitted, .requestChanges): return .changesRequested
        case (.published, .retire): return .retired
        case (.draft, _), (.submitted, _), (.changesRequested, _), (.rejected, _), (.withdrawn, _), (.published, _),
            (.retired, _):
            throw .invalidTransition(from: self, event: event)
        }
    }

    /// Whether the package may still change: only in the Sandbox, before submission.
    public var isMutable: Bool { self == .draft }
}
