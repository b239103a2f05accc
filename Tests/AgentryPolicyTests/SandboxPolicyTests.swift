import AgentryLedger
import AgentryPolicy
import Testing

@Suite struct SandboxPolicyTests {
    @Test func theShippedPolicyAllowsOnlySimulatedModelsAndToolsAndInternalData() {
        let policy = SandboxPolicy.shipped
        #expect(policy.allowsModel("sim/openai-small"))
        #expect(!policy.allowsModel("openai/gpt-4o"))
        #expect(!policy.allowsModel("sim"))
        #expect(policy.allowsTool("sim-slack") && !policy.allowsTool("slack"))
        #expect(policy.allows(.internal) && policy.allows(.public) && !policy.allows(.confidential))
        #expect(
            policy.caps
                == SandboxCaps(
                    run: Microdollars(1_000_000), day: Microdollars(5_000_000), month: Microdollars(50_000_000)))
    }

    @Test func aFullPolicyReadsEveryField() throws {
        let policy = try SandboxPolicy(
            yaml: """
                models: [openai/gpt-4o-mini, "anthropic/*"]
                tools: [slack, drive]
                max_data_classification: confidential
                caps: {day: "2.50"}
                """)
        #expect(policy.allowsModel("openai/gpt-4o-mini") && !policy.allowsModel("openai/gpt-4o"))
        #expect(policy.allowsModel("anthropic/claude-haiku"))
        #expect(policy.allowsTool("drive") && !policy.allowsTool("drives"))
        #expect(policy.maxDataClassification == .confidential)
        #expect(policy.caps == SandboxCaps(run: nil, day: Microdollars(2_500_000), month: nil))
        #expect(policy.caps[.day] == Microdollars(2_500_000) && policy.caps[.month] == nil)
    }

    @Test func aStarAloneMatchesEveryName() {
        let all = NamePattern("*")
        #expect(all?.matches("anything/at-all") == true)
        #expect(all?.matches("") == true)
    }

    static let refused: [(String, String)] = [
        ("", "(file): is empty"),
        ("models: [", "(file): not valid YAML"),
        ("- sim/*", "(file): must be a mapping"),
        ("max_data_classification: internal\ncaps: {}", "models: is required"),
        ("models: sim/*\nmax_data_classification: internal\ncaps: {}", "models: must be a list"),
        ("models: [[a]]\nmax_data_classification: internal\ncaps: {}", "models[0]: must be text"),
        ("models: ['a*b']\nmax_data_classification: internal\ncaps: {}", "models[0]: must be 1–200 visible ASCII"),
        ("models: ['has space']\nmax_data_classification: internal\ncaps: {}", "models[0]: must be"),
        ("models: [a, a]\nmax_data_classification: internal\ncaps: {}", "models[1]: 'a' is listed twice"),
        ("models: [a]\ncaps: {}", "max_data_classification: is required"),
        ("models: [a]\nmax_data_classification: secret\ncaps: {}", "max_data_classification: must be one of public"),
        ("models: [a]\nmax_data_classification: internal", "caps: is required"),
        ("models: [a]\nmax_data_classification: internal\ncaps: [1]", "caps: must be a mapping"),
        ("models: [a]\nmax_data_classification: internal\ncaps: {week: '1'}", "caps.week: unknown field"),
        ("models: [a]\nmax_data_classification: internal\ncaps: {day: -1}", "caps.day: must be a dollar amount"),
        ("models: [a]\nmax_data_classification: internal\ncaps: {day: 1e3}", "caps.day: must be a dollar amount"),
        ("models: [a]\nmax_data_classification: internal\ncaps: {day: '0.0000001'}", "caps.day: must be a dollar"),
        (
            "models: [a]\nmax_data_classification: internal\ncaps: {month: '1000000001'}",
            "caps.month: must be at most"
        ),
        ("models: [a]\nmax_data_classification: internal\ncaps: {}\nmodel: [b]", "model: unknown field; known: models"),
        ("models: [a]\ntools: slack\nmax_data_classification: internal\ncaps: {}", "tools: must be a list"),
    ]

    @Test(arguments: refused) func badPoliciesAreRefusedWithTheirPath(yaml: String, expected: String) {
        #expect {
            _ = try SandboxPolicy(yaml: yaml)
        } throws: { error in
            "\(error)".hasPrefix(expected)
        }
    }

    @Test func namePatternsRefuseWhatCouldNotBeAName() {
        #expect(NamePattern("") == nil)
        #expect(NamePattern(String(repeating: "a", count: 201)) == nil)
        #expect(NamePattern("*a") == nil)
        #expect(NamePattern("tab\there") == nil)
        #expect(NamePattern("é") == nil)
        #expect(NamePattern("sim/*")?.matches("sim/") == true)
        #expect(NamePattern("sim/*")?.matches("simulated") == false)
    }
}
