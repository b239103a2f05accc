import AgentryLedger
import AgentryRegistry
import Testing

/// Grants are never more than the manifest requested: fewer models, tools and scopes, caps no higher
/// and never missing where one was requested (no cap is the highest cap).
@Suite struct GrantsTests {
    static let manifest = try! AgentManifest(
        yaml: AgentTemplate.files(name: "notes", kind: "declarative", owner: nil)[0].text
            .replacingOccurrences(of: "tools: []\ndata", with: "tools: [{name: slack, scopes: [read, write]}]\ndata"))

    @Test func everythingRequestedIsGrantable() {
        #expect(Grants(requested: Self.manifest).problems(against: Self.manifest).isEmpty)
    }

    static let refused: [(Grants, String)] = [
        (Grants(models: ["sim/anthropic-small"], tools: [:], runCap: 1, dayCap: 1, monthCap: 1), "grants.models"),
        (Grants(models: [], tools: [:], runCap: 1, dayCap: 1, monthCap: 1), "grant at least one model"),
        (
            Grants(models: ["sim/openai-small"], tools: ["drive": []], runCap: 1, dayCap: 1, monthCap: 1),
            "drive was not requested"
        ),
        (
            Grants(models: ["sim/openai-small"], tools: ["slack": ["admin"]], runCap: 1, dayCap: 1, monthCap: 1),
            "scope admin"
        ),
        (Grants(models: ["sim/openai-small"], tools: [:], runCap: 60_000, dayCap: 1, monthCap: 1), "grants.caps.run"),
        (Grants(models: ["sim/openai-small"], tools: [:], runCap: 0, dayCap: 1, monthCap: 1), "grants.caps.run"),
        (Grants(models: ["sim/openai-small"], tools: [:], runCap: 1, dayCap: nil, monthCap: 1), "requests a day cap"),
        (
            Grants(models: ["sim/openai-small"], tools: [:], runCap: 1, dayCap: 1, monthCap: 20_000_000),
            "grants.caps.month"
        ),
    ]

    @Test(arguments: refused) func moreThanRequestedIsRefused(grants: Grants, problem: String) {
        let problems = grants.problems(against: Self.manifest)
        #expect(problems.contains { $0.contains(problem) }, "\(problems)")
    }

    @Test func carriedGrantsNeverWiden() {
        let narrow = Grants(
            models: ["sim/openai-small"], tools: ["slack": ["read"]], runCap: 10, dayCap: nil, monthCap: 5)
        let carried = Grants.carried(narrow, to: Self.manifest)
        #expect(carried.tools == ["slack": ["read"]] && carried.runCap == 10 && carried.monthCap == 5)
        #expect(carried.dayCap == 1_000_000, "a cap the previous grants lacked takes the requested one")
        #expect(carried.problems(against: Self.manifest).isEmpty)
    }
}

@Suite("Grants of two approvals")
struct GrantsIntersectionTests {
    @Test("only what both granted: common models and scopes, the lower of each cap, a tool left with no scope gone")
    func intersection() {
        let first = Grants(
            models: ["a", "b"], tools: ["slack": ["read", "write"], "drive": ["read"]], runCap: 5, dayCap: 50,
            monthCap: nil)
        let second = Grants(
            models: ["b", "c"], tools: ["slack": ["read"], "drive": ["write"]], runCap: 3, dayCap: 80, monthCap: 100)
        let both = first.intersection(second)
        #expect(both.models == ["b"])
        #expect(both.tools == ["slack": ["read"]])
        #expect(both.runCap == 3 && both.dayCap == 50 && both.monthCap == 100)
        #expect(first.intersection(first) == first)
        #expect(second.intersection(first).tools == both.tools)
    }
}
