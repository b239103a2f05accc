import AgentryPolicy

extension SubmissionFacts {
    /// What the approval criteria judge of `manifest`.
    public init(_ manifest: AgentManifest) {
        self.init(
            department: manifest.department, dataClassification: manifest.dataClassification, models: manifest.models,
            tools: Dictionary(manifest.tools.map { ($0.name, $0.scopes) }, uniquingKeysWith: { first, _ in first }),
            runCap: manifest.caps.run, dayCap: manifest.caps.day, monthCap: manifest.caps.month,
            runsPerMonth: manifest.runFrequency.runsPerMonth)
    }
}
