import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryServer
import AgentryStore
import Foundation
import Hummingbird
import Prometheus

/// A migrated store with a bootstrapped admin, and what a test needs to build the application on it.
public struct ServerFixture: Sendable {
    /// The store the application uses.
    public let store: any StoreBackend
    /// The store's location, for tampering or a second instance.
    public let location: StoreFixture.Location
    /// The first admin.
    public let admin: User
    /// The admin's personal access token.
    public let adminToken: String
    /// Where the application's log lines go.
    public let logs: CapturingLogSink
    /// The identity service over the store, for arranging users and tokens directly.
    public let identity: IdentityService
    /// The checkpoint signer (key generated per fixture, checkpoint file in a temporary directory).
    public let checkpointer: AuditCheckpointer
    /// The verifier of the fixture's checkpoints.
    public var verifier: NoteVerifier { checkpointer.verifier }

    /// Runs `body` with a fresh fixture on `backend`.
    public static func with<T: Sendable>(_ backend: TestBackend, _ body: (ServerFixture) async throws -> T) async throws
        -> T
    {
        try await StoreFixture.withLocation(backend) { location in
            try await StoreFixture.open(location).closing { store in
                _ = try await store.migrate()
                let identity = IdentityService(store: store.identity)
                guard let issued = try await identity.bootstrapAdmin(email: "admin@example.com"),
                    let admin = try await store.identity.user(id: issued.record.userID)
                else { throw ExpectationFailure("bootstrap did not create an admin on an empty store") }
                let files = try TemporaryDirectory(prefix: "agentry-audit")
                defer { files.remove() }
                let fixture = ServerFixture(
                    store: store, location: location, admin: admin, adminToken: issued.secret, logs: CapturingLogSink(),
                    identity: identity, checkpointer: try Self.checkpointer(store, directory: files))
                return try await body(fixture)
            }
        }
    }

    /// The application on this fixture's store, with `configuration` (port 0 for live tests) and `clock`.
    public func application(
        configuration: ServerConfiguration = ServerFixture.configuration,
        metrics: PrometheusCollectorRegistry = .init(),
        clock: @escaping @Sendable () -> Date = { Date() }, gateway: GatewaySetup = GatewaySetup(),
        vault: CredentialVault? = nil, runtime: RuntimeSetup = RuntimeSetup()
    ) -> some ApplicationProtocol {
        buildApplication(
            configuration: configuration,
            dependencies: dependencies(clock: clock, metrics: metrics, gateway: gateway, vault: vault, runtime: runtime)
        )
    }

    /// The application's dependencies on this fixture's store (to reach its services in a test).
    public func dependencies(
        clock: @escaping @Sendable () -> Date = { Date() }, metrics: PrometheusCollectorRegistry = .init(),
        gateway: GatewaySetup = GatewaySetup(), vault: CredentialVault? = nil, runtime: RuntimeSetup = RuntimeSetup()
    ) -> ApplicationDependencies {
        ApplicationDependencies(
            store: store, logger: logs.logger(), checkpointer: checkpointer, metrics: metrics, clock: clock,
            gateway: gateway, vault: vault, runtime: runtime)
    }

    /// Creates a Sandbox key (for the model gateway) for `userID`.
    public func sandboxKey(for userID: String) async throws -> String {
        try await identity.issuePersonalToken(userID: userID, name: "sandbox", lifetime: nil, kind: .sandbox).secret
    }

    /// A checkpointer over `store` with a new key and a checkpoint file in `directory`.
    public static func checkpointer(_ store: any StoreBackend, directory: TemporaryDirectory) throws
        -> AuditCheckpointer
    {
        AuditCheckpointer(
            store: store.audit, signer: try AuditFixtures.signer(),
            file: CheckpointFile(path: directory.file("checkpoints.jsonl")), logger: StoreFixture.quietLogger,
            clock: { Int64(Date().timeIntervalSince1970 * 1000) })
    }

    /// Defaults for tests: loopback, any free port.
    public static var configuration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        // The test client pipelines every request of a test over one connection; a request it has
        // begun to send waits, half read, behind the ones before it, which on a loaded machine can
        // take longer than the default idle timeout.
        configuration.idleTimeoutSeconds = 600
        return configuration
    }

    /// Creates a user with `roles` and a personal token for it; returns the user and the secret.
    public func member(_ email: String, roles: Set<Role> = []) async throws -> (User, String) {
        let user = try await identity.createUser(
            email: email, displayName: "Test \(email)", teamReference: nil, roles: roles)
        let issued = try await identity.issuePersonalToken(userID: user.id, name: "test", lifetime: nil)
        return (user, issued.secret)
    }
}
