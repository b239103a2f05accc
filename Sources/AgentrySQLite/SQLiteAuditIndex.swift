import AgentryStore
import Foundation
import GRDB

/// The audit log's filter index in a SQLite file of its own, beside the store's file.
///
/// The index is derived from the leaves (decision 0005) and written by a writer of its own, so
/// indexing never holds the write lock the appends need (decision 0012). Losing the file loses
/// nothing: a new one starts empty and the indexer rebuilds it from the leaves.
enum SQLiteAuditIndex {
    /// The index file for the store at `path`: `agentry.sqlite` → `agentry.audit-index.sqlite`.
    static func path(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.pathExtension.isEmpty ? url.lastPathComponent : url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem).audit-index.sqlite").path
    }

    /// Opens (creating if needed) the index file at `path`. Its commits need no fsync of their
    /// own: after a power loss it may cover fewer records than it did, and the indexer redoes them.
    static func open(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "agentry-audit-index"
        let index = try DatabasePool(path: path, configuration: configuration)
        try index.write { db in
            guard try !db.tableExists("audit_index") else { return }
            for statement in AuditIndexSchema.emptySQLiteFile { try db.execute(sql: statement) }
        }
        return index
    }

    /// Empties the index when it covers more records than the log at `log` holds: the log was
    /// replaced (restored from an older backup, say), so the index may describe other leaves.
    static func reconcile(index: DatabasePool, log: DatabasePool) throws {
        let size = try log.read { db -> Int64? in
            guard try db.tableExists("audit_state") else { return nil }
            return try Int64.fetchOne(db, sql: "SELECT size FROM audit_state WHERE id = 1")
        }
        try index.write { db in
            guard try indexedSize(db) > size ?? 0 else { return }
            try db.execute(sql: "DELETE FROM audit_index")
            try db.execute(sql: "UPDATE audit_index_state SET indexed_size = 0 WHERE id = 1")
        }
    }

    /// How many records the index covers.
    static func indexedSize(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT indexed_size FROM audit_index_state WHERE id = 1") ?? 0
    }
}
