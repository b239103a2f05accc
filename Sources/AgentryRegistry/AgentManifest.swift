import AgentryLedger
import AgentryPolicy

/// What a builder declares about one version of an agent in its `agent.yaml` (format and JSON
/// Schema in docs/agents.md). Only builder-declared fields live here: what IT grants at review
/// and what the registry manages (ids, owner account, state, package hash) are kept elsewhere.
public struct AgentManifest: Equatable, Sendable {
    /// The agent's registry name: a lowercase slug, the same for all its versions.
    public var name: String
    public var version: SemanticVersion
    public var title: String
    public var description: String
    public var department: String
    public var tags: [String]
    /// The owner's email as the builder wrote it; the registry checks it against who pushes.
    public var owner: String?
    public var skills: [AgentSkill]
    /// The form a non-technical runner fills in.
    public var inputs: [AgentInput]
    public var kind: AgentKind
    /// Catalog model names the agent asks for.
    public var models: [String]
    /// Tools the agent asks for, each with the scopes it needs.
    public var tools: [RequestedTool]
    /// The most sensitive data the agent handles.
    public var dataClassification: DataClassification
    public var caps: RequestedCaps
    public var runFrequency: RunFrequency
    public var changelog: [ChangelogEntry]
}

/// One thing the agent can do, as an A2A AgentCard skill.
public struct AgentSkill: Equatable, Sendable {
    public var id: String
    public var name: String
    public var description: String
    public var examples: [String]
}

/// One field of an agent's inputs form.
public struct AgentInput: Equatable, Sendable {
    /// The kinds of value a field takes.
    public enum FieldType: String, CaseIterable, Sendable {
        /// One line of text.
        case string
        /// Several lines of text.
        case text
        case integer
        case number
        case boolean
        /// A calendar date, `YYYY-MM-DD`.
        case date
        /// One of `options`.
        case select
    }

    /// The key the value is passed under: a lowercase identifier.
    public var name: String
    /// What the runner sees.
    public var label: String
    public var type: FieldType
    public var required: Bool
    public var description: String?
    /// The choices of a `select` field; empty otherwise.
    public var options: [String]
}

/// How the agent runs.
public enum AgentKind: Equatable, Sendable {
    /// Agentry's own tool-calling loop: a system prompt, one model, tools, a step limit.
    case declarative(systemPrompt: String, model: String, tools: [String], maxSteps: Int)
    /// The package's entrypoint, run as a subprocess.
    case code(runtime: CodeRuntime, entrypoint: String)

    /// `declarative` or `code`.
    public var name: String {
        switch self {
        case .declarative: "declarative"
        case .code: "code"
        }
    }
}

/// The runtimes a code agent may name.
public enum CodeRuntime: String, CaseIterable, Sendable {
    case python3
}

/// A tool the agent asks for, with the scopes (operations) it needs.
public struct RequestedTool: Equatable, Sendable {
    public var name: String
    public var scopes: [String]

    /// Tool `name` with `scopes`.
    public init(name: String, scopes: [String]) {
        self.name = name
        self.scopes = scopes
    }
}

/// The caps the builder asks for: per run is required, day and month optional.
public struct RequestedCaps: Equatable, Sendable {
    public var run: Microdollars
    public var day: Microdollars?
    public var month: Microdollars?

    /// Requested caps per window.
    public init(run: Microdollars, day: Microdollars?, month: Microdollars?) {
        self.run = run
        self.day = day
        self.month = month
    }
}

/// How often the builder expects the agent to run, for the monthly spend projection.
public struct RunFrequency: Equatable, Sendable {
    /// The calendar unit `runs` is per.
    public enum Period: String, CaseIterable, Sendable {
        case day
        case week
        case month

        /// How many of this period a month holds, at most (31 days, 5 weeks).
        public var perMonthMax: Int64 {
            switch self {
            case .day: 31
            case .week: 5
            case .month: 1
            }
        }
    }

    public var runs: Int64
    public var per: Period

    /// `runs` per `per`.
    public init(runs: Int64, per: Period) {
        self.runs = runs
        self.per = per
    }

    /// Runs in a month at this frequency, counted generously (31 days, 5 weeks).
    public var runsPerMonth: Int64 { runs * per.perMonthMax }
}

/// What changed in one version.
public struct ChangelogEntry: Equatable, Sendable {
    public var version: SemanticVersion
    public var changes: String
}
