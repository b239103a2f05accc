import PostgresNIO

/// Classifies PostgresNIO errors (SQLSTATE) and renders them without SQL text or credentials.
enum PostgresErrors {
    /// The probe took too long.
    struct Timeout: Error, CustomStringConvertible {
        let after: Duration
        var description: String { "no answer within \(after)" }
    }

    /// SQLSTATE 23505.
    static let uniqueViolation = "23505"
    /// SQLSTATE 23503.
    static let foreignKeyViolation = "23503"

    /// Runs `body`, replacing a transaction wrapper by the error its closure threw.
    static func unwrapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// A one-line reason: the server's message or the connection failure, never the query or its binds.
    static func describe(_ error: any Error) -> String {
        if let timeout = error as? Timeout { return timeout.description }
        guard let error = error as? PSQLError else { return String(describing: type(of: error)) }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return String(describing: underlying) }
        return error.code.description
    }
}
