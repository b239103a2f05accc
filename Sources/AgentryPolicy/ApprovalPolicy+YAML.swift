import AgentryLedger
import Yams

extension ApprovalPolicy {
    /// The most rules a policy holds: enough for any organisation, bounded so evaluation stays cheap.
    public static let rulesMax = 200

    /// Reads a policy from YAML. Unknown keys, missing fields and malformed values are problems
    /// naming their path, so a typo never silently waves a submission through.
    public init(yaml text: String) throws(FieldProblem) {
        let root = try YAMLFields.root(of: text, needs: "rules (a list) and optionally auto_approve")
        let top = try YAMLFields(root, at: "(file)", allowed: ["rules", "auto_approve", "auto_approve_updates"])
        guard let list = top.node("rules")?.sequence else {
            throw FieldProblem(
                path: "rules", reason: top.has("rules") ? "must be a list" : "is required: a list of rules")
        }
        guard list.count <= Self.rulesMax else {
            throw FieldProblem(path: "rules", reason: "has \(list.count) rules; at most \(Self.rulesMax)")
        }
        var rules: [Rule] = []
        for (index, node) in list.enumerated() {
            let rule = try Self.rule(node, at: "rules[\(index)]")
            guard !rules.contains(where: { $0.id == rule.id }) else {
                throw FieldProblem(path: "rules[\(index)].id", reason: "'\(rule.id)' is used twice")
            }
            rules.append(rule)
        }
        let autoApprove = top.has("auto_approve") ? try top.word("auto_approve", as: AutoApprove.self) : .never
        let updates =
            top.has("auto_approve_updates") ? try top.word("auto_approve_updates", as: AutoApproveUpdates.self) : .never
        self.init(rules: rules, autoApprove: autoApprove, autoApproveUpdates: updates)
    }

    private static func rule(_ node: Node, at path: String) throws(FieldProblem) -> Rule {
        let fields = try YAMLFields(
            node, at: path, allowed: ["id", "description", "kind", "when", "allow", "tools", "limit", "outcome"])
        let id = try fields.text("id", "a lowercase slug naming the rule")
        guard id.utf8.count <= 64, !id.isEmpty,
            id.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
        else { throw FieldProblem(path: "\(path).id", reason: "must be 1–64 characters of a–z, 0–9 and -") }
        let description = fields.has("description") ? try fields.text("description", "text") : nil
        let kind = try fields.text("kind", "one of \(Self.kinds.joined(separator: ", "))")
        let check = try Self.check(kind, fields, at: path)
        let defaultOutcome: ChecklistResult = if case .secondReviewer = check { .warn } else { .fail }
        var outcome = defaultOutcome
        if fields.has("outcome") {
            let text = try fields.text("outcome", "fail or warn")
            guard let parsed = ChecklistResult(rawValue: text), parsed == .fail || parsed == .warn else {
                throw FieldProblem(path: "\(path).outcome", reason: "must be fail or warn, not '\(text)'")
            }
            outcome = parsed
        }
        var classifications: [DataClassification] = []
        var departments: [String] = []
        if let when = fields.node("when") {
            let conditions = try YAMLFields(when, at: "\(path).when", allowed: ["data_classifications", "departments"])
            if conditions.has("data_classifications") {
                classifications = try conditions.words("data_classifications", as: DataClassification.self)
            }
            if conditions.has("departments") {
                departments = try conditions.texts("departments", "a list of department names")
            }
        }
        return Rule(
            id: id, description: description, check: check, dataClassifications: classifications,
            departments: departments, outcome: outcome)
    }

    static let kinds = [
        "tools_allowed", "models_allowed", "max_run_cap", "max_monthly_projection", "max_data_classification",
        "second_reviewer",
    ]

    /// The check of `kind`, reading only the parameter that kind takes.
    private static func check(_ kind: String, _ fields: YAMLFields, at path: String) throws(FieldProblem) -> Check {
        let parameter: String
        let check: Check
        switch kind {
        case "tools_allowed":
            (parameter, check) = ("allow", .toolsAllowed(try patterns(fields, "allow", at: path)))
        case "models_allowed":
            (parameter, check) = ("allow", .modelsAllowed(try patterns(fields, "allow", at: path)))
        case "second_reviewer":
            (parameter, check) = ("tools", .secondReviewer(try patterns(fields, "tools", at: path)))
        case "max_run_cap":
            (parameter, check) = ("limit", .maxRunCap(try fields.dollars("limit", per: "")))
        case "max_monthly_projection":
            (parameter, check) = ("limit", .maxMonthlyProjection(try fields.dollars("limit", per: "")))
        case "max_data_classification":
            (parameter, check) = (
                "limit", .maxDataClassification(try fields.word("limit", as: DataClassification.self))
            )
        default:
            throw FieldProblem(
                path: "\(path).kind", reason: "must be one of \(kinds.joined(separator: ", ")), not '\(kind)'")
        }
        for other in ["allow", "tools", "limit"] where other != parameter && fields.has(other) {
            throw FieldProblem(
                path: "\(path).\(other)", reason: "does not belong to a \(kind) rule (it takes \(parameter))")
        }
        return check
    }

    private static func patterns(_ fields: YAMLFields, _ key: String, at path: String) throws(FieldProblem)
        -> [NamePattern]
    {
        var patterns: [NamePattern] = []
        for (index, text) in try fields.texts(key, "a list of names (a trailing * matches a prefix)").enumerated() {
            guard let pattern = NamePattern(text) else {
                throw FieldProblem(
                    path: "\(path).\(key)[\(index)]", reason: "must be \(NamePattern.rule), not '\(text)'")
            }
            patterns.append(pattern)
        }
        return patterns
    }

    /// The criteria Agentry ships with, in effect until an admin sets some.
    public static let shippedYAML = """
        # Approval criteria: every submission is checked against these rules (docs/review.md).
        rules:
          - id: restricted-data-stays-in-house
            description: Restricted data goes only to models the organisation hosts itself.
            kind: models_allowed
            when: {data_classifications: [restricted]}
            allow: ["self-hosted/*"]
          - id: run-cap-escalation
            description: A run may cost up to $1 without a reviewer looking twice.
            kind: max_run_cap
            limit: "1"
            outcome: warn
          - id: monthly-projection
            description: Expected runs times the run cap stay within $500 a month.
            kind: max_monthly_projection
            limit: "500"
          - id: crm-needs-two-reviewers
            description: Agents that touch the CRM need a second reviewer.
            kind: second_reviewer
            tools: [salesforce, hubspot]
        # never: a human always decides. when_all_pass: approved at once when every rule passes.
        auto_approve: never
        # For updates of a published agent. when_risk_unchanged: approved at once, keeping the
        # grants of the version it replaces, when it adds no models, tools, scopes, caps or code.
        auto_approve_updates: never

        """

    /// The shipped criteria.
    public static let shipped: ApprovalPolicy = {
        do {
            return try ApprovalPolicy(yaml: shippedYAML)
        } catch {
            preconditionFailure("the shipped approval policy does not parse: \(error)")
        }
    }()
}
