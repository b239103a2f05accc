/// A policy, catalog or manifest field that cannot be used, and where:
/// `models[2].prices.output: is required …`.
public struct FieldProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field, as a path into the document (`caps.day`, `skills[0].name`).
    public let path: String
    /// What is wrong with it, as a sentence fragment a person can act on.
    public let reason: String

    /// A problem at `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
