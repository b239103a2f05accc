/// Bounds on identity data; each keeps a stored row and its rendering small and predictable.
public enum IdentityLimits {
    /// RFC 5321 limits a forward path to 256 octets including angle brackets.
    public static let emailBytesMax = 254
    /// Long enough for any real name, short enough for one line of a listing.
    public static let displayNameCharactersMax = 200
    /// Team names appear in cap scopes (`team:finance`) and listings.
    public static let teamNameCharactersMax = 100
    /// Departments are labels for catalog search, not prose.
    public static let departmentCharactersMax = 100
    /// Token names are labels the owner recognises in `agentry tokens list`.
    public static let tokenNameCharactersMax = 100
    /// 32 random bytes: twice the 128 bits a guessing attack would have to beat.
    public static let tokenSecretBytes = 32
    /// Personal access tokens live at most five years, so a forgotten one eventually dies.
    public static let tokenLifetimeDaysMax = 1826
    /// A page of a listing holds at most this many items.
    public static let pageSizeMax = 500
    /// A page holds this many items when the caller does not say.
    public static let pageSizeDefault = 100
}
