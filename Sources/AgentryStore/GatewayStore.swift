import AgentryIdentity
import Foundation

/// A provider credential as stored: sealed by the credential vault, never in the clear.
public struct StoredCredential: Sendable, Equatable {
    /// The name providers refer to it by.
    public let name: String
    /// The vault's sealed text (`v1.<key id>.<…>`).
    public let sealed: String
    /// The id of the vault key that sealed it.
    public let keyID: String
    public let updatedAt: Date
    /// The admin who set it.
    public let updatedBy: String

    /// A stored credential.
    public init(name: String, sealed: String, keyID: String, updatedAt: Date, updatedBy: String) {
        self.name = name
        self.sealed = sealed
        self.keyID = keyID
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }
}

/// A model catalog an admin set in place of the shipped one.
public struct StoredCatalog: Sendable, Equatable {
    /// The catalog's YAML, as the admin sent it.
    public let yaml: String
    public let updatedAt: Date
    public let updatedBy: String

    /// A stored catalog.
    public init(yaml: String, updatedAt: Date, updatedBy: String) {
        self.yaml = yaml
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }
}

/// The gateway's stored configuration: sealed provider credentials and the admins' catalog.
/// Every change is written with the audit messages that record it, in one transaction.
public protocol GatewayStore: Sendable {
    /// The credential called `name`.
    func credential(named name: String) async throws -> StoredCredential?
    /// Every credential, by name.
    func credentials() async throws -> [StoredCredential]
    /// Creates or replaces a credential.
    func setCredential(_ credential: StoredCredential, recording messages: [ChangeMessage]) async throws
    /// Deletes credential `name`; false when there was none.
    func deleteCredential(named name: String, recording messages: [ChangeMessage]) async throws -> Bool
    /// The admins' catalog, if one is set.
    func catalog() async throws -> StoredCatalog?
    /// Sets the admins' catalog, or with nil goes back to the shipped one.
    func setCatalog(_ catalog: StoredCatalog?, recording messages: [ChangeMessage]) async throws
}
