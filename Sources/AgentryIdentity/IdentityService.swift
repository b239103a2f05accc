import struct Foundation.Date
import struct Foundation.TimeInterval

/// The rules of identity (validation, roles, token lifecycle, authentication) over any `IdentityStore`.
public struct IdentityService: Sendable {
    /// Where users, teams and tokens live.
    public let store: any IdentityStore
    /// The current time; tests pass a fixed clock.
    public let now: @Sendable () -> Date
    /// Records every change in the change's own transaction; nil records nothing (tools and tests).
    public let recorder: (any ChangeRecorder)?

    /// Creates the service over `store`, reading time from `clock` at the millisecond precision
    /// stores keep, recording changes through `recorder`.
    public init(
        store: any IdentityStore, clock: @escaping @Sendable () -> Date = { Date() },
        recorder: (any ChangeRecorder)? = nil
    ) {
        self.store = store
        self.recorder = recorder
        self.now = {
            let milliseconds = (clock().timeIntervalSince1970 * 1000).rounded()
            return Date(timeIntervalSince1970: milliseconds / 1000)
        }
    }

    /// The messages recording `changes` (none without a recorder); every change of a recording
    /// service names its actor.
    private func messages(_ changes: [(IdentityChange.Kind, actor: String?, subject: String)]) throws
        -> [ChangeMessage]
    {
        guard let recorder else { return [] }
        let time = now()
        return try changes.map { kind, actor, subject in
            guard let actor else { preconditionFailure("a recorded \(kind.rawValue) needs its actor") }
            return try recorder.message(for: IdentityChange(kind, actor: actor, subject: subject), at: time)
        }
    }

    /// Delivers the messages of a committed change.
    private func deliver(_ messages: [ChangeMessage]) async throws {
        guard let recorder, !messages.isEmpty else { return }
        try await recorder.deliver(messages)
    }

    /// Creates a team after validating its name (a slug used in scopes) and department.
    public func createTeam(name: String, department: String, by actor: String? = nil) async throws -> Team {
        let name = try Validate.slug(name, field: "name", max: IdentityLimits.teamNameCharactersMax)
        let department = try Validate.label(
            department, field: "department", max: IdentityLimits.departmentCharactersMax)
        let time = now()
        let team = Team(
            id: RandomText.identifier(prefix: "team"), name: name, department: department,
            createdAt: time, updatedAt: time)
        let messages = try messages([(.teamCreated, actor, team.id)])
        try await store.insertTeam(team, recording: messages)
        try await deliver(messages)
        return team
    }

    /// Changes a team's name and/or department.
    public func updateTeam(id: String, name: String?, department: String?, by actor: String? = nil) async throws
        -> Team
    {
        guard var team = try await store.team(id: id) else { throw IdentityError.teamNotFound(id) }
        if let name { team.name = try Validate.slug(name, field: "name", max: IdentityLimits.teamNameCharactersMax) }
        if let department {
            team.department = try Validate.label(
                department, field: "department", max: IdentityLimits.departmentCharactersMax)
        }
        team.updatedAt = now()
        let messages = try messages([(.teamUpdated, actor, team.id)])
        try await store.updateTeam(team, recording: messages)
        try await deliver(messages)
        return team
    }

    /// Resolves a team by id (`team_…`) or by name.
    public func team(reference: String) async throws -> Team {
        let found = reference.hasPrefix("team_") ? try await store.team(id: reference) : nil
        if let found { return found }
        guard let byName = try await store.team(name: reference) else { throw IdentityError.teamNotFound(reference) }
        return byName
    }

    /// Creates a user; `member` is always among the roles.
    public func createUser(
        email: String, displayName: String, teamReference: String?, roles: Set<Role>, by actor: String? = nil
    ) async throws -> User {
        let email = try EmailAddress(email)
        let displayName = try Validate.label(
            displayName, field: "display_name", max: IdentityLimits.displayNameCharactersMax)
        var teamID: String?
        if let teamReference { teamID = try await team(reference: teamReference).id }
        let time = now()
        let user = User(
            id: RandomText.identifier(prefix: "usr"), email: email, displayName: displayName, teamID: teamID,
            roles: roles.union([.member]), createdAt: time, updatedAt: time)
        let messages = try messages([(.userCreated, actor, user.id)])
        try await store.insertUser(user, recording: messages)
        try await deliver(messages)
        return user
    }

    /// Applies `change` to a user, refusing to remove the last active admin.
    public func updateUser(id: String, change: UserChange, by actor: String? = nil) async throws -> User {
        guard let before = try await store.user(id: id) else { throw IdentityError.userNotFound(id) }
        var user = before
        if let name = change.displayName {
            user.displayName = try Validate.label(
                name, field: "display_name", max: IdentityLimits.displayNameCharactersMax)
        }
        if let reference = change.teamReference {
            if let reference { user.teamID = try await team(reference: reference).id } else { user.teamID = nil }
        }
        if let roles = change.roles { user.roles = roles.union([.member]) }
        if let disabled = change.disabled { user.disabledAt = disabled ? (before.disabledAt ?? now()) : nil }
        // The store refuses, in the update's own transaction, a change that leaves no active admin.
        user.updatedAt = now()
        let messages = try messages([(.userUpdated, actor, user.id)])
        try await store.updateUser(user, recording: messages)
        try await deliver(messages)
        return user
    }

    /// Issues a personal token of `kind` (an access token, or a Sandbox key for the model
    /// gateway) for `userID`, valid for `lifetime` seconds when given.
    public func issuePersonalToken(
        userID: String, name: String, lifetime: TimeInterval?, kind: TokenKind = .pat, by actor: String? = nil
    ) async throws -> IssuedToken {
        precondition(kind != .run, "run tokens are minted for runs, not issued to people")
        let name = try Validate.label(name, field: "name", max: IdentityLimits.tokenNameCharactersMax)
        let maxSeconds = TimeInterval(IdentityLimits.tokenLifetimeDaysMax) * 86_400
        if let lifetime, !(lifetime > 0 && lifetime <= maxSeconds) {
            throw IdentityError.invalidField(
                field: "expires_in_days", reason: "must be between 1 and \(IdentityLimits.tokenLifetimeDaysMax) days")
        }
        let time = now()
        let issued = IssuedToken.issue(
            kind: kind, userID: userID, name: name, now: time, expiresAt: lifetime.map { time.addingTimeInterval($0) })
        let messages = try messages([(.tokenCreated, actor, issued.record.id)])
        try await store.insertToken(issued.record, recording: messages)
        try await deliver(messages)
        return issued
    }

    /// Mints the token of one run, acting as `userID` until `expiresAt` at the latest. It is not
    /// audited on its own: the run's `run.started` and `run.finished` events record its life.
    public func mintRunToken(userID: String, runID: String, expiresAt: Date) async throws -> IssuedToken {
        let issued = IssuedToken.issue(kind: .run, userID: userID, name: runID, now: now(), expiresAt: expiresAt)
        try await store.insertToken(issued.record)
        return issued
    }

    /// Revokes a run's token when the run ends or its agent is suspended; a repeat is harmless.
    public func revokeRunToken(id: String) async throws {
        _ = try await store.revokeToken(id: id, at: now())
    }

    /// Revokes a token; only its owner or an admin may, and a stranger learns nothing about it.
    public func revokeToken(id: String, by actor: User) async throws -> TokenRecord {
        guard let token = try await store.token(id: id), token.userID == actor.id || actor.has(.admin) else {
            throw IdentityError.tokenNotFound(id)
        }
        let messages = try messages([(.tokenRevoked, actor.id, token.id)])
        guard let revoked = try await store.revokeToken(id: token.id, at: now(), recording: messages) else {
            throw IdentityError.tokenNotFound(id)
        }
        try await deliver(messages)
        return revoked
    }

    /// Finds the active user behind `secret`, accepting only tokens of the `accepted` kinds.
    public func authenticate(secret: String, accepted: [TokenKind]) async throws -> (User, TokenRecord) {
        guard let kind = TokenKind.of(secret: secret), secret.utf8.count <= 200 else {
            throw AuthenticationError.invalidToken
        }
        guard let (token, owner) = try await store.tokenWithUser(secretHash: TokenHash.of(secret)) else {
            throw AuthenticationError.invalidToken
        }
        precondition(token.kind == kind, "a stored token's kind disagrees with its secret's prefix")
        guard token.revokedAt == nil else { throw AuthenticationError.tokenRevoked }
        if let expiry = token.expiresAt, expiry <= now() { throw AuthenticationError.tokenExpired }
        guard accepted.contains(kind) else {
            throw AuthenticationError.wrongTokenKind(presented: kind, accepted: accepted)
        }
        let user = owner
        guard user.isActive else { throw AuthenticationError.userDisabled }
        return (user, token)
    }

    /// Whether this use of `credential` is a sign-in (see `IdentityStore.claimSignIn`); a sign-in
    /// is recorded as `user.signed_in` by `actor` on `subject`.
    public func claimSignIn(
        credential: String, userID: String, at: Date, quietSince: Date, actor: String, subject: String
    ) async throws -> Bool {
        let messages = try messages([(.userSignedIn, actor, subject)])
        guard
            try await store.claimSignIn(
                credential: credential, userID: userID, at: at, quietSince: quietSince, recording: messages)
        else { return false }
        try await deliver(messages)
        return true
    }

    /// The active user a trusted proxy vouched for, created as a member on first sight when `provision` allows.
    public func proxyUser(
        email: String, displayName: String?, provision: Bool, header: String
    ) async throws -> User {
        let address: EmailAddress
        do { address = try EmailAddress(email) } catch {
            throw AuthenticationError.invalidIdentityHeader(header: header)
        }
        if let user = try await store.user(email: address) {
            guard user.isActive else { throw AuthenticationError.userDisabled }
            return user
        }
        guard provision else { throw AuthenticationError.unknownUser }
        // A name header that would not pass validation is ignored rather than blocking the sign-in.
        let offered = displayName.flatMap {
            try? Validate.label($0, field: "display_name", max: IdentityLimits.displayNameCharactersMax)
        }
        let name = offered ?? String(address.value.prefix { $0 != "@" })
        do {
            return try await createUser(
                email: address.value, displayName: name, teamReference: nil, roles: [.member], by: "proxy")
        } catch IdentityError.emailTaken {
            // Two first requests raced; the other one created the user.
            guard let user = try await store.user(email: address) else { throw AuthenticationError.unknownUser }
            guard user.isActive else { throw AuthenticationError.userDisabled }
            return user
        }
    }

    /// On an empty store, creates the first admin and returns its token; afterwards returns nil forever.
    public func bootstrapAdmin(email: String) async throws -> IssuedToken? {
        let address = try EmailAddress(email)
        let time = now()
        let user = User(
            id: RandomText.identifier(prefix: "usr"), email: address, displayName: "Administrator", teamID: nil,
            roles: [.member, .admin], createdAt: time, updatedAt: time)
        let issued = IssuedToken.issue(kind: .pat, userID: user.id, name: "bootstrap", now: time, expiresAt: nil)
        let messages = try messages([(.userCreated, "system", user.id), (.tokenCreated, "system", issued.record.id)])
        guard try await store.bootstrapAdmin(user: user, token: issued.record, recording: messages) else {
            return nil
        }
        // The token is shown only once: a failed delivery must not lose it. Its entries wait in
        // the outbox, where the drainer finds them.
        try? await deliver(messages)
        return issued
    }
}

/// The fields of a user that an update may change; nil means "leave as is".
public struct UserChange: Sendable {
    /// New display name.
    public var displayName: String?
    /// New team: `.some(nil)` removes the user from any team.
    public var teamReference: String??
    /// New set of roles (`member` is added if missing).
    public var roles: Set<Role>?
    /// Disable (true) or re-enable (false) the user.
    public var disabled: Bool?

    /// Creates a change; every field defaults to "unchanged".
    public init(
        displayName: String? = nil, teamReference: String?? = nil, roles: Set<Role>? = nil, disabled: Bool? = nil
    ) {
        self.displayName = displayName
        self.teamReference = teamReference
        self.roles = roles
        self.disabled = disabled
    }
}
