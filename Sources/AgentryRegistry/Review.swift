import AgentryLedger
import AgentryPolicy

/// Where a submission is: waiting for reviewers, or decided.
public enum SubmissionState: String, CaseIterable, Sendable, Codable {
    case open
    /// Approved (by reviewers or by the policy): the version is published.
    case approved
    case rejected
    case changesRequested = "changes_requested"
    /// Taken back by its owner before a decision.
    case withdrawn
}

/// What a reviewer decides.
public enum ReviewDecision: String, CaseIterable, Sendable, Codable {
    case approve
    case reject
    case requestChanges = "request_changes"

    /// The version's event when the decision takes effect.
    public var versionEvent: AgentVersionEvent {
        switch self {
        case .approve: .approve
        case .reject: .reject
        case .requestChanges: .requestChanges
        }
    }

    /// The submission's state when the decision takes effect.
    public var submissionState: SubmissionState {
        switch self {
        case .approve: .approved
        case .reject: .rejected
        case .requestChanges: .changesRequested
        }
    }
}

/// What IT granted a version at review: never more than its manifest requested.
public struct Grants: Equatable, Sendable, Codable {
    public var models: [String]
    /// Tool names with the scopes granted of each.
    public var tools: [String: [String]]
    /// Caps in µ$: per run, and optionally per day and month.
    public var runCap: Int64
    public var dayCap: Int64?
    public var monthCap: Int64?

    /// Grants as listed.
    public init(models: [String], tools: [String: [String]], runCap: Int64, dayCap: Int64?, monthCap: Int64?) {
        self.models = models
        self.tools = tools
        self.runCap = runCap
        self.dayCap = dayCap
        self.monthCap = monthCap
    }

    /// Everything the manifest requested.
    public init(requested manifest: AgentManifest) {
        self.init(
            models: manifest.models,
            tools: Dictionary(manifest.tools.map { ($0.name, $0.scopes) }, uniquingKeysWith: { first, _ in first }),
            runCap: manifest.caps.run.value, dayCap: manifest.caps.day?.value, monthCap: manifest.caps.month?.value)
    }

    /// What both grant: the models and tool scopes in both (a tool left with no scope goes), and
    /// the lower of each cap.
    public func intersection(_ other: Grants) -> Grants {
        func lower(_ mine: Int64?, _ theirs: Int64?) -> Int64? {
            switch (mine, theirs) {
            case (let mine?, let theirs?): min(mine, theirs)
            default: mine ?? theirs
            }
        }
        var tools: [String: [String]] = [:]
        for (tool, scopes) in self.tools {
            let both = scopes.filter { other.tools[tool]?.contains($0) ?? false }
            if !both.isEmpty { tools[tool] = both }
        }
        return Grants(
            models: models.filter(other.models.contains), tools: tools, runCap: min(runCap, other.runCap),
            dayCap: lower(dayCap, other.dayCap), monthCap: lower(monthCap, other.monthCap))
    }

    /// The problems that keep these grants from being given for `manifest`: each grant must be
    /// within what was requested (a subset of models, tools and scopes; caps no higher).
    public func problems(against manifest: AgentManifest) -> [String] {
        let requested = Grants(requested: manifest)
        var problems: [String] = []
        for model in models where !requested.models.contains(model) {
            problems.append("grants.models: \(model) was not requested")
        }
        for (tool, scopes) in tools.sorted(by: { $0.key < $1.key }) {
            guard let asked = requested.tools[tool] else {
                problems.append("grants.tools: \(tool) was not requested")
                continue
            }
            for scope in scopes where !asked.contains(scope) {
                problems.append("grants.tools.\(tool): the scope \(scope) was not requested")
            }
        }
        if runCap > requested.runCap || runCap <= 0 {
            problems.append("grants.caps.run: must be above $0 and at most the requested \(manifest.caps.run)")
        }
        for (name, granted, asked) in [("day", dayCap, requested.dayCap), ("month", monthCap, requested.monthCap)] {
            switch (granted, asked) {
            case (nil, let asked?):
                // No cap is more than any cap: a requested cap is granted, at most as high.
                problems.append(
                    "grants.caps.\(name): the manifest requests a \(name) cap; grant one of at most \(Microdollars(asked))"
                )
            case (let granted?, let asked?) where granted > asked || granted < 0:
                problems.append("grants.caps.\(name): must be at most the requested \(Microdollars(asked))")
            case (let granted?, nil) where granted < 0:
                problems.append("grants.caps.\(name): must not be negative")
            case (nil, nil), (.some, .some), (.some, nil):
                break
            }
        }
        if models.isEmpty { problems.append("grants.models: grant at least one model") }
        return problems
    }

    /// `previous` grants carried to an update: what is still requested, caps no higher than
    /// before nor than now requested.
    public static func carried(_ previous: Grants, to manifest: AgentManifest) -> Grants {
        let requested = Grants(requested: manifest)
        var tools: [String: [String]] = [:]
        for (tool, scopes) in previous.tools {
            guard let asked = requested.tools[tool] else { continue }
            tools[tool] = scopes.filter(asked.contains)
        }
        func lower(_ a: Int64?, _ b: Int64?) -> Int64? {
            switch (a, b) {
            case (let a?, let b?): Swift.min(a, b)
            case (let a?, nil): a
            case (nil, let b?): b
            case (nil, nil): nil
            }
        }
        return Grants(
            models: previous.models.filter(requested.models.contains), tools: tools,
            runCap: Swift.min(previous.runCap, requested.runCap), dayCap: lower(previous.dayCap, requested.dayCap),
            monthCap: lower(previous.monthCap, requested.monthCap))
    }
}
