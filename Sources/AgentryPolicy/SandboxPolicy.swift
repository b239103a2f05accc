import AgentryLedger

/// IT's defaults for every builder's personal Sandbox: which models and tools it may use, the
/// most sensitive data it may carry, and the caps each Sandbox starts with. Written once as YAML
/// (format in docs/sandboxes.md); every change is a new, audited revision.
public struct SandboxPolicy: Equatable, Sendable {
    /// Catalog models a Sandbox may call, by public name or prefix pattern.
    public let models: [NamePattern]
    /// Tools a Sandbox may call, by name or prefix pattern.
    public let tools: [NamePattern]
    /// The most sensitive data a Sandbox may send.
    public let maxDataClassification: DataClassification
    /// The caps each Sandbox starts with.
    public let caps: SandboxCaps

    /// A policy; `caps` must be within the ledger's limits.
    public init(
        models: [NamePattern], tools: [NamePattern], maxDataClassification: DataClassification, caps: SandboxCaps
    ) {
        self.models = models
        self.tools = tools
        self.maxDataClassification = maxDataClassification
        self.caps = caps
    }

    /// Whether a Sandbox may call the model with public name `name`.
    public func allowsModel(_ name: String) -> Bool { models.contains { $0.matches(name) } }

    /// Whether a Sandbox may call tool `name`.
    public func allowsTool(_ name: String) -> Bool { tools.contains { $0.matches(name) } }

    /// Whether a Sandbox may send data of `classification`.
    public func allows(_ classification: DataClassification) -> Bool { classification <= maxDataClassification }
}

/// The caps a new Sandbox gets, per window; nil means no cap in that window. `run` applies to
/// each run of a draft agent in the Sandbox; `day` and `month` to the Sandbox's whole spend.
public struct SandboxCaps: Equatable, Sendable {
    /// Per run of a draft agent.
    public let run: Microdollars?
    /// Per calendar day.
    public let day: Microdollars?
    /// Per calendar month.
    public let month: Microdollars?

    /// Caps per window.
    public init(run: Microdollars?, day: Microdollars?, month: Microdollars?) {
        self.run = run
        self.day = day
        self.month = month
    }

    /// The cap of `window`.
    public subscript(window: CapWindow) -> Microdollars? {
        switch window {
        case .run: run
        case .day: day
        case .month: month
        }
    }
}
