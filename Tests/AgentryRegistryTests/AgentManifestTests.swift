import AgentryLedger
import AgentryPolicy
import AgentryRegistry
import Testing

@Suite struct AgentManifestTests {
    static let declarative = AgentTemplate.files(name: "notes-summarizer", kind: "declarative", owner: nil)[0].text
    static let code = AgentTemplate.files(name: "notes-summarizer", kind: "code", owner: "a@example.com")[0].text

    @Test func theTemplatesAreValidManifests() throws {
        let manifest = try AgentManifest(yaml: Self.declarative)
        #expect(manifest.name == "notes-summarizer" && manifest.version == SemanticVersion("0.1.0"))
        #expect(manifest.kind.name == "declarative" && manifest.models == ["sim/openai-small"])
        #expect(
            manifest.caps
                == RequestedCaps(
                    run: Microdollars(50_000), day: Microdollars(1_000_000), month: Microdollars(10_000_000)))
        #expect(manifest.inputs.map(\.type) == [.text, .select] && manifest.inputs[0].required)
        #expect(manifest.runFrequency.runsPerMonth == 310)
        let code = try AgentManifest(yaml: Self.code)
        #expect(code.kind == .code(runtime: .python3, entrypoint: "main.py") && code.owner == "a@example.com")
    }

    /// The fields a manifest cannot do without, each removed in turn.
    static let required = [
        "name", "version", "title", "description", "department", "skills", "kind", "models", "data_classification",
        "caps", "run_frequency", "changelog",
    ]

    @Test(arguments: required) func everyRequiredFieldIsReportedWhenMissing(field: String) {
        let yaml = Self.without(field, in: Self.declarative)
        #expect {
            _ = try AgentManifest(yaml: yaml)
        } throws: { error in
            guard let problems = (error as? ManifestError)?.problems else { return false }
            return problems.contains { $0.path == field && $0.reason.hasPrefix("is required") }
        }
    }

    @Test func everyProblemIsReportedAtOnce() {
        let yaml = """
            name: Bad Name
            version: 1.0
            title: ""
            description: ok
            department: Ops
            tags: [ok, ok]
            skills: [{id: s, name: S, description: d, extra: 1}]
            kind: declarative
            declarative: {system_prompt: p, model: sim/other, tools: [slack.write], max_steps: 99}
            models: [sim/openai-small]
            data_classification: secret
            caps: {run: "2", day: "1"}
            run_frequency: {runs: 0, per: fortnight}
            changelog: []
            colour: blue
            """
        #expect {
            _ = try AgentManifest(yaml: yaml)
        } throws: { error in
            let paths = Set((error as? ManifestError)?.problems.map(\.path) ?? [])
            return paths.isSuperset(of: [
                "name", "version", "title", "tags[1]", "skills[0].extra", "declarative.model", "declarative.tools[0]",
                "declarative.max_steps", "data_classification", "caps.day", "run_frequency.runs", "run_frequency.per",
                "colour",
            ])
        }
    }

    static let refused: [(String, String, String)] = [
        ("version: 0.1.0", "version: 01.0.0", "version"),
        ("version: 0.1.0", "version: 1.0.0+build", "version"),
        ("kind: declarative", "kind: workflow", "kind"),
        ("  max_steps: 4", "  max_steps: 0", "declarative.max_steps"),
        ("    type: text", "    type: file", "inputs[0].type"),
        ("    options: [neutral, friendly, formal]", "    options: []", "inputs[1].options"),
        ("    type: text", "    type: text\n    options: [a]", "inputs[0].options"),
        ("  - name: tone", "  - name: notes", "inputs[1]"),
        ("    required: true", "    required: maybe", "inputs[0].required"),
        ("  run: \"0.05\"", "  run: 0.05.1", "caps.run"),
        ("  run: \"0.05\"", "  run: \"5\"", "caps.day"),
        ("  run: \"0.05\"", "  run: \"0\"", "caps.run"),
        ("  run: \"0.05\"\n  day: \"1\"", "  run: \"20\"", "caps.month"),
        ("models: [sim/openai-small]", "models: []", "models"),
        ("models: [sim/openai-small]", "models: [sim/openai-small, 'sim/*']", "models[1]"),
        ("tools: []", "tools: [{name: slack}]", "tools[0].scopes"),
        ("tools: []", "tools: [{name: slack, scopes: ['chat write']}]", "tools[0].scopes[0]"),
        ("  - version: 0.1.0", "  - version: 0.0.9", "changelog"),
        ("title: Meeting notes summarizer", "title: \"line\\nbreak\"", "title"),
        ("department: Operations", "department: [Ops]", "department"),
        (
            "data_classification: internal",
            "data_classification: internal\ncode: {runtime: python3, entrypoint: m.py}", "code"
        ),
    ]

    @Test(arguments: refused) func badValuesAreReportedWithTheirPath(from: String, to: String, path: String) {
        let yaml = Self.declarative.replacingOccurrences(of: from, with: to)
        #expect(yaml != Self.declarative, "the test's replacement did not apply")
        #expect {
            _ = try AgentManifest(yaml: yaml)
        } throws: { error in
            (error as? ManifestError)?.problems.contains { $0.path == path } == true
        }
    }

    @Test(arguments: ["/etc/passwd", "../x.py", "a/../b.py", "a//b.py", "./m.py", "a\\b.py", "c:m.py", ""])
    func entrypointsMustStayInsideThePackage(entrypoint: String) {
        let yaml = Self.code.replacingOccurrences(of: "entrypoint: main.py", with: "entrypoint: '\(entrypoint)'")
        #expect(throws: ManifestError.self) { _ = try AgentManifest(yaml: yaml) }
    }

    @Test func notYAMLOrTooBigIsOneProblem() {
        for yaml in ["", "name: [", "- a list", String(repeating: "#", count: 300 << 10)] {
            #expect {
                _ = try AgentManifest(yaml: yaml)
            } throws: { error in
                (error as? ManifestError)?.problems.count == 1
            }
        }
    }

    @Test func versionsOrderBySemverPrecedence() throws {
        let ordered = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "1.0.1", "1.10.0", "2.0.0",
        ].map { SemanticVersion($0)! }
        #expect(ordered == ordered.sorted())
        #expect(ordered.map(\.description).first == "1.0.0-alpha")
        for bad in ["1.0", "1.0.0.0", "v1.0.0", "1.0.0-", "1.0.0-01", "1.0.0-a..b", "-1.0.0", "1.0.0-é"] {
            #expect(SemanticVersion(bad) == nil, "\(bad)")
        }
    }

    /// `yaml` without the top-level `field` and the lines indented under it.
    static func without(_ field: String, in yaml: String) -> String {
        var lines: [Substring] = []
        var skipping = false
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("\(field):") {
                skipping = true
                continue
            }
            if skipping, line.hasPrefix(" ") || line.hasPrefix("-") { continue }
            skipping = false
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
