/// Limits on what a builder may declare and upload, each with the reason it exists.
public enum RegistryLimits {
    /// An agent name: long enough to say what it does, short enough for URLs and audit subjects.
    public static let nameCharacters = 3...64
    /// A title shown in the catalog.
    public static let titleCharactersMax = 100
    /// A description searched and shown in the catalog.
    public static let descriptionCharactersMax = 4000
    /// Tags, skills and inputs: enough for any real agent, bounded so a manifest stays readable.
    public static let tagsMax = 20
    public static let skillsMax = 50
    public static let inputsMax = 40
    public static let examplesMax = 10
    /// A short text field: tag, skill id, department, scope, label.
    public static let shortTextCharactersMax = 100
    /// A skill description, an example, an input description, a changelog entry.
    public static let mediumTextCharactersMax = 2000
    /// A system prompt: large prompts are normal, but not megabytes.
    public static let systemPromptCharactersMax = 100_000
    /// Steps of the declarative loop: each is a model call, so the bound limits cost as well.
    public static let maxStepsMax = 50
    /// Models and tools requested.
    public static let modelsMax = 20
    public static let toolsMax = 50
    public static let scopesMax = 50
    /// Runs per period a builder may project (a million a day is beyond any agent here).
    public static let runsMax: Int64 = 1_000_000
    public static let changelogMax = 500
    /// The largest `agent.yaml`.
    public static let manifestBytesMax = 256 << 10
}

extension RegistryLimits {
    /// The largest package upload: agent code and prompts, not datasets or models.
    public static let packageBytesMax = 20 << 20
    /// Entries in a package: far more than any agent needs, far fewer than a denial of service.
    public static let packageEntriesMax = 2000
    /// All files of a package, unpacked: bounds what a zip bomb can make us allocate.
    public static let unpackedBytesMax = 64 << 20
}
