import AgentryLedger
import Foundation
import Logging

/// Everything `agentry serve` can be told, after merging the file, the environment and the flags.
public struct ServerConfiguration: Sendable, Equatable {
    /// Address to bind; loopback unless told otherwise.
    public var host = "127.0.0.1"
    /// TCP port to bind.
    public var port = 8080
    /// Where the SQLite file lives when no database URL is given.
    public var dataDirectory = "./agentry-data"
    /// A `postgres://` URL; when set, PostgreSQL is the store instead of SQLite.
    public var databaseURL: String?
    /// The lowest level that is logged.
    public var logLevel: Logger.Level = .info
    /// The email of the admin created on the very first start.
    public var adminEmail = "admin@agentry.local"
    /// Request bodies larger than this get 413.
    public var bodyBytesMax = ServerLimits.bodyBytesDefault
    /// A connection that sends nothing for this many seconds before or inside a request is closed.
    public var idleTimeoutSeconds = ServerLimits.idleSecondsDefault
    /// The reverse-proxy identity mode.
    public var proxyIdentity = ProxyIdentitySettings()
    /// The audit log's signing key file; nil means `audit-signing.key` in the data directory.
    public var auditSigningKeyFile: String?
    /// Where every issued checkpoint is also appended, outside the database; nil means
    /// `audit-checkpoints.jsonl` in the data directory.
    public var auditCheckpointFile: String?
    /// The log's origin (and key name) used when the first start creates the signing key.
    public var auditOrigin = "agentry.local/audit"
    /// The credential vault's master key file; without one, provider credentials cannot be stored.
    public var vaultKeyFile: String?
    /// The calendar of spend-cap windows (days and months of its time zone).
    public var ledgerCalendar = LedgerCalendar()
    /// Whether the built-in simulators are served under `/_simulators` (they need no key, so an
    /// installation that calls real providers and tools turns them off).
    public var simulators = true
    /// How agents run: code agents' Python, directory and limits, and concurrency.
    public var runtime = RuntimeSetup()
    /// Where each setting given came from (file, environment variable or flag), by key; defaults are absent.
    public var sources: [String: String] = [:]

    /// The defaults above.
    public init() {}

    /// The signing key file in effect.
    public var signingKeyPath: String {
        auditSigningKeyFile ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("audit-signing.key").path
    }

    /// The checkpoint file in effect.
    public var checkpointFilePath: String {
        auditCheckpointFile
            ?? URL(fileURLWithPath: dataDirectory).appendingPathComponent("audit-checkpoints.jsonl").path
    }

    /// The SQLite file inside the data directory.
    public var sqlitePath: String { URL(fileURLWithPath: dataDirectory).appendingPathComponent("agentry.sqlite").path }
}

/// One configuration setting: its key in `agentry.yaml`, its environment variable and its flag.
public struct ConfigurationSetting: Sendable {
    /// Dotted key in the YAML file, e.g. `proxy_identity.enabled`.
    public let key: String
    /// What it does, for `--help` and docs/operations.md.
    public let help: String
    /// Applies a raw value, or throws a reason.
    let apply: @Sendable (inout ServerConfiguration, String) throws -> Void

    /// `AGENTRY_` + the key in upper case with `.` as `_`.
    public var environmentVariable: String {
        "AGENTRY_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// `--` + the key with `_` and `.` as `-`.
    public var flag: String {
        "--" + key.replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: ".", with: "-")
    }
}

/// A setting that could not be applied, naming where the bad value came from.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// Why a value was refused.
    public struct Reason: Error, Equatable {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// The setting's key.
    public let key: String
    /// Where the value came from: the file, an environment variable or a flag.
    public let source: String
    /// Why it was refused.
    public let reason: String

    /// `port (from AGENTRY_PORT): must be a whole number from 0 to 65535`.
    public var description: String { "\(key) (from \(source)): \(reason)" }
}
