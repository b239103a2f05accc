import struct Foundation.Date

/// A group of users that spend and own agents together, e.g. `finance` in the Finance department.
public struct Team: Equatable, Sendable {
    /// Random identifier, `team_…`.
    public var id: String
    /// Unique short name used in scopes such as `team:finance`.
    public var name: String
    /// The department the team belongs to, used by catalog search and policy.
    public var department: String
    /// When the team was created.
    public var createdAt: Date
    /// When the team last changed.
    public var updatedAt: Date

    /// Creates a team value; validation happens in `IdentityService`.
    public init(id: String, name: String, department: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.department = department
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
