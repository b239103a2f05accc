import AgentryLedger
import AgentryPolicy
import Yams

/// Every problem of a manifest, each with its field path, in the order the fields are read.
public struct ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    public let problems: [FieldProblem]

    /// The problems, one per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

extension AgentManifest {
    /// The top-level fields of `agent.yaml`.
    public static let fields = [
        "name", "version", "title", "description", "department", "tags", "owner", "skills", "inputs", "kind",
        "declarative", "code", "models", "tools", "data_classification", "caps", "run_frequency", "changelog",
    ]

    /// Reads and checks `agent.yaml`; throws every problem found, each with its path.
    public init(yaml text: String) throws(ManifestError) {
        guard text.utf8.count <= RegistryLimits.manifestBytesMax else {
            throw ManifestError(problems: [
                FieldProblem(path: "(file)", reason: "is over \(RegistryLimits.manifestBytesMax) bytes")
            ])
        }
        var reader = ManifestReader()
        let root = reader.attempt { () throws(FieldProblem) in
            try YAMLFields.root(of: text, needs: "the fields of docs/agents.md")
        }
        guard let root, let top = reader.fields(root, at: "(file)", allowed: Self.fields) else {
            throw ManifestError(problems: reader.problems)
        }
        let manifest = Self.read(top, &reader)
        guard let manifest, reader.problems.isEmpty else { throw ManifestError(problems: reader.problems) }
        self = manifest
    }

    private static func read(_ top: YAMLFields, _ reader: inout ManifestReader) -> AgentManifest? {
        let name = reader.text(top, "name", max: 200).flatMap {
            reader.slug($0, at: "name", range: RegistryLimits.nameCharacters)
        }
        let version = reader.text(top, "version", max: 200).flatMap { text in
            let parsed = SemanticVersion(text)
            if parsed == nil { reader.note("version", "must be an exact semantic version like 1.0.0, not '\(text)'") }
            return parsed
        }
        let title = reader.text(top, "title", max: RegistryLimits.titleCharactersMax)
        let description = reader.text(top, "description", max: RegistryLimits.descriptionCharactersMax, lines: true)
        let department = reader.text(top, "department", max: RegistryLimits.shortTextCharactersMax)
        let tags = tagList(top, &reader)
        let owner = reader.text(top, "owner", max: 254, required: false)
        if let owner, !owner.contains("@") { reader.note("owner", "must be the owner's email address") }
        let skills = reader.list(top, "skills", max: RegistryLimits.skillsMax, required: true).enumerated().compactMap {
            skill($1, at: "skills[\($0)]", &reader)
        }
        if top.has("skills"), skills.isEmpty, reader.problems.allSatisfy({ !$0.path.hasPrefix("skills") }) {
            reader.note("skills", "must list at least one skill: what the agent can do")
        }
        reader.unique(skills.map(\.id), at: "skills")
        let inputs = reader.list(top, "inputs", max: RegistryLimits.inputsMax, required: false).enumerated()
            .compactMap { input($1, at: "inputs[\($0)]", &reader) }
        reader.unique(inputs.map(\.name), at: "inputs")
        let models = modelList(top, &reader)
        let tools = reader.list(top, "tools", max: RegistryLimits.toolsMax, required: false).enumerated().compactMap {
            tool($1, at: "tools[\($0)]", &reader)
        }
        reader.unique(tools.map(\.name), at: "tools")
        let kind = self.kind(top, models: models ?? [], tools: tools, &reader)
        let classification = reader.attempt { () throws(FieldProblem) in
            try top.word("data_classification", as: DataClassification.self)
        }
        let caps = self.caps(top, &reader)
        let frequency = runFrequency(top, &reader)
        let changelog = self.changelog(top, version: version, &reader)
        guard let name, let version, let title, let description, let department, let models, let kind,
            let classification, let caps, let frequency
        else { return nil }
        return AgentManifest(
            name: name, version: version, title: title, description: description, department: department, tags: tags,
            owner: owner, skills: skills, inputs: inputs, kind: kind, models: models, tools: tools,
            dataClassification: classification, caps: caps, runFrequency: frequency, changelog: changelog)
    }

    private static func tagList(_ top: YAMLFields, _ reader: inout ManifestReader) -> [String] {
        let tags = reader.list(top, "tags", max: RegistryLimits.tagsMax, required: false).enumerated().compactMap {
            index, node -> String? in
            guard let text = node.scalar?.string else {
                reader.note("tags[\(index)]", "must be text")
                return nil
            }
            return reader.slug(text, at: "tags[\(index)]", range: 1...40)
        }
        reader.unique(tags, at: "tags")
        return tags
    }

    private static func modelList(_ top: YAMLFields, _ reader: inout ManifestReader) -> [String]? {
        let nodes = reader.list(top, "models", max: RegistryLimits.modelsMax, required: true)
        guard top.has("models") else { return nil }
        let models = nodes.enumerated().compactMap { index, node -> String? in
            guard let text = node.scalar?.string, NamePattern(text) != nil, !text.hasSuffix("*") else {
                reader.note("models[\(index)]", "must be a catalog model name")
                return nil
            }
            return text
        }
        if nodes.isEmpty, top.node("models")?.sequence != nil {
            reader.note("models", "must name at least one catalog model")
        }
        reader.unique(models, at: "models")
        return models
    }
}
