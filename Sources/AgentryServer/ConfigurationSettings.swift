import AgentryIdentity
import AgentryLedger
import Foundation
import Logging

extension ConfigurationSetting {
    /// Every setting `agentry serve` understands, in the order `--help` lists them.
    public static let all: [ConfigurationSetting] = general + runs

    /// The server's own settings: address, store, identity, audit, ledger, simulators.
    private static let general: [ConfigurationSetting] = [
        .init(key: "host", help: "Address to bind (default 127.0.0.1).") { config, value in
            guard !value.isEmpty else { throw Reason("must not be empty") }
            config.host = value
        },
        .init(key: "port", help: "TCP port to bind, 0 for any free port (default 8080).") { config, value in
            guard let port = Int(value), (0...65535).contains(port) else {
                throw Reason("must be a whole number from 0 to 65535")
            }
            config.port = port
        },
        .init(key: "data_dir", help: "Directory of the embedded SQLite store (default ./agentry-data).") {
            config, value in
            guard !value.isEmpty else { throw Reason("must not be empty") }
            config.dataDirectory = value
        },
        .init(key: "database_url", help: "postgres://user:password@host:5432/db to use PostgreSQL instead of SQLite.") {
            config, value in
            guard value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") else {
                throw Reason("must start with postgres:// (SQLite needs no URL: leave it unset)")
            }
            config.databaseURL = value
        },
        .init(key: "log_level", help: "trace, debug, info, notice, warning, error or critical (default info).") {
            config, value in
            guard let level = Logger.Level(rawValue: value.lowercased()) else {
                throw Reason("must be one of trace, debug, info, notice, warning, error, critical")
            }
            config.logLevel = level
        },
        .init(key: "admin_email", help: "Email of the admin created on the very first start.") { config, value in
            do {
                config.adminEmail = try EmailAddress(value).value
            } catch {
                throw Reason((error as? IdentityError)?.message ?? "is not a valid email address")
            }
        },
        .init(key: "body_bytes_max", help: "Largest accepted request body in bytes (default 1048576).") {
            config, value in
            guard let bytes = Int(value), (1024...(64 << 20)).contains(bytes) else {
                throw Reason("must be a whole number of bytes from 1024 to 67108864")
            }
            config.bodyBytesMax = bytes
        },
        .init(
            key: "idle_timeout_seconds",
            help: "Seconds a connection may send nothing, before or inside a request, before it is closed (default 30)."
        ) { config, value in
            guard let seconds = Int64(value), (1...3600).contains(seconds) else {
                throw Reason("must be a whole number of seconds from 1 to 3600")
            }
            config.idleTimeoutSeconds = seconds
        },
        .init(key: "proxy_identity.enabled", help: "Trust an SSO proxy's identity header (default false).") {
            config, value in config.proxyIdentity.enabled = try parseBool(value)
        },
        .init(key: "proxy_identity.email_header", help: "Header with the user's email (default X-Forwarded-Email).") {
            config, value in
            guard !value.isEmpty else { throw Reason("must not be empty") }
            config.proxyIdentity.emailHeader = value
        },
        .init(key: "proxy_identity.name_header", help: "Header with the user's name (default X-Forwarded-User).") {
            config, value in config.proxyIdentity.nameHeader = value
        },
        .init(
            key: "proxy_identity.trusted_proxies",
            help: "Comma-separated IPs or CIDR ranges the identity header is accepted from."
        ) { config, value in
            var ranges: [AddressRange] = []
            for part in value.split(separator: ",") {
                let text = part.trimmingCharacters(in: .whitespaces)
                guard let range = AddressRange(text) else {
                    throw Reason("'\(text)' is not an IP address or CIDR range")
                }
                ranges.append(range)
            }
            config.proxyIdentity.trustedProxies = ranges
        },
        .init(
            key: "vault.key_file",
            help: "Master key of the provider-credential vault, kept outside the database (agentry vault keygen)."
        ) { config, value in
            guard !value.isEmpty else { throw Reason("must not be empty") }
            config.vaultKeyFile = value
        },
        .init(key: "audit.signing_key_file", help: "Audit signing key file (default <data_dir>/audit-signing.key).") {
            config, value in
            guard !value.isEmpty else { throw Reason("must not be empty") }
            config.auditSigningKeyFile = value
        },
        .init(
            key: "audit.checkpoint_file",
            help: "File every audit checkpoint is appended to (default <data_dir>/audit-checkpoints.jsonl)."
        ) { config, value in
            guard !value.isEmpty else { throw Reason("must not be empty") }
            config.auditCheckpointFile = value
        },
        .init(key: "audit.origin", help: "Audit log origin, the key name of a key created at first start.") {
            config, value in
            guard !value.isEmpty, !value.contains(" "), !value.contains("+") else {
                throw Reason("must be non-empty, without spaces or '+'")
            }
            config.auditOrigin = value
        },
        .init(
            key: "ledger.time_zone",
            help: "Time zone whose days and months are spend-cap windows, e.g. Europe/Berlin (default UTC)."
        ) { config, value in
            guard let calendar = LedgerCalendar(timeZoneIdentifier: value) else {
                throw Reason("must be a time zone name such as UTC or Europe/Berlin")
            }
            config.ledgerCalendar = calendar
        },
        .init(
            key: "simulators",
            help:
                "Serve the built-in provider and tool simulators under /_simulators (default true; turn off in production)."
        ) { config, value in config.simulators = try parseBool(value) },
        .init(
            key: "proxy_identity.provision_users",
            help: "Create unknown users the proxy names as members (default true)."
        ) { config, value in config.proxyIdentity.provisionUsers = try parseBool(value) },
    ]

    /// `true`/`false` (or yes/no, on/off, 1/0).
    static func parseBool(_ value: String) throws -> Bool {
        switch value.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw Reason("must be true or false")
        }
    }
}

/// Short name for the refusal a setting throws.
private typealias Reason = ConfigurationError.Reason
