import AgentryLedger

/// What a submission asks for, as the approval criteria see it: the governance-relevant fields
/// of the manifest and the submission form, nothing else.
public struct SubmissionFacts: Equatable, Sendable {
    /// The agent's department.
    public var department: String
    public var dataClassification: DataClassification
    /// Catalog model names.
    public var models: [String]
    /// Tool names with the scopes requested of each.
    public var tools: [String: [String]]
    /// Requested caps; `run` is always given.
    public var runCap: Microdollars
    public var dayCap: Microdollars?
    public var monthCap: Microdollars?
    /// Expected runs in a month (generously counted).
    public var runsPerMonth: Int64

    /// The facts of one submission.
    public init(
        department: String, dataClassification: DataClassification, models: [String], tools: [String: [String]],
        runCap: Microdollars, dayCap: Microdollars?, monthCap: Microdollars?, runsPerMonth: Int64
    ) {
        self.department = department
        self.dataClassification = dataClassification
        self.models = models
        self.tools = tools
        self.runCap = runCap
        self.dayCap = dayCap
        self.monthCap = monthCap
        self.runsPerMonth = runsPerMonth
    }

    /// Runs per month × the run cap: the most a month of expected use can cost, saturating
    /// instead of overflowing.
    public var monthlyProjection: Microdollars {
        let (product, overflow) = runCap.value.multipliedReportingOverflow(by: runsPerMonth)
        return Microdollars(overflow ? .max : product)
    }
}

/// IT's approval criteria, written in advance as YAML (docs/review.md) and evaluated at every
/// submission into a checklist: each rule passes, warns or fails with a sentence saying why.
public struct ApprovalPolicy: Equatable, Sendable {
    /// One criterion.
    public struct Rule: Equatable, Sendable {
        /// A lowercase slug, unique in the policy: how the checklist names the rule.
        public let id: String
        /// What the rule is for, in IT's words.
        public let description: String?
        public let check: Check
        /// Which submissions it applies to; empty lists mean every one.
        public let dataClassifications: [DataClassification]
        public let departments: [String]
        /// What a breach is: `fail` blocks approval, `warn` asks a human to look.
        public let outcome: ChecklistResult

        /// Whether the rule applies to `facts` (its `when`).
        public func applies(to facts: SubmissionFacts) -> Bool {
            (dataClassifications.isEmpty || dataClassifications.contains(facts.dataClassification))
                && (departments.isEmpty
                    || departments.contains { $0.caseInsensitiveCompare(facts.department) == .orderedSame })
        }
    }

    /// The kinds of criterion.
    public enum Check: Equatable, Sendable {
        /// Every requested tool must match one of these names or prefixes.
        case toolsAllowed([NamePattern])
        /// Every requested model must match one of these names or prefixes.
        case modelsAllowed([NamePattern])
        /// The requested per-run cap may not exceed this.
        case maxRunCap(Microdollars)
        /// Expected runs per month × the per-run cap may not exceed this.
        case maxMonthlyProjection(Microdollars)
        /// The agent's data classification may not exceed this.
        case maxDataClassification(DataClassification)
        /// Using any of these tools needs a second reviewer's approval.
        case secondReviewer([NamePattern])

        /// The name of the kind in YAML.
        public var kind: String {
            switch self {
            case .toolsAllowed: "tools_allowed"
            case .modelsAllowed: "models_allowed"
            case .maxRunCap: "max_run_cap"
            case .maxMonthlyProjection: "max_monthly_projection"
            case .maxDataClassification: "max_data_classification"
            case .secondReviewer: "second_reviewer"
            }
        }
    }

    /// When a submission is approved without a reviewer.
    public enum AutoApprove: String, CaseIterable, Sendable {
        /// Always a human.
        case never
        /// When every criterion passes and none asks for a second reviewer.
        case whenAllPass = "when_all_pass"
    }

    /// When an update of a published agent is approved without a reviewer.
    public enum AutoApproveUpdates: String, CaseIterable, Sendable {
        /// Always a human.
        case never
        /// When the update raises no risk (no new models, tools or scopes, no higher caps or
        /// classification, no changed code) and every criterion passes: it keeps the grants of
        /// the version it replaces.
        case whenRiskUnchanged = "when_risk_unchanged"
    }

    public let rules: [Rule]
    public let autoApprove: AutoApprove
    public let autoApproveUpdates: AutoApproveUpdates

    /// A policy of `rules`.
    public init(rules: [Rule], autoApprove: AutoApprove, autoApproveUpdates: AutoApproveUpdates = .never) {
        self.rules = rules
        self.autoApprove = autoApprove
        self.autoApproveUpdates = autoApproveUpdates
    }
}
