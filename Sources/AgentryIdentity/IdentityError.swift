/// Operating errors of identity: each has a stable snake_case code that clients may switch on.
public enum IdentityError: Error, Equatable, Sendable {
    /// A field failed validation; `field` is its JSON name.
    case invalidField(field: String, reason: String)
    /// An email address is not usable.
    case invalidEmail(reason: String)
    /// Another user already has this email address.
    case emailTaken(String)
    /// Another team already has this name.
    case teamNameTaken(String)
    /// No user has this id or email.
    case userNotFound(String)
    /// No team has this id or name.
    case teamNotFound(String)
    /// No token has this id (or it belongs to someone else).
    case tokenNotFound(String)
    /// The change would leave the organisation without an active admin.
    case lastAdmin

    /// The stable code written into error bodies and documented in docs/api/errors.md.
    public var code: String {
        switch self {
        case .invalidField: "invalid_field"
        case .invalidEmail: "invalid_email"
        case .emailTaken: "email_taken"
        case .teamNameTaken: "team_name_taken"
        case .userNotFound: "user_not_found"
        case .teamNotFound: "team_not_found"
        case .tokenNotFound: "token_not_found"
        case .lastAdmin: "last_admin"
        }
    }

    /// A sentence for humans that says what went wrong and, where useful, what to do.
    public var message: String {
        switch self {
        case .invalidField(let field, let reason): "field '\(field)' is invalid: \(reason)"
        case .invalidEmail(let reason): "email address is invalid: \(reason)"
        case .emailTaken(let email): "a user with email '\(email)' already exists"
        case .teamNameTaken(let name): "a team named '\(name)' already exists"
        case .userNotFound(let key): "no user '\(key)'"
        case .teamNotFound(let key): "no team '\(key)'"
        case .tokenNotFound(let key): "no token '\(key)' of yours"
        case .lastAdmin: "this change would leave no active admin; make another user admin first"
        }
    }
}
