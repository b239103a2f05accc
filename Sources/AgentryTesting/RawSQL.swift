import AgentrySQLite
import Foundation
import GRDB
import PostgresNIO

/// Direct SQL on a test store, around Agentry's own code: how adversarial tests tamper with stored state.
public enum RawSQL {
    /// Executes `sql` (one statement) on the store at `location`.
    public static func execute(_ sql: String, on location: StoreFixture.Location) async throws {
        switch location {
        case .sqlite(let path):
            let queue = try connection(path)
            try await queue.write { db in try db.execute(sql: sql) }
            try queue.close()
        case .postgres(let url):
            try await PostgresCluster(adminURL: url).withClient { client in
                try await client.query(PostgresQuery(unsafeSQL: sql), logger: StoreFixture.quietLogger)
            }
        }
    }

    /// The first column of every row `sql` returns, as text.
    public static func strings(_ sql: String, on location: StoreFixture.Location) async throws -> [String] {
        switch location {
        case .sqlite(let path):
            let queue = try connection(path)
            defer { try? queue.close() }
            return try await queue.read { db in try String.fetchAll(db, sql: sql) }
        case .postgres(let url):
            var values: [String] = []
            try await PostgresCluster(adminURL: url).withClient { client in
                let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: StoreFixture.quietLogger)
                for try await value in rows.decode(String.self) { values.append(value) }
            }
            return values
        }
    }

    /// A connection to the SQLite store at `path` with its audit index file attached, so a
    /// statement names the index's tables as if they were in the store's file.
    private static func connection(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        let index = SQLiteStore.auditIndexPath(for: path)
        if FileManager.default.fileExists(atPath: index) {
            configuration.prepareDatabase { db in
                try db.execute(sql: "ATTACH DATABASE ? AS audit_index_file", arguments: [index])
            }
        }
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
