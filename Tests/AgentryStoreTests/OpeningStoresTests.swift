import AgentryPostgres
import AgentrySQLite
import AgentryStore
import AgentryTesting
import Foundation
import Testing

/// Opening a store that cannot work must fail fast, clearly, and without echoing credentials.
@Suite("Opening stores")
struct OpeningStoresTests {
    @Test func sqliteCommitsAreFsyncedBeforeTheyAreAcknowledged() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.file("durable.sqlite"))
        // 2 is FULL: in WAL mode the log is synced on every commit, not only at checkpoints.
        #expect(try await store.writerSynchronousLevel() == 2)
        try await store.close()
    }

    @Test func anUnansweringPostgreSQLIsReportedWithoutItsPassword() async throws {
        let started = ContinuousClock.now
        let error = await #expect(throws: StoreError.self) {
            _ = try await PostgresStore(
                url: "postgres://agentry:hunter2secret@127.0.0.1:1/agentry", logger: StoreFixture.quietLogger,
                timeout: .seconds(3))
        }
        let message = error?.message ?? ""
        #expect(message.contains("127.0.0.1:1/agentry"))
        #expect(!message.contains("hunter2secret"))
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test(arguments: [
        "mysql://x@y/z", "postgres://", "postgres://host", "postgres://host/db?sslmode=verify-ca", "not a url",
    ])
    func malformedDatabaseURLsAreRefused(_ url: String) {
        #expect(throws: StoreError.self) { try PostgresLocation(url: url) }
    }

    @Test func aSQLiteFileUnderARegularFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = FileManager.default.createFile(atPath: directory.file("plain"), contents: Data("x".utf8))
        #expect(throws: StoreError.self) { try SQLiteStore(path: directory.file("plain/agentry.sqlite")) }
    }
}
