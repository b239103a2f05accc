import AgentryAudit
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `AuditStore` over PostgreSQL. Indices are assigned under `SELECT … FOR UPDATE` on the single
/// `audit_state` row inside the append transaction, never from a sequence, so several Agentry
/// instances append to one gap-free tree.
struct PostgresAuditStore: AuditStore {
    let client: PostgresClient
    let logger: Logger

    func append(_ batch: [AuditAppend]) async throws -> [AuditRecord?] {
        guard !batch.isEmpty else { return [] }
        return try await append(collecting: { batch })
    }

    /// The batch is collected once the transaction holds the `audit_state` row lock, so entries
    /// queued while another batch (of this instance or another) held it join this one.
    func append(collecting collect: @escaping @Sendable () -> [AuditAppend]) async throws -> [AuditRecord?] {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let state = try await Self.lockState(on: connection, logger: logger)
                let batch = collect()
                guard !batch.isEmpty else { return [] }
                return try await Self.append(batch, state: state, on: connection, logger: logger)
            }
        }
    }

    /// The log's size and last time, with the row locked until the transaction ends: the lock
    /// that orders every append of every instance.
    private static func lockState(on connection: PostgresConnection, logger: Logger) async throws -> (
        size: Int64, lastTime: Int64
    ) {
        let state = try await connection.query(
            "SELECT size, last_time FROM audit_state WHERE id = 1 FOR UPDATE", logger: logger)
        for try await (size, lastTime) in state.decode((Int64, Int64).self) { return (size, lastTime) }
        preconditionFailure("audit_state has its single row from migration 2 on")
    }

    /// The append's body, inside a transaction (shared with `erasePayload`), with `state` locked:
    /// outbox entries still waiting are taken out of the outbox, the others skipped.
    static func append(
        _ batch: [AuditAppend], state: (size: Int64, lastTime: Int64), on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [AuditRecord?] {
        let ids = AuditBatch.outboxIDs(batch)
        var waiting = Set<String>()
        if !ids.isEmpty {
            let deleted = try await connection.query(
                "DELETE FROM audit_outbox WHERE id = ANY(\(ids)) RETURNING id", logger: logger)
            for try await id in deleted.decode(String.self) { waiting.insert(id) }
        }
        let deliverable = AuditBatch.deliverable(batch, waiting: waiting)
        let records = try await appendRows(
            AuditBatch.chosen(batch, deliverable), state: state, on: connection, logger: logger)
        return AuditBatch.results(deliverable, records: records)
    }

    /// Writes hashes, records, payloads and the new state with one statement.
    private static func appendRows(
        _ batch: [AuditAppend], state: (size: Int64, lastTime: Int64), on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [AuditRecord] {
        guard !batch.isEmpty else { return [] }
        let (size, lastTime) = state
        let rows = try AuditBatch.rows(batch, size: size, lastTime: lastTime)
        let needed = AuditBatch.existingHashIndexes(size: size, count: rows.count)
        var existing: [Int64: LogHash] = [:]
        if !needed.isEmpty {
            let found = try await connection.query(
                "SELECT idx, hash FROM audit_hashes WHERE idx = ANY(\(needed))", logger: logger)
            for try await (index, hex) in found.decode((Int64, String).self) { existing[index] = LogHash(hex: hex) }
        }
        guard existing.count == needed.count else { throw AuditStoreError.missingHashes }
        let hashes = AuditBatch.storedHashes(for: rows, existing: existing)
        let payloads = rows.flatMap { row in row.payloads.map { (row.index, $0) } }
        let newSize = size + Int64(rows.count)
        let newTime = rows.last?.event.time ?? lastTime
        // Data-modifying CTEs each run exactly once: one round trip while the lock is held.
        try await connection.query(
            """
            WITH hashes AS (
                INSERT INTO audit_hashes (idx, hash)
                SELECT * FROM unnest(\(hashes.map(\.0))::bigint[], \(hashes.map(\.1.hex))::text[])
            ), records AS (
                INSERT INTO audit_records (idx, leaf)
                SELECT * FROM unnest(\(rows.map(\.index))::bigint[],
                    \(rows.map { String(decoding: $0.leaf, as: UTF8.self) })::text[])
            ), payloads AS (
                INSERT INTO audit_payloads (record_index, name, commitment, salt, content)
                SELECT * FROM unnest(\(payloads.map(\.0))::bigint[], \(payloads.map(\.1.name))::text[],
                    \(payloads.map(\.1.commitment.hash.hex))::text[],
                    \(payloads.map { HexText.encode($0.1.salt) })::text[],
                    \(payloads.map { Base64Text.encode($0.1.bytes) })::text[])
            )
            UPDATE audit_state SET size = \(newSize), last_time = \(newTime) WHERE id = 1
            """, logger: logger)
        return rows.map { AuditRecord(index: $0.index, leaf: $0.leaf) }
    }

    func size() async throws -> Int64 {
        let rows = try await client.query("SELECT size FROM audit_state WHERE id = 1", logger: logger)
        for try await size in rows.decode(Int64.self) { return size }
        return 0
    }

    func records(from start: Int64, count: Int) async throws -> [AuditRecord] {
        try await Self.records(
            client.query(
                "SELECT idx, leaf FROM audit_records WHERE idx >= \(start) ORDER BY idx LIMIT \(count)", logger: logger)
        )
    }

    func indexedSize() async throws -> Int64 {
        let rows = try await client.query("SELECT indexed_size FROM audit_index_state WHERE id = 1", logger: logger)
        for try await size in rows.decode(Int64.self) { return size }
        return 0
    }

    /// Instances index one at a time: the `audit_index_state` row is locked for the transaction
    /// (never `audit_state`, so appends go on meanwhile).
    func extendIndex(limit: Int) async throws -> Int {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> Int in
                // The index is derived from durable leaves: its commit need not wait for the WAL
                // flush, since after a crash the indexer simply does the lost batches again.
                try await connection.query("SET LOCAL synchronous_commit = off", logger: logger)
                var start: Int64 = 0
                for try await size in try await connection.query(
                    "SELECT indexed_size FROM audit_index_state WHERE id = 1 FOR UPDATE", logger: logger
                ).decode(Int64.self) { start = size }
                let entries = try await Self.records(
                    connection.query(
                        "SELECT idx, leaf FROM audit_records WHERE idx >= \(start) ORDER BY idx LIMIT \(limit)",
                        logger: logger)
                ).map(AuditIndexEntry.init)
                guard let last = entries.last else { return 0 }
                // Absent identifiers travel as '' (never a valid value).
                try await connection.query(
                    """
                    INSERT INTO audit_index (idx, time, kind, actor, subject, agent, run)
                    SELECT idx, time, kind, actor, NULLIF(subject, ''), NULLIF(agent, ''), NULLIF(run, '')
                    FROM unnest(\(entries.map(\.index))::bigint[], \(entries.map(\.time))::bigint[],
                        \(entries.map(\.kind))::text[], \(entries.map(\.actor))::text[],
                        \(entries.map { $0.subject ?? "" })::text[], \(entries.map { $0.agent ?? "" })::text[],
                        \(entries.map { $0.run ?? "" })::text[]) AS r(idx, time, kind, actor, subject, agent, run)
                    """, logger: logger)
                try await connection.query(
                    "UPDATE audit_index_state SET indexed_size = \(last.index + 1) WHERE id = 1", logger: logger)
                return entries.count
            }
        }
    }

    func indexedRecords(matching filter: AuditFilter, from start: Int64, below end: Int64, count: Int) async throws
        -> [AuditRecord]
    {
        let (clause, arguments) = AuditFilterSQL.whereClause(filter, start: start)
        var bindings = PostgresBindings()
        for argument in arguments {
            switch argument {
            case .integer(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            }
        }
        bindings.append(end)
        bindings.append(count)
        let sql = PostgresPlaceholders.numbered(
            """
            SELECT idx, leaf FROM audit_records WHERE idx IN
                (SELECT idx FROM audit_index WHERE \(clause) AND idx < ? ORDER BY idx LIMIT ?)
            ORDER BY idx
            """)
        return try await Self.records(client.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger))
    }

    func readHashes(_ indexes: [Int64]) async throws -> [LogHash] {
        guard !indexes.isEmpty else { return [] }
        let rows = try await client.query(
            "SELECT idx, hash FROM audit_hashes WHERE idx = ANY(\(indexes))", logger: logger)
        var byIndex: [Int64: LogHash] = [:]
        for try await (index, hex) in rows.decode((Int64, String).self) { byIndex[index] = LogHash(hex: hex) }
        return try indexes.map { index in
            guard let hash = byIndex[index] else { throw AuditStoreError.missingHashes }
            return hash
        }
    }

    func hashes(from start: Int64, count: Int) async throws -> [LogHash] {
        let end = start + Int64(count)
        let rows = try await client.query(
            "SELECT idx, hash FROM audit_hashes WHERE idx >= \(start) AND idx < \(end) ORDER BY idx", logger: logger)
        var found: [(index: Int64, hex: String)] = []
        for try await (index, hex) in rows.decode((Int64, String).self) { found.append((index, hex)) }
        return try AuditHashRange.assemble(found, from: start, count: count)
    }

    func storeCheckpoint(size: Int64, note: String, at time: Int64) async throws {
        try await client.query(
            """
            INSERT INTO audit_checkpoints (size, note, created_at) VALUES (\(size), \(note), \(time))
            ON CONFLICT (size) DO NOTHING
            """, logger: logger)
    }

    func checkpoints() async throws -> [(size: Int64, note: String)] {
        let rows = try await client.query("SELECT size, note FROM audit_checkpoints ORDER BY size", logger: logger)
        var result: [(size: Int64, note: String)] = []
        for try await (size, note) in rows.decode((Int64, String).self) { result.append((size, note)) }
        return result
    }

    /// A session-level advisory lock on one pooled connection, held while `body` runs.
    func withCheckpointLease<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T? {
        try await client.withConnection { connection -> T? in
            let key = Self.checkpointLockKey
            var acquired = false
            for try await value in try await connection.query("SELECT pg_try_advisory_lock(\(key))", logger: logger)
                .decode(Bool.self)
            {
                acquired = value
            }
            guard acquired else { return nil }
            do {
                let result = try await body()
                try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
                throw error
            }
        }
    }

    /// Any 64-bit number unique to "Agentry checkpoint signing".
    static let checkpointLockKey: Int64 = 0x4147_454E_5452_5932

    func latestCheckpoint() async throws -> (size: Int64, note: String)? {
        let rows = try await client.query(
            "SELECT size, note FROM audit_checkpoints ORDER BY size DESC LIMIT 1", logger: logger)
        for try await (size, note) in rows.decode((Int64, String).self) { return (size, note) }
        return nil
    }

    func payload(record: Int64, name: String) async throws -> StoredPayload? {
        try await Self.payloads(
            client.query(
                """
                SELECT commitment, record_index, name, salt, content FROM audit_payloads
                WHERE record_index = \(record) AND name = \(name)
                """, logger: logger)
        ).first
    }

    func payloads(from start: Int64, count: Int) async throws -> [StoredPayload] {
        let end = start + Int64(count)
        return try await Self.payloads(
            client.query(
                """
                SELECT commitment, record_index, name, salt, content FROM audit_payloads
                WHERE record_index >= \(start) AND record_index < \(end)
                """, logger: logger))
    }

    func erasePayload(record: Int64, name: String, erasure: AuditAppend) async throws -> AuditRecord? {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection -> AuditRecord? in
                let deleted = try await connection.query(
                    """
                    DELETE FROM audit_payloads
                    WHERE record_index = \(record) AND name = \(name) AND commitment = \(erasure.event.erases?.hex ?? "")
                    RETURNING commitment
                    """, logger: logger)
                guard try await deleted.collect().count == 1 else { return nil }
                let state = try await Self.lockState(on: connection, logger: logger)
                return try await Self.append([erasure], state: state, on: connection, logger: logger).first ?? nil
            }
        }
    }

    func outbox(olderThan time: Int64, limit: Int) async throws -> [OutboxEntry] {
        let rows = try await client.query(
            "SELECT id, body FROM audit_outbox WHERE created_at < \(time) ORDER BY created_at, id LIMIT \(limit)",
            logger: logger)
        var entries: [OutboxEntry] = []
        for try await (id, body) in rows.decode((String, String).self) {
            entries.append(OutboxEntry(id: id, body: body))
        }
        return entries
    }

    private static func records(_ rows: PostgresRowSequence) async throws -> [AuditRecord] {
        var records: [AuditRecord] = []
        for try await (index, leaf) in rows.decode((Int64, String).self) {
            records.append(AuditRecord(index: index, leaf: Array(leaf.utf8)))
        }
        return records
    }

    private static func payloads(_ rows: PostgresRowSequence) async throws -> [StoredPayload] {
        var payloads: [StoredPayload] = []
        for try await (hex, index, name, saltHex, content) in rows.decode((String, Int64, String, String, String).self)
        {
            guard let commitment = LogHash(hex: hex), let salt = HexText.decode(saltHex),
                salt.count == PayloadCommitment.saltByteCount,
                let bytes = Base64Text.decode(content)
            else { throw AuditStoreError.corruptPayloadRow }
            payloads.append(
                StoredPayload(
                    commitment: commitment, recordIndex: index,
                    payload: AuditPayload(name: name, bytes: bytes, salt: salt)))
        }
        return payloads
    }
}
