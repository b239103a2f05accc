/// One check of a store contract, run by the test targets against every `TestBackend`.
public struct ConformanceCase: Sendable, CustomStringConvertible {
    /// What the case checks, shown as the test's argument.
    public let name: String
    /// The check; it throws `ExpectationFailure` (or the store's error) when the contract is broken.
    public let run: @Sendable (TestBackend) async throws -> Void

    /// Creates a case.
    public init(_ name: String, _ run: @escaping @Sendable (TestBackend) async throws -> Void) {
        self.name = name
        self.run = run
    }

    /// The case's name.
    public var description: String { name }
}
