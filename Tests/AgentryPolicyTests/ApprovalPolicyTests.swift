import AgentryLedger
import AgentryPolicy
import Testing

/// Approval criteria, rule by rule: each kind judged against submissions that pass, breach, or
/// fall outside its `when`, with the sentence a reviewer reads.
@Suite struct ApprovalPolicyTests {
    static func facts(
        department: String = "Finance", classification: DataClassification = .internal,
        models: [String] = ["sim/openai-small"], tools: [String: [String]] = [:], run: Int64 = 500_000,
        runsPerMonth: Int64 = 100
    ) -> SubmissionFacts {
        SubmissionFacts(
            department: department, dataClassification: classification, models: models, tools: tools,
            runCap: Microdollars(run), dayCap: nil, monthCap: nil, runsPerMonth: runsPerMonth)
    }

    static func policy(_ rule: String, autoApprove: String = "never") throws -> ApprovalPolicy {
        try ApprovalPolicy(
            yaml: "rules:\n  - id: r\n" + rule.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
                + "\nauto_approve: \(autoApprove)")
    }

    /// (rule YAML, facts, expected result, words the message must contain)
    static let cases: [(String, SubmissionFacts, ChecklistResult, String)] = [
        (
            "kind: tools_allowed\nallow: [slack, 'drive*']", facts(tools: ["slack": [], "drive-v3": []]), .pass,
            "every requested tool"
        ),
        (
            "kind: tools_allowed\nallow: [slack]", facts(tools: ["slack": [], "hubspot": ["read"]]), .fail,
            "requests hubspot"
        ),
        ("kind: tools_allowed\nallow: []", facts(), .pass, "requests no tools"),
        (
            "kind: tools_allowed\nwhen: {data_classifications: [confidential]}\nallow: [slack]",
            facts(tools: ["hubspot": []]), .notApplicable, "does not apply"
        ),
        (
            "kind: tools_allowed\nwhen: {departments: [finance]}\nallow: [slack]\noutcome: warn",
            facts(tools: ["hubspot": []]), .warn, "not among the allowed tools (slack)"
        ),
        (
            "kind: models_allowed\nallow: ['self-hosted/*']", facts(models: ["self-hosted/llama"]), .pass,
            "every requested model"
        ),
        ("kind: models_allowed\nallow: ['self-hosted/*']", facts(models: ["openai/gpt-4o"]), .fail, "openai/gpt-4o"),
        ("kind: max_run_cap\nlimit: '0.50'", facts(run: 500_000), .pass, "$0.50 is within $0.50"),
        ("kind: max_run_cap\nlimit: '0.50'", facts(run: 500_001), .fail, "above $0.50"),
        (
            "kind: max_monthly_projection\nlimit: '50'", facts(run: 500_000, runsPerMonth: 100), .pass,
            "100 runs a month × $0.50 = $50.00"
        ),
        ("kind: max_monthly_projection\nlimit: '50'", facts(run: 500_000, runsPerMonth: 101), .fail, "above $50.00"),
        ("kind: max_monthly_projection\nlimit: '1'", facts(run: Int64.max / 2, runsPerMonth: 1000), .fail, "above"),
        ("kind: max_data_classification\nlimit: internal", facts(classification: .internal), .pass, "allowed"),
        (
            "kind: max_data_classification\nlimit: internal", facts(classification: .restricted), .fail,
            "restricted data is above"
        ),
        ("kind: second_reviewer\ntools: [salesforce]", facts(tools: ["slack": []]), .pass, "none of the tools"),
        (
            "kind: second_reviewer\ntools: [salesforce]", facts(tools: ["salesforce": ["soql"]]), .warn,
            "second reviewer"
        ),
    ]

    @Test(arguments: cases) func eachRuleJudgesAndSaysWhy(
        rule: String, facts: SubmissionFacts, result: ChecklistResult, words: String
    ) throws {
        let checklist = try Self.policy(rule).evaluate(facts)
        let item = try #require(checklist.items.first)
        #expect(item.result == result, "\(item)")
        #expect(item.message.contains(words), "\(item.message)")
        #expect(item.rule == "r")
    }

    @Test func autoApprovalOnlyWhenEverythingPassesAndOneReviewerSuffices() throws {
        let yaml = "kind: max_run_cap\nlimit: '1'"
        #expect(try Self.policy(yaml, autoApprove: "when_all_pass").evaluate(Self.facts()).autoApprove)
        #expect(!(try Self.policy(yaml).evaluate(Self.facts()).autoApprove), "never means never")
        #expect(!(try Self.policy(yaml, autoApprove: "when_all_pass").evaluate(Self.facts(run: 2_000_000)).autoApprove))
        let second = try Self.policy("kind: second_reviewer\ntools: [slack]", autoApprove: "when_all_pass")
        let checklist = second.evaluate(Self.facts(tools: ["slack": []]))
        #expect(checklist.needsSecondReviewer && !checklist.autoApprove && checklist.result == .warn)
    }

    @Test func theShippedPolicyIsSensible() {
        let policy = ApprovalPolicy.shipped
        #expect(policy.autoApprove == .never && policy.rules.count == 4)
        let checklist = policy.evaluate(
            Self.facts(classification: .restricted, tools: ["hubspot": ["notes"]], run: 2_000_000))
        #expect(checklist.items.map(\.result) == [.fail, .warn, .pass, .warn])
        #expect(checklist.result == .fail && checklist.needsSecondReviewer)
    }

    static let refused: [(String, String)] = [
        ("", "(file): is empty"),
        ("auto_approve: never", "rules: is required"),
        ("rules: {}", "rules: must be a list"),
        ("rules: [{kind: max_run_cap, limit: '1'}]", "rules[0].id: is required"),
        ("rules: [{id: Bad Id, kind: max_run_cap, limit: '1'}]", "rules[0].id: must be"),
        ("rules: [{id: a, kind: vibes}]", "rules[0].kind: must be one of tools_allowed"),
        ("rules: [{id: a, kind: max_run_cap}]", "rules[0].limit: is required"),
        ("rules: [{id: a, kind: max_run_cap, limit: 1.5.0}]", "rules[0].limit: must be a dollar amount"),
        ("rules: [{id: a, kind: max_run_cap, limit: '1', allow: [x]}]", "rules[0].allow: does not belong"),
        ("rules: [{id: a, kind: tools_allowed, allow: ['a*b']}]", "rules[0].allow[0]: must be"),
        ("rules: [{id: a, kind: max_data_classification, limit: secret}]", "rules[0].limit: must be one of public"),
        ("rules: [{id: a, kind: max_run_cap, limit: '1', outcome: pass}]", "rules[0].outcome: must be fail or warn"),
        ("rules: [{id: a, kind: max_run_cap, limit: '1', when: {team: x}}]", "rules[0].when.team: unknown field"),
        (
            "rules: [{id: a, kind: max_run_cap, limit: '1', when: {data_classifications: [top]}}]",
            "rules[0].when.data_classifications[0]"
        ),
        (
            "rules: [{id: a, kind: max_run_cap, limit: '1'}, {id: a, kind: max_run_cap, limit: '2'}]",
            "rules[1].id: 'a' is used twice"
        ),
        ("rules: []\nauto_approve: always", "auto_approve: must be one of never, when_all_pass"),
        ("rules: []\nextra: 1", "extra: unknown field"),
    ]

    @Test(arguments: refused) func badPoliciesAreRefusedWithTheirPath(yaml: String, expected: String) {
        #expect {
            _ = try ApprovalPolicy(yaml: yaml)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }
}
