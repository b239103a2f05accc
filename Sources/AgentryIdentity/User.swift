import struct Foundation.Date

/// A person who uses Agentry: builds, runs, reviews, audits or pays for agents.
public struct User: Equatable, Sendable {
    /// Random identifier, `usr_…`.
    public var id: String
    /// The unique, normalised email address the person signs in with.
    public var email: EmailAddress
    /// The name shown next to the agents the person owns.
    public var displayName: String
    /// The team the person belongs to, if any.
    public var teamID: String?
    /// The roles the person holds; always contains `member`.
    public var roles: Set<Role>
    /// When the user was created.
    public var createdAt: Date
    /// When the user last changed.
    public var updatedAt: Date
    /// When an admin disabled the user; a disabled user cannot authenticate.
    public var disabledAt: Date?

    /// Creates a user value; validation happens in `IdentityService`.
    public init(
        id: String, email: EmailAddress, displayName: String, teamID: String?, roles: Set<Role>,
        createdAt: Date, updatedAt: Date, disabledAt: Date? = nil
    ) {
        self.id = id
        self.email = email
        self.displayName = displayName
        self.teamID = teamID
        self.roles = roles
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.disabledAt = disabledAt
    }

    /// Whether the user holds `role`.
    public func has(_ role: Role) -> Bool { roles.contains(role) }

    /// Whether the user may act at all.
    public var isActive: Bool { disabledAt == nil }
}
