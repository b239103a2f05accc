import AgentryStore
import Foundation
import NIOSSL
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
    /// libpq's `sslmode`: `disable`; `prefer` and `require` encrypt without verifying the server's
    /// certificate (as libpq does); `verify-full` also checks the certificate chain and host name.
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
        guard ["disable", "prefer", "require", "verify-full"].contains(sslMode) else {
            throw .unavailable(reason: "sslmode must be disable, prefer, require or verify-full")
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
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(unverified)
            case "verify-full": .require(.makeClientConfiguration())
            default: .prefer(unverified)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 20
        return configuration
    }
}
