import AgentryLedger

extension SandboxPolicy {
    /// Reads a policy from YAML. Unknown keys, missing fields and malformed values are problems
    /// naming their path, so a typo never widens what Sandboxes may do.
    public init(yaml text: String) throws(FieldProblem) {
        let root = try YAMLFields.root(of: text, needs: "models, max_data_classification and caps")
        let top = try YAMLFields(root, at: "(file)", allowed: ["models", "tools", "max_data_classification", "caps"])
        let models = try Self.patterns(top, "models", required: true)
        let tools = try Self.patterns(top, "tools", required: false)
        let classification = try top.word("max_data_classification", as: DataClassification.self)
        guard let capsNode = top.node("caps") else {
            throw FieldProblem(
                path: "caps",
                reason: "is required: a mapping of run, day and month caps in dollars (omit a window for no cap)")
        }
        let caps = try YAMLFields(capsNode, at: "caps", allowed: ["run", "day", "month"])
        self.init(
            models: models, tools: tools, maxDataClassification: classification,
            caps: SandboxCaps(
                run: try Self.cap(caps, "run"), day: try Self.cap(caps, "day"), month: try Self.cap(caps, "month")))
    }

    private static func patterns(_ fields: YAMLFields, _ key: String, required: Bool) throws(FieldProblem)
        -> [NamePattern]
    {
        guard required || fields.has(key) else { return [] }
        let what =
            key == "models" ? "a list of catalog model names (a trailing * matches a prefix)" : "a list of tool names"
        var patterns: [NamePattern] = []
        for (index, text) in try fields.texts(key, what).enumerated() {
            guard let pattern = NamePattern(text) else {
                throw FieldProblem(path: "\(key)[\(index)]", reason: "must be \(NamePattern.rule), not '\(text)'")
            }
            guard !patterns.contains(pattern) else {
                throw FieldProblem(path: "\(key)[\(index)]", reason: "'\(text)' is listed twice")
            }
            patterns.append(pattern)
        }
        return patterns
    }

    private static func cap(_ fields: YAMLFields, _ key: String) throws(FieldProblem) -> Microdollars? {
        guard fields.has(key) else { return nil }
        let amount = try fields.dollars(key, per: "")
        guard amount <= LedgerRules.amountMax else {
            throw FieldProblem(path: fields.path(of: key), reason: "must be at most \(LedgerRules.amountMax)")
        }
        return amount
    }

    /// The policy Agentry ships with, in effect until an admin sets one: the simulated models and
    /// tools, internal data, and small caps, so a new installation cannot run up a bill.
    public static let shippedYAML = """
        # Sandbox defaults: what every builder's personal Sandbox may use (docs/sandboxes.md).
        # Model names are the catalog's public names; a trailing * matches a prefix.
        models:
          - sim/*
        # Tools in scope for Sandboxes (the tool catalog's names; a trailing * matches a prefix):
        # the built-in simulators.
        tools:
          - sim-*
        # The most sensitive data a Sandbox may send: public, internal, confidential or restricted.
        max_data_classification: internal
        # The caps each Sandbox starts with, in dollars; omit a window for no cap.
        caps:
          run: "1"
          day: "5"
          month: "50"

        """

    /// The shipped policy.
    public static let shipped: SandboxPolicy = {
        do {
            return try SandboxPolicy(yaml: shippedYAML)
        } catch {
            preconditionFailure("the shipped Sandbox policy does not parse: \(error)")
        }
    }()
}
