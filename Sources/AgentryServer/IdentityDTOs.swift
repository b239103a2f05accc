import AgentryIdentity
import Foundation

/// A user as the API shows it.
struct UserView: Encodable, Sendable {
    let id: String
    let email: String
    let displayName: String
    let team: String?
    let teamId: String?
    let roles: [String]
    let disabled: Bool
    let createdAt: Date
    let updatedAt: Date

    init(_ user: User, teamName: String?) {
        id = user.id
        email = user.email.value
        displayName = user.displayName
        team = teamName
        teamId = user.teamID
        roles = user.roles.sorted().map(\.rawValue)
        disabled = !user.isActive
        createdAt = user.createdAt
        updatedAt = user.updatedAt
    }
}

/// A team as the API shows it.
struct TeamView: Encodable, Sendable {
    let id: String
    let name: String
    let department: String
    let createdAt: Date
    let updatedAt: Date

    init(_ team: Team) {
        id = team.id
        name = team.name
        department = team.department
        createdAt = team.createdAt
        updatedAt = team.updatedAt
    }
}

/// A token as the API shows it: never the secret, except once in `CreatedTokenView`.
struct TokenView: Encodable, Sendable {
    let id: String
    let kind: String
    let userId: String
    let name: String
    let hint: String
    let createdAt: Date
    let expiresAt: Date?
    let revokedAt: Date?

    init(_ token: TokenRecord) {
        id = token.id
        kind = token.kind.rawValue
        userId = token.userID
        name = token.name
        hint = token.hint
        createdAt = token.createdAt
        expiresAt = token.expiresAt
        revokedAt = token.revokedAt
    }
}

/// The answer to creating a token: its record and the secret, shown this once.
struct CreatedTokenView: Encodable, Sendable {
    let token: String
    let record: TokenView
}

/// `POST /api/v1/teams`.
struct CreateTeamBody: ClosedJSONBody {
    static let fields = ["name", "department"]
    let name: String
    let department: String
}

/// `PATCH /api/v1/teams/{id}`.
struct UpdateTeamBody: ClosedJSONBody {
    static let fields = ["name", "department"]
    let name: String?
    let department: String?
}

/// `POST /api/v1/users`.
struct CreateUserBody: ClosedJSONBody {
    static let fields = ["email", "display_name", "team", "roles"]
    let email: String
    let displayName: String
    let team: String?
    let roles: [String]?

    enum CodingKeys: String, CodingKey {
        case email, team, roles
        case displayName = "display_name"
    }
}

/// `PATCH /api/v1/users/{id}`; `"team": null` removes the user from its team.
struct UpdateUserBody: ClosedJSONBody {
    static let fields = ["display_name", "team", "roles", "disabled"]
    let displayName: String?
    let team: String??
    let roles: [String]?
    let disabled: Bool?

    enum CodingKeys: String, CodingKey {
        case team, roles, disabled
        case displayName = "display_name"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
        roles = try container.decodeIfPresent([String].self, forKey: .roles)
        disabled = try container.decodeIfPresent(Bool.self, forKey: .disabled)
        if container.contains(.team) {
            team = .some(
                try container.decodeNil(forKey: .team) ? nil : try container.decode(String.self, forKey: .team))
        } else {
            team = .none
        }
    }

    /// Whether anything besides the display name would change.
    var changesMoreThanName: Bool { team != nil || roles != nil || disabled != nil }
}

/// `POST /api/v1/tokens`.
struct CreateTokenBody: ClosedJSONBody {
    static let fields = ["name", "expires_in_days", "kind"]
    let name: String
    let expiresInDays: Int?
    /// `pat` (the default) or `sandbox` (a key for the model gateway).
    let kind: String?

    enum CodingKeys: String, CodingKey {
        case name
        case expiresInDays = "expires_in_days"
        case kind
    }
}
