import AgentryAudit
import AgentryGateway
import AgentryIdentity
import AgentryLedger
import AgentryPostgres
import AgentrySQLite
import AgentryStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Starts Agentry: opens and migrates the store, creates the first admin, serves until SIGTERM/SIGINT.
public enum ServerRunner {
    /// Opens the store the configuration names: PostgreSQL when a URL is given, else the SQLite file.
    public static func openStore(_ configuration: ServerConfiguration, logger: Logger) async throws -> any StoreBackend
    {
        if let url = configuration.databaseURL {
            return try await PostgresStore(url: url, logger: logger)
        }
        let directory = configuration.dataDirectory
        do {
            // The database, keys and checkpoints are the server's alone (code agents run beside it).
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError.unavailable(reason: "cannot create the data directory \(directory): \(Self.reason(error))")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw StoreError.unavailable(reason: "the data directory \(directory) is not writable")
        }
        return try SQLiteStore(path: configuration.sqlitePath)
    }

    /// Opens and migrates the store, then reports which versions were applied.
    public static func migrate(_ configuration: ServerConfiguration, logger: Logger) async throws -> [Int] {
        try await openStore(configuration, logger: logger).closing { store in try await store.migrate() }
    }

    /// The calendar of the ledger's days and months: the zone stored in the database, which the
    /// first instance sets from its configuration. An instance configured with another zone
    /// refuses to start, since two zones would split one day's spend into two windows.
    static func ledgerCalendar(_ configuration: ServerConfiguration, store: any StoreBackend, logger: Logger)
        async throws -> LedgerCalendar
    {
        let configured = configuration.ledgerCalendar.zoneName
        let stored = try await store.ledger.timeZone(claiming: configured, at: Date())
        let storedCalendar = LedgerCalendar(timeZoneIdentifier: stored)
        if let storedCalendar, storedCalendar.sameZone(as: configuration.ledgerCalendar) {
            return configuration.ledgerCalendar
        }
        if let source = configuration.sources["ledger.time_zone"] {
            throw ConfigurationError(
                key: "ledger.time_zone", source: source,
                reason:
                    "is \(configured), but this database counts spend-cap days and months in \(stored) and every "
                    + "instance must use one zone; set ledger.time_zone to \(stored), or change the database's zone "
                    + "with 'agentry ledger time-zone \(configured)' while no instance runs")
        }
        guard let calendar = storedCalendar else {
            throw StoreError.unavailable(
                reason: "the database's ledger time zone '\(stored)' is unknown on this machine")
        }
        logger.info("ledger.time_zone_from_store", metadata: ["ledger.time_zone": .string(stored)])
        return calendar
    }

    /// Runs the server until a shutdown signal; `say` receives the lines meant for the operator's terminal.
    public static func serve(
        _ configuration: ServerConfiguration, logger: Logger, say: @escaping @Sendable (String) -> Void
    ) async throws {
        // A vault key that cannot be used stops the start before anything else is touched.
        let vault = try configuration.vaultKeyFile.map { path in CredentialVault(key: try VaultKey.load(path: path)) }
        let store = try await openStore(configuration, logger: logger)
        let sharing = configuration.databaseURL == nil ? DataDirectoryLock(directory: configuration.dataDirectory) : nil
        if let sharing, !sharing.isSole {
            logger.warning("store.sqlite_shared", metadata: ["data_dir": .string(configuration.dataDirectory)])
            say(
                """
                Another Agentry server is using the data directory \(configuration.dataDirectory). SQLite keeps the \
                data consistent, but it serves one instance well; run several instances on PostgreSQL.
                """)
        }
        defer { withExtendedLifetime(sharing) {} }
        do {
            let applied = try await store.migrate()
            logger.info(
                "store.ready",
                metadata: ["store.kind": .string(store.kind), "store.migrations.applied": .string("\(applied)")])
            let calendar = try await Self.ledgerCalendar(configuration, store: store, logger: logger)
            let checkpointer = try await Self.checkpointer(configuration, store: store, logger: logger, say: say)
            let dependencies = ApplicationDependencies(
                store: store, logger: logger, checkpointer: checkpointer, ledgerCalendar: calendar, vault: vault,
                runtime: configuration.runtime)
            // The catalog admins set is in effect from the first call; a stored catalog this version
            // cannot read stops the start rather than serve the wrong models.
            try await GatewayCatalogService.apply(
                store: store.gateway, gateway: dependencies.gateway, shipped: dependencies.shippedCatalog, after: nil)
            // Likewise the Sandbox policy: Sandbox keys are limited by the stored one from the first call.
            try await dependencies.sandboxes.refresh()
            _ = try await dependencies.catalogSearch.index()
            try await ToolCatalogService.apply(dependencies.toolCatalog, to: dependencies.tools)
            let listening = ListeningFlag()
            let app = buildApplication(
                configuration: configuration, dependencies: dependencies,
                onServerRunning: { channel in
                    listening.set()
                    // Once the server listens: a start that cannot listen must not use up the token.
                    await Self.bootstrapAdmin(configuration.adminEmail, dependencies.identity, logger: logger, say: say)
                    say(Self.listeningMessage(channel))
                })
            do {
                try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch let error as IOError where !listening.isSet {
                throw ListenError(
                    "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))"
                )
            } catch  where !listening.isSet && (error is SocketAddressError || error is SocketAddressError.UnknownHost)
            {
                throw ListenError(
                    "cannot listen on \(configuration.host):\(configuration.port): the host cannot be resolved to an address"
                )
            }
            logger.info("server.stopped")
            try await store.close()
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// Loads the signing key and checks the log against the checkpoint file kept outside the database.
    static func checkpointer(
        _ configuration: ServerConfiguration, store: any StoreBackend, logger: Logger,
        say: @escaping @Sendable (String) -> Void
    ) async throws -> AuditCheckpointer {
        let signer = try await AuditSigningKey.load(configuration, store: store.audit) { verifierKey in
            say(
                """
                Created the audit signing key \(configuration.signingKeyPath). Give auditors its verifier key:

                    \(verifierKey)

                """)
        }
        let file = CheckpointFile(path: configuration.checkpointFilePath)
        try? FileManager.default.createDirectory(
            atPath: (file.path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let checkpointer = AuditCheckpointer(
            store: store.audit, signer: signer, file: file, logger: logger,
            clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        try await checkpointer.checkAgainstFile()
        return checkpointer
    }

    /// Creates the first admin when there is none; the admin, its token and their audit entries
    /// commit together, and the token is shown once. A failure is reported, and the next start tries again.
    private static func bootstrapAdmin(
        _ email: String, _ identity: IdentityService, logger: Logger, say: @Sendable (String) -> Void
    ) async {
        do {
            if let issued = try await identity.bootstrapAdmin(email: email) {
                say(Self.bootstrapMessage(email: email, secret: issued.secret))
            }
        } catch {
            logger.error("server.first_admin_failed", metadata: ["error": .string(String(describing: error))])
            say("Could not create the first admin user \(email): \(error). The next start tries again.")
        }
    }

    private static func bootstrapMessage(email: String, secret: String) -> String {
        """
        Created the first admin user, \(email). Its token is shown now and never again:

            \(secret)

        Store it safely, then: agentry login --server <url> --token <token>
        """
    }

    private static func listeningMessage(_ channel: any Channel) -> String {
        let address = channel.localAddress
        let host = address?.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "127.0.0.1"
        let url = "http://\(host):\(address?.port ?? 0)"
        return """
            Agentry is listening on \(url)
              health:   curl \(url)/readyz
              sign in:  agentry login --server \(url) --token <token>
              whoami:   curl -H 'Authorization: Bearer <token>' \(url)/api/v1/users/me
            """
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}

/// The server could not listen on its address (in use, not this machine's, not resolvable).
public struct ListenError: Error, CustomStringConvertible {
    /// What went wrong, for the operator.
    public let description: String

    init(_ description: String) { self.description = description }
}

/// A flag set once from any task: whether the server has started listening.
final class ListeningFlag: Sendable {
    private let value = Mutex(false)

    /// Sets the flag.
    func set() { value.withLock { $0 = true } }

    /// Whether the flag was set.
    var isSet: Bool { value.withLock { $0 } }
}

/// An advisory lock on `agentry.lock` in the data directory, held while the server runs, so a
/// second server on the same SQLite file is noticed (and told that PostgreSQL is the way to run several).
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32
    /// Whether this process took the lock: no other server holds the directory.
    let isSole: Bool

    /// Takes the lock without waiting; a directory the lock file cannot be made in counts as sole.
    init(directory: String) {
        descriptor = open(
            URL(fileURLWithPath: directory).appendingPathComponent("agentry.lock").path, O_RDWR | O_CREAT | O_CLOEXEC,
            0o600)
        isSole = descriptor < 0 || flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }

    deinit { if descriptor >= 0 { close(descriptor) } }
}
