import AgentryAudit
import AgentryStore
import Foundation
import GRDB

/// `AuditStore` over a SQLite pool. SQLite has one writer, so the write transaction is the lock
/// that assigns indices; WAL with `synchronous = FULL` makes a commit durable before `append` returns.
/// The filter index lives in a file of its own (`SQLiteAuditIndex`), so indexing never holds that lock.
struct SQLiteAuditStore: AuditStore {
    let pool: DatabasePool
    let index: DatabasePool

    func append(_ batch: [AuditAppend]) async throws -> [AuditRecord?] {
        guard !batch.isEmpty else { return [] }
        return try await append(collecting: { batch })
    }

    /// The batch is collected once the writer holds SQLite's write lock.
    func append(collecting collect: @escaping @Sendable () -> [AuditAppend]) async throws -> [AuditRecord?] {
        try await pool.write { db in
            let batch = collect()
            return batch.isEmpty ? [] : try Self.append(batch, in: db)
        }
    }

    /// The append's body, inside a write transaction (shared with `erasePayload`): outbox entries
    /// still waiting are taken out of the outbox, the others skipped.
    static func append(_ batch: [AuditAppend], in db: Database) throws -> [AuditRecord?] {
        let ids = AuditBatch.outboxIDs(batch)
        var waiting = Set<String>()
        if !ids.isEmpty {
            let placeholders = ids.map { _ in "?" }.joined(separator: ",")
            waiting = Set(
                try String.fetchAll(
                    db, sql: "DELETE FROM audit_outbox WHERE id IN (\(placeholders)) RETURNING id",
                    arguments: StatementArguments(ids)))
        }
        let deliverable = AuditBatch.deliverable(batch, waiting: waiting)
        let records = try appendRows(AuditBatch.chosen(batch, deliverable), in: db)
        return AuditBatch.results(deliverable, records: records)
    }

    private static func appendRows(_ batch: [AuditAppend], in db: Database) throws -> [AuditRecord] {
        guard !batch.isEmpty else { return [] }
        guard let state = try Row.fetchOne(db, sql: "SELECT size, last_time FROM audit_state WHERE id = 1") else {
            preconditionFailure("audit_state has its single row from migration 2 on")
        }
        let size: Int64 = state["size"]
        let rows = try AuditBatch.rows(batch, size: size, lastTime: state["last_time"])
        let needed = AuditBatch.existingHashIndexes(size: size, count: rows.count)
        var existing: [Int64: LogHash] = [:]
        if !needed.isEmpty {
            let placeholders = needed.map { _ in "?" }.joined(separator: ",")
            for row in try Row.fetchAll(
                db, sql: "SELECT idx, hash FROM audit_hashes WHERE idx IN (\(placeholders))",
                arguments: StatementArguments(needed))
            {
                existing[row["idx"]] = LogHash(hex: row["hash"])
            }
        }
        guard existing.count == needed.count else { throw AuditStoreError.missingHashes }
        // Prepared once per connection and reused: parsing SQL per row would dominate large batches.
        let insertHash = try db.cachedStatement(sql: "INSERT INTO audit_hashes (idx, hash) VALUES (?, ?)")
        let insertRecord = try db.cachedStatement(sql: "INSERT INTO audit_records (idx, leaf) VALUES (?, ?)")
        let insertPayload = try db.cachedStatement(
            sql: "INSERT INTO audit_payloads (record_index, name, commitment, salt, content) VALUES (?, ?, ?, ?, ?)")
        for (index, hash) in AuditBatch.storedHashes(for: rows, existing: existing) {
            try insertHash.execute(arguments: [index, hash.hex])
        }
        for row in rows {
            try insertRecord.execute(arguments: [row.index, String(decoding: row.leaf, as: UTF8.self)])
            for payload in row.payloads {
                try insertPayload.execute(arguments: [
                    row.index, payload.name, payload.commitment.hash.hex, HexText.encode(payload.salt),
                    Data(payload.bytes),
                ])
            }
        }
        try db.execute(
            sql: "UPDATE audit_state SET size = ?, last_time = ? WHERE id = 1",
            arguments: [size + Int64(rows.count), rows.last?.event.time ?? state["last_time"]])
        return rows.map { AuditRecord(index: $0.index, leaf: $0.leaf) }
    }

    func size() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT size FROM audit_state WHERE id = 1") ?? 0 }
    }

    /// A cursor with positional columns: verification reads every record through here.
    func records(from start: Int64, count: Int) async throws -> [AuditRecord] {
        try await pool.read { db in
            var records: [AuditRecord] = []
            records.reserveCapacity(min(count, 10_000))
            let rows = try Row.fetchCursor(
                db, sql: "SELECT idx, leaf FROM audit_records WHERE idx >= ? ORDER BY idx LIMIT ?",
                arguments: [start, count])
            while let row = try rows.next() { records.append(try Self.record(row)) }
            return records
        }
    }

    func indexedSize() async throws -> Int64 { try await index.read(SQLiteAuditIndex.indexedSize) }

    /// Leaves are read and decoded from a snapshot of the log; the index file's write transaction
    /// just inserts, and starts over if another indexer got there first.
    func extendIndex(limit: Int) async throws -> Int {
        while true {
            let start = try await index.read(SQLiteAuditIndex.indexedSize)
            let records = try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT idx, leaf FROM audit_records WHERE idx >= ? ORDER BY idx LIMIT ?",
                    arguments: [start, limit]
                ).map(Self.record)
            }
            let entries = records.map(AuditIndexEntry.init)
            guard let last = entries.last else { return 0 }
            let indexed = try await index.write { db -> Bool in
                guard try SQLiteAuditIndex.indexedSize(db) == start else { return false }
                let insert = try db.cachedStatement(
                    sql:
                        "INSERT INTO audit_index (idx, time, kind, actor, subject, agent, run) VALUES (?, ?, ?, ?, ?, ?, ?)"
                )
                for entry in entries {
                    try insert.execute(arguments: [
                        entry.index, entry.time, entry.kind, entry.actor, entry.subject, entry.agent, entry.run,
                    ])
                }
                try db.execute(
                    sql: "UPDATE audit_index_state SET indexed_size = ? WHERE id = 1", arguments: [last.index + 1])
                return true
            }
            if indexed { return entries.count }
        }
    }

    /// The matching indexes come from the index file, their leaves from the log: records never
    /// change once written, so the two reads need no common snapshot.
    func indexedRecords(matching filter: AuditFilter, from start: Int64, below end: Int64, count: Int) async throws
        -> [AuditRecord]
    {
        let (clause, arguments) = AuditFilterSQL.whereClause(filter, start: start)
        let indexes = try await index.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT idx FROM audit_index WHERE \(clause) AND idx < ? ORDER BY idx LIMIT ?",
                arguments: StatementArguments(
                    arguments.map(\.databaseValue) + [end.databaseValue, count.databaseValue]))
        }
        guard !indexes.isEmpty else { return [] }
        let list = "[" + indexes.map(String.init).joined(separator: ",") + "]"
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT idx, leaf FROM audit_records WHERE idx IN (SELECT value FROM json_each(?)) ORDER BY idx",
                arguments: [list]
            ).map(Self.record)
        }
    }

    func readHashes(_ indexes: [Int64]) async throws -> [LogHash] {
        guard !indexes.isEmpty else { return [] }
        let found = try await pool.read { db in
            let placeholders = indexes.map { _ in "?" }.joined(separator: ",")
            return try Row.fetchAll(
                db, sql: "SELECT idx, hash FROM audit_hashes WHERE idx IN (\(placeholders))",
                arguments: StatementArguments(indexes)
            ).map { (index: $0["idx"] as Int64, hex: $0["hash"] as String) }
        }
        var byIndex: [Int64: LogHash] = [:]
        for row in found { byIndex[row.index] = LogHash(hex: row.hex) }
        return try indexes.map { index in
            guard let hash = byIndex[index] else { throw AuditStoreError.missingHashes }
            return hash
        }
    }

    /// A cursor parsing hex in place: verification reads every stored hash through here.
    func hashes(from start: Int64, count: Int) async throws -> [LogHash] {
        try await pool.read { db in
            var hashes: [LogHash] = []
            hashes.reserveCapacity(count)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT idx, hash FROM audit_hashes WHERE idx >= ? AND idx < ? ORDER BY idx",
                arguments: [start, start + Int64(count)])
            while let row = try rows.next() {
                let hash = try row.withUnsafeData(atIndex: 1) { data in
                    data?.withUnsafeBytes { LogHash(hexDigits: $0) } ?? nil
                }
                guard row[0] as Int64 == start + Int64(hashes.count), let hash else {
                    throw AuditStoreError.missingHashes
                }
                hashes.append(hash)
            }
            guard hashes.count == count else { throw AuditStoreError.missingHashes }
            return hashes
        }
    }

    func storeCheckpoint(size: Int64, note: String, at time: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO audit_checkpoints (size, note, created_at) VALUES (?, ?, ?) ON CONFLICT (size) DO NOTHING",
                arguments: [size, note, time])
        }
    }

    func checkpoints() async throws -> [(size: Int64, note: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT size, note FROM audit_checkpoints ORDER BY size").map {
                (size: $0["size"] as Int64, note: $0["note"] as String)
            }
        }
    }

    /// One SQLite file has one writer; its write lock already orders checkpoints, so the lease is always free.
    func withCheckpointLease<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T? {
        try await body()
    }

    func latestCheckpoint() async throws -> (size: Int64, note: String)? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1").map {
                (size: $0["size"] as Int64, note: $0["note"] as String)
            }
        }
    }

    func payload(record: Int64, name: String) async throws -> StoredPayload? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM audit_payloads WHERE record_index = ? AND name = ?", arguments: [record, name]
            ).map(Self.payload)
        }
    }

    func payloads(from start: Int64, count: Int) async throws -> [StoredPayload] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_payloads WHERE record_index >= ? AND record_index < ?",
                arguments: [start, start + Int64(count)]
            ).map(Self.payload)
        }
    }

    func erasePayload(record: Int64, name: String, erasure: AuditAppend) async throws -> AuditRecord? {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM audit_payloads WHERE record_index = ? AND name = ? AND commitment = ?",
                arguments: [record, name, erasure.event.erases?.hex])
            guard db.changesCount == 1 else { return nil }
            return try Self.append([erasure], in: db).first ?? nil
        }
    }

    func outbox(olderThan time: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, body FROM audit_outbox WHERE created_at < ? ORDER BY created_at, id LIMIT ?",
                arguments: [time, limit]
            ).map { OutboxEntry(id: $0[0], body: $0[1]) }
        }
    }

    /// A record from a row whose columns are `idx, leaf`.
    private static func record(_ row: Row) throws -> AuditRecord {
        AuditRecord(index: row[0], leaf: try row.withUnsafeData(atIndex: 1) { data in data.map { [UInt8]($0) } ?? [] })
    }

    /// A stored payload. Its content is raw bytes (a BLOB) since migration 22; rows written
    /// before hold base64 text, which is read as such.
    private static func payload(_ row: Row) throws -> StoredPayload {
        let content: [UInt8]? =
            switch (row["content"] as DatabaseValue).storage {
            case .blob(let data): [UInt8](data)
            case .string(let text): Base64Text.decode(text)
            default: nil
            }
        guard let commitment = LogHash(hex: row["commitment"]), let salt = HexText.decode(row["salt"]),
            salt.count == PayloadCommitment.saltByteCount, let bytes = content
        else { throw AuditStoreError.corruptPayloadRow }
        return StoredPayload(
            commitment: commitment, recordIndex: row["record_index"],
            payload: AuditPayload(name: row["name"], bytes: bytes, salt: salt))
    }
}

extension AuditSQLValue {
    /// The GRDB value to bind.
    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let value): value.databaseValue
        case .text(let value): value.databaseValue
        }
    }
}
