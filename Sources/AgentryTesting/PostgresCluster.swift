import AgentryPostgres
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// The throwaway PostgreSQL cluster scripts/test starts; creates and drops one database per test.
public struct PostgresCluster: Sendable {
    /// The administrative URL (`…/postgres`).
    public let adminURL: String

    /// The cluster named by `AGENTRY_TEST_POSTGRES_URL`; fails (never skips) when it is not set.
    public static func fromEnvironment() throws -> PostgresCluster {
        guard let url = ProcessInfo.processInfo.environment[StoreFixture.postgresVariable], !url.isEmpty else {
            throw ExpectationFailure(
                "PostgreSQL tests need \(StoreFixture.postgresVariable); run scripts/test, which starts a throwaway cluster"
            )
        }
        return PostgresCluster(adminURL: url)
    }

    /// The URL of `database` on this cluster.
    public func url(database: String) -> String {
        guard var parts = URLComponents(string: adminURL) else { return adminURL }
        parts.path = "/" + database
        return parts.string ?? adminURL
    }

    /// Creates an empty database with a random name and returns the name.
    public func createDatabase() async throws -> String {
        let name = "agentry_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await withClient { client in
            try await client.query(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: StoreFixture.quietLogger)
        }
        return name
    }

    /// Drops `database`, disconnecting anyone still on it.
    public func dropDatabase(_ name: String) async throws {
        try await withClient { client in
            try await client.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: StoreFixture.quietLogger)
        }
    }

    /// Runs `body` with a client connected to `adminURL`, stopping the client afterwards.
    func withClient(_ body: (PostgresClient) async throws -> Void) async throws {
        let location = try PostgresLocation(url: adminURL)
        let client = PostgresClient(
            configuration: try location.clientConfiguration(), backgroundLogger: StoreFixture.quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}
