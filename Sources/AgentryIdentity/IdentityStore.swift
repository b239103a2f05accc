import struct Foundation.Date

/// Storage for users, teams and tokens.
///
/// Contract, shared by every backend and checked by the conformance suite in `AgentryTesting`:
/// - Emails and team names are unique; inserting a duplicate throws `emailTaken` / `teamNameTaken`
///   and changes nothing, also when two callers race.
/// - Updates of a missing row throw the matching `…NotFound` error.
/// - Strings are stored and returned byte for byte, whatever characters they contain.
/// - Listings are ordered by id and paged with `after` (exclusive) and `limit`.
/// - `bootstrapAdmin` inserts its user and token only when no user exists, atomically across
///   processes, and reports whether it did.
public protocol IdentityStore: Sendable {
    /// Inserts a new team.
    func insertTeam(_ team: Team, recording messages: [ChangeMessage]) async throws
    /// Replaces the stored name and department of an existing team.
    func updateTeam(_ team: Team, recording messages: [ChangeMessage]) async throws
    /// The team with this id, if any.
    func team(id: String) async throws -> Team?
    /// The team with this name, if any.
    func team(name: String) async throws -> Team?
    /// Teams ordered by id, starting after `after`.
    func teams(after: String?, limit: Int) async throws -> [Team]

    /// Inserts a new user with its roles.
    func insertUser(_ user: User, recording messages: [ChangeMessage]) async throws
    /// Replaces the stored fields and roles of an existing user; throws `lastAdmin` (changing
    /// nothing) when the update would take the number of active admins from one or more to zero,
    /// checked atomically with the update.
    func updateUser(_ user: User, recording messages: [ChangeMessage]) async throws
    /// The user with this id, if any.
    func user(id: String) async throws -> User?
    /// The user with this (normalised) email, if any.
    func user(email: EmailAddress) async throws -> User?
    /// Users ordered by id, starting after `after`.
    func users(after: String?, limit: Int) async throws -> [User]
    /// How many users are not disabled and hold `admin`.
    func activeAdminCount() async throws -> Int

    /// Inserts a newly issued token record.
    func insertToken(_ token: TokenRecord, recording messages: [ChangeMessage]) async throws
    /// The token whose secret hashes to `secretHash`, if any.
    func token(secretHash: String) async throws -> TokenRecord?
    /// The token whose secret hashes to `secretHash` together with its user, in one round trip:
    /// the lookup every authenticated request makes.
    func tokenWithUser(secretHash: String) async throws -> (TokenRecord, User)?
    /// The token with this id, if any.
    func token(id: String) async throws -> TokenRecord?
    /// The tokens of a user, ordered by id.
    func tokens(userID: String) async throws -> [TokenRecord]
    /// Marks a token revoked at `at` unless it already is; returns the stored record afterwards.
    func revokeToken(id: String, at: Date, recording messages: [ChangeMessage]) async throws -> TokenRecord?

    /// Records that `credential` (a token id, or `proxy:` and a user id) of `userID` was used at
    /// `at`, and returns true when this is a sign-in: its first use, or the first since `quietSince`.
    /// One atomic step, so of several instances seeing the same use exactly one gets true.
    func claimSignIn(
        credential: String, userID: String, at: Date, quietSince: Date, recording messages: [ChangeMessage]
    ) async throws -> Bool

    /// Creates the first admin and its token if, and only if, the store holds no user yet.
    func bootstrapAdmin(user: User, token: TokenRecord, recording messages: [ChangeMessage]) async throws -> Bool
}

/// The mutations without recorded messages, for tools and tests that record nothing.
extension IdentityStore {
    /// Inserts a team, recording nothing.
    public func insertTeam(_ team: Team) async throws { try await insertTeam(team, recording: []) }
    /// Updates a team, recording nothing.
    public func updateTeam(_ team: Team) async throws { try await updateTeam(team, recording: []) }
    /// Inserts a user, recording nothing.
    public func insertUser(_ user: User) async throws { try await insertUser(user, recording: []) }
    /// Updates a user, recording nothing.
    public func updateUser(_ user: User) async throws { try await updateUser(user, recording: []) }
    /// Inserts a token, recording nothing.
    public func insertToken(_ token: TokenRecord) async throws { try await insertToken(token, recording: []) }
    /// Revokes a token, recording nothing.
    public func revokeToken(id: String, at: Date) async throws -> TokenRecord? {
        try await revokeToken(id: id, at: at, recording: [])
    }
    /// Claims a sign-in, recording nothing.
    public func claimSignIn(credential: String, userID: String, at: Date, quietSince: Date) async throws -> Bool {
        try await claimSignIn(credential: credential, userID: userID, at: at, quietSince: quietSince, recording: [])
    }
    /// Bootstraps the first admin, recording nothing.
    public func bootstrapAdmin(user: User, token: TokenRecord) async throws -> Bool {
        try await bootstrapAdmin(user: user, token: token, recording: [])
    }
}
