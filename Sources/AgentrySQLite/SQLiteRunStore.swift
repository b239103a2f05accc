import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `RunStore` over a SQLite pool.
struct SQLiteRunStore: RunStore {
    let pool: DatabasePool

    func createRun(_ run: StoredRun, recording messages: [ChangeMessage]) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO runs (id, agent_id, agent_name, version, invoker_id, team_id, zone, status, inputs,
                        created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    run.id, run.agentID, run.agentName, run.version, run.invokerID, run.teamID, run.zone.rawValue,
                    run.status.rawValue, run.inputs, StoredTime.milliseconds(run.createdAt),
                ])
            try SQLiteIdentityStore.record(messages, into: db)
        }
    }

    func run(id: String) async throws -> StoredRun? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(RunRows.columns) FROM runs WHERE id = ?", arguments: [id])
                .map(Self.run)
        }
    }

    func run(tokenID: String) async throws -> StoredRun? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(RunRows.columns) FROM runs WHERE token_id = ?", arguments: [tokenID])
                .map(Self.run)
        }
    }

    func runs(_ filter: RunFilter, after: String?, limit: Int) async throws -> [StoredRun] {
        let (conditions, arguments) = RunRows.conditions(filter, after: after)
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT \(RunRows.columns) FROM runs WHERE \(conditions) ORDER BY created_at DESC, id DESC LIMIT ?",
                arguments: StatementArguments(arguments) + [limit]
            ).map(Self.run)
        }
    }

    func startRun(id: String, tokenID: String, at time: Date, recording messages: [ChangeMessage]) async throws -> Bool
    {
        try await pool.write { db in
            try db.execute(
                sql:
                    "UPDATE runs SET status = 'running', token_id = ?, started_at = ? WHERE id = ? AND status = 'queued'",
                arguments: [tokenID, StoredTime.milliseconds(time), id])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func finishRun(
        id: String, status: StoredRun.Status, output: String?, error: String?, costMicrodollars: Int64, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> Bool {
        precondition(status.isFinal, "a run finishes in a final status")
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET status = ?, output = ?, error = ?, cost_microdollars = ?, finished_at = ?
                    WHERE id = ? AND status IN ('queued', 'running')
                    """,
                arguments: [status.rawValue, output, error, costMicrodollars, StoredTime.milliseconds(time), id])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func requestCancel(id: String, by userID: String, recording messages: [ChangeMessage]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE runs SET cancel_requested_by = coalesce(cancel_requested_by, ?)
                    WHERE id = ? AND status IN ('queued', 'running')
                    """,
                arguments: [userID, id])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func appendRunEvent(runID: String, kind: String, data: String, at time: Date) async throws -> Int64 {
        try await pool.write { db in
            try Int64.fetchOne(
                db,
                sql: """
                    INSERT INTO run_events (run_id, sequence, kind, data, at)
                    SELECT ?, coalesce(max(sequence), 0) + 1, ?, ?, ? FROM run_events WHERE run_id = ?
                    RETURNING sequence
                    """,
                arguments: [runID, kind, data, StoredTime.milliseconds(time), runID]) ?? 0
        }
    }

    func runEvents(runID: String, after sequence: Int64, limit: Int) async throws -> [RunEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT run_id, sequence, kind, data, at FROM run_events
                    WHERE run_id = ? AND sequence > ? ORDER BY sequence LIMIT ?
                    """,
                arguments: [runID, sequence, limit]
            ).map { RunEvent(runID: $0[0], sequence: $0[1], kind: $0[2], data: $0[3], at: StoredTime.date($0[4])) }
        }
    }

    func usage(agentID: String) async throws -> RunUsage {
        try await pool.read { db in
            RunUsage(
                rows: try Row.fetchAll(db, sql: RunUsage.sql, arguments: [agentID, agentID]).map {
                    ($0[0], $0[1], $0[2], $0[3])
                })
        }
    }

    /// A run from a row of `RunRows.columns`.
    private static func run(_ row: Row) throws -> StoredRun {
        try RunRows.run(text: { row[$0] as String? }, integer: { row[$0] as Int64? })
    }
}
