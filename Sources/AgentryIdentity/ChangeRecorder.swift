import struct Foundation.Date

/// A change to users, teams or tokens as the audit log records it: what, by whom, to which id.
public struct IdentityChange: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, CaseIterable {
        case userCreated = "user.created"
        case userUpdated = "user.updated"
        case teamCreated = "team.created"
        case teamUpdated = "team.updated"
        case tokenCreated = "token.created"
        case tokenRevoked = "token.revoked"
        case userSignedIn = "user.signed_in"
    }

    /// What happened.
    public let kind: Kind
    /// Who did it: a user id, `system` or `proxy`.
    public let actor: String
    /// The id it was done to.
    public let subject: String

    /// Creates a change.
    public init(_ kind: Kind, actor: String, subject: String) {
        self.kind = kind
        self.actor = actor
        self.subject = subject
    }
}

/// A recorded change in transit: the store writes it into the outbox in the change's own
/// transaction, and the recorder delivers it once the change has committed.
public struct ChangeMessage: Sendable, Equatable {
    /// Random identifier, unique per message.
    public let id: String
    /// When it was written.
    public let createdAt: Date
    /// The recorder's encoding of the change, opaque to identity.
    public let body: String

    /// Creates a message.
    public init(id: String, createdAt: Date, body: String) {
        self.id = id
        self.createdAt = createdAt
        self.body = body
    }
}

/// Turns identity changes into messages written atomically with the change, and delivers them
/// afterwards (the server's recorder appends them to the audit log).
public protocol ChangeRecorder: Sendable {
    /// The message recording `change`, made at `time`.
    func message(for change: IdentityChange, at time: Date) throws -> ChangeMessage
    /// Delivers messages whose change has committed; a message left undelivered (a crash, an error)
    /// stays in the outbox for the recorder's drainer.
    func deliver(_ messages: [ChangeMessage]) async throws
}
