import AgentryLedger
import AgentryPolicy
import Yams

extension AgentManifest {
    static func skill(_ node: Node, at path: String, _ reader: inout ManifestReader) -> AgentSkill? {
        guard let fields = reader.fields(node, at: path, allowed: ["id", "name", "description", "examples"]) else {
            return nil
        }
        let id = reader.text(fields, "id", max: 200).flatMap { reader.slug($0, at: "\(path).id", range: 1...64) }
        let name = reader.text(fields, "name", max: RegistryLimits.shortTextCharactersMax)
        let description = reader.text(fields, "description", max: RegistryLimits.mediumTextCharactersMax, lines: true)
        let examples = reader.list(fields, "examples", max: RegistryLimits.examplesMax, required: false).enumerated()
            .compactMap { index, node -> String? in
                guard let text = node.scalar?.string else {
                    reader.note("\(path).examples[\(index)]", "must be text")
                    return nil
                }
                return reader.checked(
                    text, at: "\(path).examples[\(index)]", max: RegistryLimits.mediumTextCharactersMax, lines: true)
            }
        guard let id, let name, let description else { return nil }
        return AgentSkill(id: id, name: name, description: description, examples: examples)
    }

    static func input(_ node: Node, at path: String, _ reader: inout ManifestReader) -> AgentInput? {
        guard
            let fields = reader.fields(
                node, at: path, allowed: ["name", "label", "type", "required", "description", "options"])
        else { return nil }
        let name = reader.text(fields, "name", max: 200).flatMap { text -> String? in
            let bytes = Array(text.utf8)
            let valid =
                (1...64).contains(bytes.count) && bytes.first.map { (0x61...0x7A).contains($0) } == true
                && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
            if !valid {
                reader.note("\(path).name", "must be 1–64 characters of a–z, 0–9 and _, starting with a letter")
            }
            return valid ? text : nil
        }
        let label = reader.text(fields, "label", max: RegistryLimits.shortTextCharactersMax)
        let type = reader.attempt { () throws(FieldProblem) in try fields.word("type", as: AgentInput.FieldType.self) }
        var required = false
        if let node = fields.node("required") {
            if let flag = node.bool {
                required = flag
            } else {
                reader.note("\(path).required", "must be true or false")
            }
        }
        let description = reader.text(
            fields, "description", max: RegistryLimits.mediumTextCharactersMax, lines: true, required: false)
        let options = reader.list(fields, "options", max: 100, required: false).enumerated().compactMap {
            index, node -> String? in
            guard let text = node.scalar?.string else {
                reader.note("\(path).options[\(index)]", "must be text")
                return nil
            }
            return reader.checked(text, at: "\(path).options[\(index)]", max: RegistryLimits.shortTextCharactersMax)
        }
        reader.unique(options, at: "\(path).options")
        if type == .select, options.isEmpty, !reader.problems.contains(where: { $0.path.hasPrefix("\(path).options") })
        {
            reader.note("\(path).options", "is required for a select field: at least one choice")
        }
        if let type, type != .select, fields.has("options") {
            reader.note("\(path).options", "belongs to select fields only, not \(type.rawValue)")
        }
        guard let name, let label, let type else { return nil }
        return AgentInput(
            name: name, label: label, type: type, required: required, description: description, options: options)
    }

    static func tool(_ node: Node, at path: String, _ reader: inout ManifestReader) -> RequestedTool? {
        guard let fields = reader.fields(node, at: path, allowed: ["name", "scopes"]) else { return nil }
        let name = reader.text(fields, "name", max: 200).flatMap { reader.slug($0, at: "\(path).name", range: 1...64) }
        let scopes = reader.list(fields, "scopes", max: RegistryLimits.scopesMax, required: true).enumerated()
            .compactMap { index, node -> String? in
                guard let text = node.scalar?.string, NamePattern(text) != nil, !text.contains("*") else {
                    reader.note("\(path).scopes[\(index)]", "must be a scope name without spaces or *")
                    return nil
                }
                return text
            }
        reader.unique(scopes, at: "\(path).scopes")
        guard let name else { return nil }
        return RequestedTool(name: name, scopes: scopes)
    }

    static func kind(_ top: YAMLFields, models: [String], tools: [RequestedTool], _ reader: inout ManifestReader)
        -> AgentKind?
    {
        guard let kind = reader.text(top, "kind", max: 200) else { return nil }
        let other = kind == "declarative" ? "code" : "declarative"
        if top.has(other), kind == "declarative" || kind == "code" {
            reader.note(other, "belongs to \(other) agents; this one is \(kind)")
        }
        switch kind {
        case "declarative":
            guard let node = top.node("declarative") else {
                reader.note(
                    "declarative", "is required for a declarative agent: system_prompt, model, tools, max_steps")
                return nil
            }
            return declarative(node, models: models, tools: tools, &reader)
        case "code":
            guard let node = top.node("code") else {
                reader.note("code", "is required for a code agent: runtime and entrypoint")
                return nil
            }
            guard let fields = reader.fields(node, at: "code", allowed: ["runtime", "entrypoint"]) else { return nil }
            let runtime = reader.attempt { () throws(FieldProblem) in try fields.word("runtime", as: CodeRuntime.self) }
            let entrypoint = reader.text(fields, "entrypoint", max: 255).flatMap { path -> String? in
                guard PackagePath.isSafe(path) else {
                    reader.note("code.entrypoint", "must be a relative path inside the package, without .. or /")
                    return nil
                }
                return path
            }
            guard let runtime, let entrypoint else { return nil }
            return .code(runtime: runtime, entrypoint: entrypoint)
        default:
            reader.note("kind", "must be one of declarative, code, not '\(kind)'")
            return nil
        }
    }

    private static func declarative(
        _ node: Node, models: [String], tools: [RequestedTool], _ reader: inout ManifestReader
    ) -> AgentKind? {
        guard
            let fields = reader.fields(
                node, at: "declarative", allowed: ["system_prompt", "model", "tools", "max_steps"])
        else { return nil }
        let prompt = reader.text(fields, "system_prompt", max: RegistryLimits.systemPromptCharactersMax, lines: true)
        let model = reader.text(fields, "model", max: 200)
        if let model, !models.contains(model) {
            reader.note("declarative.model", "'\(model)' must also be listed in models")
        }
        let names = reader.list(fields, "tools", max: RegistryLimits.toolsMax, required: false).enumerated()
            .compactMap { index, node -> String? in
                let path = "declarative.tools[\(index)]"
                guard let text = node.scalar?.string else {
                    reader.note(path, "must be a tool name, or tool.scope")
                    return nil
                }
                let tool = String(text.prefix { $0 != "." })
                guard let requested = tools.first(where: { $0.name == tool }) else {
                    reader.note(path, "'\(tool)' must also be listed in tools")
                    return nil
                }
                if text.contains("."), !requested.scopes.contains(String(text.drop { $0 != "." }.dropFirst())) {
                    reader.note(path, "'\(text)' names a scope the tools entry of \(tool) does not request")
                }
                return text
            }
        let steps = reader.attempt { () throws(FieldProblem) in try fields.integer("max_steps", of: "steps") }
        if let steps, !(1...Int64(RegistryLimits.maxStepsMax)).contains(steps) {
            reader.note("declarative.max_steps", "must be from 1 to \(RegistryLimits.maxStepsMax)")
        }
        guard let prompt, let model, let steps, (1...Int64(RegistryLimits.maxStepsMax)).contains(steps) else {
            return nil
        }
        return .declarative(systemPrompt: prompt, model: model, tools: names, maxSteps: Int(steps))
    }

    static func caps(_ top: YAMLFields, _ reader: inout ManifestReader) -> RequestedCaps? {
        guard let node = top.node("caps") else {
            reader.note("caps", "is required: run (and optionally day and month) in dollars, like \"0.50\"")
            return nil
        }
        guard let fields = reader.fields(node, at: "caps", allowed: ["run", "day", "month"]) else { return nil }
        let run = reader.dollars(fields, "run", required: true)
        let day = reader.dollars(fields, "day", required: false)
        let month = reader.dollars(fields, "month", required: false)
        if let run, run == .zero {
            reader.note("caps.run", "must be above $0: a run that may cost nothing cannot call a model")
        }
        if let run, let day, day < run { reader.note("caps.day", "must be at least the run cap") }
        if let month, let floor = day ?? run, month < floor {
            reader.note("caps.month", "must be at least the \(day == nil ? "run" : "day") cap")
        }
        guard let run else { return nil }
        return RequestedCaps(run: run, day: day, month: month)
    }

    static func runFrequency(_ top: YAMLFields, _ reader: inout ManifestReader) -> RunFrequency? {
        guard let node = top.node("run_frequency") else {
            reader.note("run_frequency", "is required: runs and per (day, week or month), e.g. {runs: 20, per: day}")
            return nil
        }
        guard let fields = reader.fields(node, at: "run_frequency", allowed: ["runs", "per"]) else { return nil }
        let runs = reader.attempt { () throws(FieldProblem) in try fields.integer("runs", of: "runs") }
        if let runs, !(1...RegistryLimits.runsMax).contains(runs) {
            reader.note("run_frequency.runs", "must be from 1 to \(RegistryLimits.runsMax)")
        }
        let per = reader.attempt { () throws(FieldProblem) in try fields.word("per", as: RunFrequency.Period.self) }
        guard let runs, let per, (1...RegistryLimits.runsMax).contains(runs) else { return nil }
        return RunFrequency(runs: runs, per: per)
    }

    static func changelog(_ top: YAMLFields, version: SemanticVersion?, _ reader: inout ManifestReader)
        -> [ChangelogEntry]
    {
        let entries = reader.list(top, "changelog", max: RegistryLimits.changelogMax, required: true).enumerated()
            .compactMap { index, node -> ChangelogEntry? in
                let path = "changelog[\(index)]"
                guard let fields = reader.fields(node, at: path, allowed: ["version", "changes"]) else { return nil }
                let text = reader.text(fields, "version", max: 200)
                let parsed = text.flatMap(SemanticVersion.init)
                if let text, parsed == nil {
                    reader.note("\(path).version", "must be a semantic version, not '\(text)'")
                }
                let changes = reader.text(fields, "changes", max: RegistryLimits.mediumTextCharactersMax, lines: true)
                guard let parsed, let changes else { return nil }
                return ChangelogEntry(version: parsed, changes: changes)
            }
        reader.unique(entries.map(\.version.description), at: "changelog")
        if let version, top.has("changelog"), !entries.contains(where: { $0.version == version }),
            !reader.problems.contains(where: { $0.path.hasPrefix("changelog") })
        {
            reader.note("changelog", "needs an entry for version \(version): what changed")
        }
        return entries
    }
}
