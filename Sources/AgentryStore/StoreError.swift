/// Operating errors of a store itself (as opposed to the domain errors its operations throw).
public enum StoreError: Error, Equatable, Sendable {
    /// The database cannot be reached or opened; `reason` says why, without credentials.
    case unavailable(reason: String)
    /// The database was migrated by a newer Agentry than this one.
    case schemaTooNew(database: Int, binary: Int)
    /// A recorded migration's name differs from this binary's migration of the same version.
    case schemaMismatch(version: Int, name: String)
    /// A stored row holds a value this build cannot read.
    case corrupt(String)

    /// A sentence that says what is wrong and what to do.
    public var message: String {
        switch self {
        case .unavailable(let reason): "database unavailable: \(reason)"
        case .schemaTooNew(let database, let binary):
            "the database schema is at version \(database) but this agentry knows only up to \(binary); upgrade agentry"
        case .schemaMismatch(let version, let name):
            "migration \(version) is recorded as '\(name)', which this agentry does not know; the database belongs to a different build"
        case .corrupt(let what): "the database holds a value this agentry cannot read: \(what)"
        }
    }
}
