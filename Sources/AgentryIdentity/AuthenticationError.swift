/// Why a request could not be tied to a user; each maps to 401 with its own stable code.
public enum AuthenticationError: Error, Equatable, Sendable {
    /// No credential was presented.
    case missingCredential
    /// The credential is not a token Agentry issued (or not one it still knows).
    case invalidToken
    /// The token's expiry has passed.
    case tokenExpired
    /// The token was revoked.
    case tokenRevoked
    /// The token is of a kind this endpoint does not accept, e.g. a Sandbox key on the registry API.
    case wrongTokenKind(presented: TokenKind, accepted: [TokenKind])
    /// The user behind the credential is disabled.
    case userDisabled
    /// An identity header arrived from an address that is not a configured trusted proxy.
    case untrustedProxy(header: String)
    /// A trusted proxy's identity header does not hold a usable email address.
    case invalidIdentityHeader(header: String)
    /// A trusted proxy named an email no user has, and creating users on first sight is off.
    case unknownUser

    /// The stable code written into error bodies.
    public var code: String {
        switch self {
        case .missingCredential: "unauthenticated"
        case .invalidToken: "invalid_token"
        case .tokenExpired: "token_expired"
        case .tokenRevoked: "token_revoked"
        case .wrongTokenKind: "wrong_token_kind"
        case .userDisabled: "user_disabled"
        case .untrustedProxy: "untrusted_proxy"
        case .invalidIdentityHeader: "invalid_identity_header"
        case .unknownUser: "unknown_user"
        }
    }

    /// A sentence that says what is wrong and how to fix it, without echoing the credential.
    public var message: String {
        switch self {
        case .missingCredential:
            "authentication required: send 'Authorization: Bearer <token>' (create one with 'agentry tokens create')"
        case .invalidToken: "the token is not valid; check that it was copied whole, or create a new one"
        case .tokenExpired: "the token has expired; create a new one with 'agentry tokens create'"
        case .tokenRevoked: "the token was revoked; create a new one with 'agentry tokens create'"
        case .wrongTokenKind(let presented, let accepted):
            "a \(presented.rawValue) token cannot be used here; this endpoint accepts "
                + accepted.map(\.rawValue).joined(separator: " or ") + " tokens"
        case .userDisabled: "the user this credential belongs to is disabled; ask an admin"
        case .untrustedProxy(let header):
            "the '\(header)' identity header is accepted only from configured trusted proxies"
        case .invalidIdentityHeader(let header): "the '\(header)' identity header does not hold a valid email address"
        case .unknownUser: "no Agentry user has the email your sign-in proxy sent; ask an admin to create the user"
        }
    }
}
