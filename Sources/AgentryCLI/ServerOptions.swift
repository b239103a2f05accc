import AgentryServer
import ArgumentParser
import Foundation

/// The settings `serve` and `migrate` share; each has the same meaning in agentry.yaml and the environment.
struct ServerOptions: ParsableArguments {
    @Option(help: "Configuration file (default ./agentry.yaml when present; env AGENTRY_CONFIG).")
    var config: String?
    @Option(help: "Address to bind (default 127.0.0.1; env AGENTRY_HOST; yaml host).")
    var host: String?
    @Option(help: "TCP port to bind, 0 for any free port (default 8080; env AGENTRY_PORT; yaml port).")
    var port: String?
    @Option(
        help: "Directory of the embedded SQLite store (default ./agentry-data; env AGENTRY_DATA_DIR; yaml data_dir).")
    var dataDir: String?
    @Option(
        help:
            "postgres://user:password@host:5432/db to store in PostgreSQL (env AGENTRY_DATABASE_URL; yaml database_url)."
    )
    var databaseURL: String?
    @Option(
        help:
            "trace, debug, info, notice, warning, error or critical (default info; env AGENTRY_LOG_LEVEL; yaml log_level)."
    )
    var logLevel: String?
    @Option(
        help:
            "Email of the admin created on the very first start (default admin@agentry.local; env AGENTRY_ADMIN_EMAIL; yaml admin_email)."
    )
    var adminEmail: String?
    @Option(help: "Largest request body in bytes (default 1048576; env AGENTRY_BODY_BYTES_MAX; yaml body_bytes_max).")
    var bodyBytesMax: String?
    @Option(
        help:
            "Seconds a connection may send nothing before or inside a request before it is closed (default 30; env AGENTRY_IDLE_TIMEOUT_SECONDS; yaml idle_timeout_seconds)."
    )
    var idleTimeoutSeconds: String?
    @Option(
        help:
            "true to trust an SSO proxy's identity header (default false; env AGENTRY_PROXY_IDENTITY_ENABLED; yaml proxy_identity.enabled)."
    )
    var proxyIdentityEnabled: String?
    @Option(
        help:
            "Header carrying the user's email (default X-Forwarded-Email; env AGENTRY_PROXY_IDENTITY_EMAIL_HEADER; yaml proxy_identity.email_header)."
    )
    var proxyIdentityEmailHeader: String?
    @Option(
        help:
            "Header carrying the user's name (default X-Forwarded-User; env AGENTRY_PROXY_IDENTITY_NAME_HEADER; yaml proxy_identity.name_header)."
    )
    var proxyIdentityNameHeader: String?
    @Option(
        help:
            "Comma-separated IPs/CIDRs of trusted proxies (env AGENTRY_PROXY_IDENTITY_TRUSTED_PROXIES; yaml proxy_identity.trusted_proxies)."
    )
    var proxyIdentityTrustedProxies: String?
    @Option(
        help:
            "true to create unknown proxy users as members (default true; env AGENTRY_PROXY_IDENTITY_PROVISION_USERS; yaml proxy_identity.provision_users)."
    )
    var proxyIdentityProvisionUsers: String?

    @Option(help: "Audit signing key file (default <data-dir>/audit-signing.key; env AGENTRY_AUDIT_SIGNING_KEY_FILE).")
    var auditSigningKeyFile: String?
    @Option(help: "File every audit checkpoint is appended to (env AGENTRY_AUDIT_CHECKPOINT_FILE).")
    var auditCheckpointFile: String?
    @Option(
        help: "Audit log origin for a key made at first start (default agentry.local/audit; env AGENTRY_AUDIT_ORIGIN).")
    var auditOrigin: String?
    @Option(help: "Time zone of spend-cap days and months (default UTC; env AGENTRY_LEDGER_TIME_ZONE).")
    var ledgerTimeZone: String?
    @Option(help: "Provider-credential vault key file (agentry vault keygen; env AGENTRY_VAULT_KEY_FILE).")
    var vaultKeyFile: String?
    @Option(
        help:
            "false to stop serving the built-in simulators under /_simulators (default true; env AGENTRY_SIMULATORS; yaml simulators)."
    )
    var simulators: String?
    @Option(
        help:
            "Directory of code agents' packages, virtualenvs and scratch space (env AGENTRY_RUNS_DIRECTORY; yaml runs.directory)."
    )
    var runsDirectory: String?
    @Option(help: "Python for code agents (default /usr/bin/python3) (env AGENTRY_RUNS_PYTHON; yaml runs.python).")
    var runsPython: String?
    @Option(
        help:
            "Package index for code agents' requirements (default pip's) (env AGENTRY_RUNS_PACKAGE_INDEX; yaml runs.package_index)."
    )
    var runsPackageIndex: String?
    @Option(
        help:
            "true to run each concurrent run as its own user when root (default true) (env AGENTRY_RUNS_SEPARATE_USERS; yaml runs.separate_users)."
    )
    var runsSeparateUsers: String?
    @Option(
        help:
            "Wall-clock seconds a code agent may run (default 300) (env AGENTRY_RUNS_WALL_SECONDS; yaml runs.wall_seconds)."
    )
    var runsWallSeconds: String?
    @Option(
        help: "CPU seconds a code agent may use (default 120) (env AGENTRY_RUNS_CPU_SECONDS; yaml runs.cpu_seconds).")
    var runsCpuSeconds: String?
    @Option(
        help: "Address space of a code agent in MiB (default 1024) (env AGENTRY_RUNS_MEMORY_MB; yaml runs.memory_mb).")
    var runsMemoryMb: String?
    @Option(
        help: "Output a code agent may write in KiB (default 1024) (env AGENTRY_RUNS_OUTPUT_KB; yaml runs.output_kb).")
    var runsOutputKb: String?
    @Option(help: "Processes of one run's user (default 64) (env AGENTRY_RUNS_PROCESSES; yaml runs.processes).")
    var runsProcesses: String?
    @Option(help: "Runs executing at once (default 16) (env AGENTRY_RUNS_MAX_CONCURRENT; yaml runs.max_concurrent).")
    var runsMaxConcurrent: String?
    @Option(help: "Runs of one agent at once (default 8) (env AGENTRY_RUNS_MAX_PER_AGENT; yaml runs.max_per_agent).")
    var runsMaxPerAgent: String?
    @Option(help: "Runs of one user at once (default 4) (env AGENTRY_RUNS_MAX_PER_USER; yaml runs.max_per_user).")
    var runsMaxPerUser: String?
    @Option(
        help:
            "Runs waiting before new ones are refused (default 1000) (env AGENTRY_RUNS_MAX_QUEUED; yaml runs.max_queued)."
    )
    var runsMaxQueued: String?
    @Option(
        help: "auto (bubblewrap when installed), bubblewrap or none (env AGENTRY_RUNS_ISOLATION; yaml runs.isolation).")
    var runsIsolation: String?

    /// The flags given, by configuration key.
    var flags: [String: String] {
        let pairs: [(String, String?)] = [
            ("host", host), ("port", port), ("data_dir", dataDir), ("database_url", databaseURL),
            ("log_level", logLevel), ("admin_email", adminEmail), ("body_bytes_max", bodyBytesMax),
            ("idle_timeout_seconds", idleTimeoutSeconds),
            ("proxy_identity.enabled", proxyIdentityEnabled), ("proxy_identity.email_header", proxyIdentityEmailHeader),
            ("proxy_identity.name_header", proxyIdentityNameHeader),
            ("proxy_identity.trusted_proxies", proxyIdentityTrustedProxies),
            ("proxy_identity.provision_users", proxyIdentityProvisionUsers),
            ("audit.signing_key_file", auditSigningKeyFile), ("audit.checkpoint_file", auditCheckpointFile),
            ("audit.origin", auditOrigin), ("ledger.time_zone", ledgerTimeZone), ("vault.key_file", vaultKeyFile),
            ("simulators", simulators),
            ("runs.directory", runsDirectory),
            ("runs.python", runsPython),
            ("runs.package_index", runsPackageIndex),
            ("runs.separate_users", runsSeparateUsers),
            ("runs.wall_seconds", runsWallSeconds),
            ("runs.cpu_seconds", runsCpuSeconds),
            ("runs.memory_mb", runsMemoryMb),
            ("runs.output_kb", runsOutputKb),
            ("runs.processes", runsProcesses),
            ("runs.max_concurrent", runsMaxConcurrent),
            ("runs.max_per_agent", runsMaxPerAgent),
            ("runs.max_per_user", runsMaxPerUser),
            ("runs.max_queued", runsMaxQueued),
            ("runs.isolation", runsIsolation),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    /// Merges agentry.yaml, the environment and the flags, in that order of precedence (flags win).
    func resolve() throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        let path = config ?? environment["AGENTRY_CONFIG"]
        var fileText: String?
        if let path {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CLIError(
                    "cannot read the configuration file \(path); check the path given by --config or AGENTRY_CONFIG")
            }
            fileText = text
        } else if FileManager.default.fileExists(atPath: "agentry.yaml") {
            guard let text = try? String(contentsOfFile: "agentry.yaml", encoding: .utf8) else {
                throw CLIError(
                    "./agentry.yaml exists but cannot be read as UTF-8 text; fix its permissions or encoding")
            }
            fileText = text
        }
        do {
            return try ConfigurationLoader.resolve(
                fileText: fileText, fileName: path ?? "agentry.yaml", environment: environment, flags: flags)
        } catch let error as ConfigurationError {
            throw CLIError("invalid configuration: \(error.description)")
        }
    }
}
