import AgentryStore
import Foundation
import PostgresNIO

/// Where a PostgreSQL database is, parsed from a `postgres://user:password@host:port/database` URL.
public struct PostgresLocation: Sendable {
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int
    /// Role to connect as.
    public var username: String
    /// Password, if the server asks for one; never printed.
    var password: String?
    /// Database name.
    public var database: String
    /// `disable`, `prefer` or `require` (libpq's `sslmode`, without certificate verification modes).
    public var sslMode: String

    /// Parses `url` strictly; the error names what is wrong without repeating the password.
    public init(url: String) throws(StoreError) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw .unavailable(reason: "the database URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = parts.host, !host.isEmpty else { throw .unavailable(reason: "the database URL has no host") }
        let database = String(parts.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw .unavailable(reason: "the database URL names no database") }
        let sslMode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw .unavailable(reason: "sslmode must be disable, prefer or require")
        }
        self.host = host
        self.port = parts.port ?? 5432
        self.username = parts.user?.removingPercentEncoding ?? "postgres"
        self.password = parts.password?.removingPercentEncoding
        self.database = database.removingPercentEncoding ?? database
        self.sslMode = sslMode
    }

    /// `host:port/database`, safe to print: no user, no password.
    public var displayName: String { "\(host):\(port)/\(database)" }

    /// The client configuration for this location.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 20
        return configuration
    }
}
