/// A failure the CLI reports as one line on standard error before exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    /// What went wrong and how to fix it.
    let description: String

    /// Creates the error with its message.
    init(_ description: String) { self.description = description }
}
