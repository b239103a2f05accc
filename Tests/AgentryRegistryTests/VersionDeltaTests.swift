import AgentryLedger
import AgentryRegistry
import Testing

/// The delta a reviewer of an update reads, and which changes raise the risk.
@Suite struct VersionDeltaTests {
    static let base = AgentTemplate.files(name: "notes", kind: "declarative", owner: nil)[0].text
    static let files = [AgentPackage.File(path: "agent.yaml", size: 1, sha256: String(repeating: "a", count: 64))]

    static func manifest(_ replacements: [(String, String)], version: String = "0.2.0") throws -> AgentManifest {
        var text = base.replacingOccurrences(of: "0.1.0", with: version)
        for (from, to) in replacements { text = text.replacingOccurrences(of: from, with: to) }
        return try AgentManifest(yaml: text)
    }

    static func delta(_ replacements: [(String, String)], files new: [AgentPackage.File] = files) throws -> VersionDelta
    {
        VersionDelta(from: try manifest([], version: "0.1.0"), files: files, to: try manifest(replacements), files: new)
    }

    @Test func aPromptEditAloneRaisesNoRisk() throws {
        let delta = try Self.delta([("Keep names as written in the notes.", "Keep names exactly as written.")])
        #expect(!delta.raisesRisk && delta.from == "0.1.0" && delta.to == "0.2.0")
        #expect(delta.promptDiff.contains("- \"Action items:\" as bullet lists. Keep names as written in the notes."))
        #expect(delta.promptDiff.contains("+ \"Action items:\" as bullet lists. Keep names exactly as written."))
        #expect(
            delta.promptDiff.first
                == "  You summarize meeting notes. Answer with a five-line summary, then \"Decisions:\" and")
    }

    static let risky: [([(String, String)], String)] = [
        ([("tools: []\ndata", "tools: [{name: slack, scopes: [chat.write]}]\ndata")], "adds tools or scopes: slack"),
        (
            [("models: [sim/openai-small]", "models: [sim/openai-small, sim/anthropic-small]")],
            "adds models: sim/anthropic-small"
        ),
        ([("  run: \"0.05\"", "  run: \"0.06\"")], "raises the run cap"),
        ([("  month: \"10\"\n", "")], "raises the month cap"),
        ([("data_classification: internal", "data_classification: confidential")], "handles more sensitive data"),
        ([("  max_steps: 4", "  max_steps: 6")], "allows more steps per run"),
    ]

    @Test(arguments: risky) func whatRaisesTheRiskIsNamed(replacements: [(String, String)], risk: String) throws {
        let delta = try Self.delta(replacements)
        #expect(delta.raisesRisk && delta.risks.contains(risk), "\(delta.risks)")
    }

    @Test func lowerCapsAndFewerModelsAreNoRisk() throws {
        let delta = try Self.delta([("  day: \"1\"", "  day: \"0.5\""), ("  month: \"10\"", "  month: \"5\"")])
        #expect(!delta.raisesRisk)
        #expect(delta.changes.map(\.field) == ["caps.day", "caps.month"])
        #expect(delta.changes.first?.before == "$1.00" && delta.changes.first?.after == "$0.50")
    }

    @Test func scopesAndToolsAreSaidOnce() throws {
        let old = try Self.manifest(
            [("tools: []\ndata", "tools: [{name: slack, scopes: [read]}]\ndata")], version: "0.1.0")
        let new = try Self.manifest([
            ("tools: []\ndata", "tools: [{name: slack, scopes: [read, write]}, {name: drive, scopes: [list]}]\ndata")
        ])
        let delta = VersionDelta(from: old, files: Self.files, to: new, files: Self.files)
        #expect(delta.toolsAdded == ["slack.write", "drive"] && delta.toolsRemoved.isEmpty)
        let back = VersionDelta(from: new, files: Self.files, to: old, files: Self.files)
        #expect(back.toolsRemoved == ["slack.write", "drive"] && !back.raisesRisk)
    }

    @Test func changedCodeIsARisk() throws {
        let code = AgentTemplate.files(name: "notes", kind: "code", owner: nil)[0].text
        let old = try AgentManifest(yaml: code)
        let new = try AgentManifest(yaml: code.replacingOccurrences(of: "0.1.0", with: "0.2.0"))
        func file(_ path: String, _ hash: Character) -> AgentPackage.File {
            AgentPackage.File(path: path, size: 1, sha256: String(repeating: hash, count: 64))
        }
        let delta = VersionDelta(
            from: old, files: [file("agent.yaml", "a"), file("main.py", "b"), file("old.py", "c")], to: new,
            files: [file("agent.yaml", "d"), file("main.py", "e"), file("new.py", "f")])
        #expect(delta.filesAdded == ["new.py"] && delta.filesRemoved == ["old.py"])
        #expect(delta.filesChanged == ["agent.yaml", "main.py"])
        #expect(delta.risks == ["changes code: new.py, main.py"])
    }
}
