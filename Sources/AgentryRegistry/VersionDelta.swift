import AgentryLedger
import AgentryPolicy

/// What changed between the published version of an agent and a new one, in the fields that
/// govern it: what a reviewer of an update reads instead of the whole manifest, and what the
/// approval policy uses to route only risk-raising updates to a human.
public struct VersionDelta: Equatable, Sendable {
    /// One field's value before and after, as text.
    public struct Change: Equatable, Sendable {
        public let field: String
        public let before: String
        public let after: String
    }

    public let from: String
    public let to: String
    public var modelsAdded: [String] = []
    public var modelsRemoved: [String] = []
    /// `tool` for a new tool, `tool.scope` for a new scope of a tool already there.
    public var toolsAdded: [String] = []
    public var toolsRemoved: [String] = []
    /// Caps, data classification, kind, runtime, entrypoint, model of a declarative agent.
    public var changes: [Change] = []
    /// The system prompt's lines, `+ ` added, `- ` removed, `  ` kept (declarative agents).
    public var promptDiff: [String] = []
    public var filesAdded: [String] = []
    public var filesRemoved: [String] = []
    /// Files whose SHA-256 differs.
    public var filesChanged: [String] = []
    /// Why the update raises the risk, one reason per line; empty when it does not.
    public var risks: [String] = []

    /// Whether a human must look: more models, tools or scopes, higher caps or classification,
    /// another kind or runtime, or changed code.
    public var raisesRisk: Bool { !risks.isEmpty }

    /// The delta from `old` (with its files) to `new`.
    public init(
        from old: AgentManifest, files oldFiles: [AgentPackage.File], to new: AgentManifest,
        files newFiles: [AgentPackage.File]
    ) {
        from = old.version.description
        to = new.version.description
        modelsAdded = new.models.filter { !old.models.contains($0) }
        modelsRemoved = old.models.filter { !new.models.contains($0) }
        (toolsAdded, toolsRemoved) = Self.tools(old.tools, new.tools)
        compareCaps(old.caps, new.caps)
        if old.dataClassification != new.dataClassification {
            changes.append(
                Change(
                    field: "data_classification", before: old.dataClassification.rawValue,
                    after: new.dataClassification.rawValue))
            if new.dataClassification > old.dataClassification { risks.append("handles more sensitive data") }
        }
        compareKinds(old.kind, new.kind)
        let oldHashes = Dictionary(oldFiles.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        let newHashes = Dictionary(newFiles.map { ($0.path, $0.sha256) }, uniquingKeysWith: { first, _ in first })
        filesAdded = newHashes.keys.filter { oldHashes[$0] == nil }.sorted()
        filesRemoved = oldHashes.keys.filter { newHashes[$0] == nil }.sorted()
        filesChanged = newHashes.filter { path, hash in oldHashes[path].map { $0 != hash } ?? false }.keys.sorted()
        if !modelsAdded.isEmpty { risks.append("adds models: \(modelsAdded.joined(separator: ", "))") }
        if !toolsAdded.isEmpty { risks.append("adds tools or scopes: \(toolsAdded.joined(separator: ", "))") }
        if case .code = new.kind {
            let code = (filesAdded + filesChanged).filter { $0 != "agent.yaml" }
            if !code.isEmpty { risks.append("changes code: \(code.joined(separator: ", "))") }
        }
    }

    private static func tools(_ old: [RequestedTool], _ new: [RequestedTool]) -> ([String], [String]) {
        func flat(_ tools: [RequestedTool]) -> [String] {
            tools.flatMap { tool in [tool.name] + tool.scopes.map { "\(tool.name).\($0)" } }
        }
        let (before, after) = (flat(old), flat(new))
        let added = after.filter { name in !before.contains(name) }
        let removed = before.filter { name in !after.contains(name) }
        // A scope of a tool that is itself new is said once, with the tool.
        func collapse(_ names: [String]) -> [String] {
            names.filter { name in !(name.contains(".") && names.contains(String(name.prefix { $0 != "." }))) }
        }
        return (collapse(added), collapse(removed))
    }

    private mutating func compareCaps(_ old: RequestedCaps, _ new: RequestedCaps) {
        for (window, before, after) in [
            ("run", Optional(old.run), Optional(new.run)), ("day", old.day, new.day), ("month", old.month, new.month),
        ] {
            guard before != after else { continue }
            changes.append(
                Change(
                    field: "caps.\(window)", before: before?.description ?? "none", after: after?.description ?? "none")
            )
            // No cap is the highest cap there is.
            let raised =
                switch (before, after) {
                case (let before?, let after?): after > before
                case (.some, nil): true
                case (nil, _): false
                }
            if raised { risks.append("raises the \(window) cap") }
        }
    }

    private mutating func compareKinds(_ old: AgentKind, _ new: AgentKind) {
        switch (old, new) {
        case (
            .declarative(let oldPrompt, let oldModel, _, let oldSteps),
            .declarative(let newPrompt, let newModel, _, let newSteps)
        ):
            if oldModel != newModel {
                changes.append(Change(field: "declarative.model", before: oldModel, after: newModel))
            }
            if oldSteps != newSteps {
                changes.append(Change(field: "declarative.max_steps", before: "\(oldSteps)", after: "\(newSteps)"))
                if newSteps > oldSteps { risks.append("allows more steps per run") }
            }
            if oldPrompt != newPrompt { promptDiff = LineDiff.lines(from: oldPrompt, to: newPrompt) }
        case (.code(let oldRuntime, let oldEntry), .code(let newRuntime, let newEntry)):
            if oldRuntime != newRuntime {
                changes.append(Change(field: "code.runtime", before: oldRuntime.rawValue, after: newRuntime.rawValue))
                risks.append("changes the runtime")
            }
            if oldEntry != newEntry {
                changes.append(Change(field: "code.entrypoint", before: oldEntry, after: newEntry))
            }
        case (.declarative, .code), (.code, .declarative):
            changes.append(Change(field: "kind", before: old.name, after: new.name))
            risks.append("changes from a \(old.name) to a \(new.name) agent")
        }
    }
}

/// A line diff by longest common subsequence: small inputs (prompts), exact output.
enum LineDiff {
    /// The most lines diffed; beyond it the texts are shown whole, removed then added.
    static let linesMax = 1000

    /// `- ` removed, `+ ` added and `  ` kept lines turning `old` into `new`.
    static func lines(from old: String, to new: String) -> [String] {
        let (a, b) = (
            old.split(separator: "\n", omittingEmptySubsequences: false),
            new.split(separator: "\n", omittingEmptySubsequences: false)
        )
        guard a.count <= linesMax, b.count <= linesMax else { return a.map { "- \($0)" } + b.map { "+ \($0)" } }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var (i, j, out) = (0, 0, [String]())
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                out.append("  \(a[i])")
                (i, j) = (i + 1, j + 1)
            } else if j < b.count, i == a.count || table[i][j + 1] >= table[i + 1][j] {
                out.append("+ \(b[j])")
                j += 1
            } else {
                out.append("- \(a[i])")
                i += 1
            }
        }
        return out
    }
}
