import AgentryIdentity
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `RunStore` over PostgreSQL.
struct PostgresRunStore: RunStore {
    let client: PostgresClient
    let logger: Logger

    func createRun(_ run: StoredRun, recording messages: [ChangeMessage]) async throws {
        let created = StoredTime.milliseconds(run.createdAt)
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query(
                    """
                    INSERT INTO runs (id, agent_id, agent_name, version, invoker_id, team_id, zone, status, inputs,
                        created_at)
                    VALUES (\(run.id), \(run.agentID), \(run.agentName), \(run.version), \(run.invokerID),
                        \(run.teamID), \(run.zone.rawValue), \(run.status.rawValue), \(run.inputs), \(created))
                    """, logger: logger)
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
            }
        }
    }

    func run(id: String) async throws -> StoredRun? {
        try await runs(query: "SELECT \(unescaped: RunRows.columns) FROM runs WHERE id = \(id)").first
    }

    func run(tokenID: String) async throws -> StoredRun? {
        try await runs(query: "SELECT \(unescaped: RunRows.columns) FROM runs WHERE token_id = \(tokenID)").first
    }

    func runs(_ filter: RunFilter, after: String?, limit: Int) async throws -> [StoredRun] {
        let (conditions, arguments) = RunRows.conditions(filter, after: after)
        var bindings = PostgresBindings()
        for argument in arguments { bindings.append(argument) }
        bindings.append(Int64(limit))
        let sql = PostgresPlaceholders.numbered(
            "SELECT \(RunRows.columns) FROM runs WHERE \(conditions) ORDER BY created_at DESC, id DESC LIMIT ?")
        return try await runs(query: PostgresQuery(unsafeSQL: sql, binds: bindings))
    }

    func startRun(id: String, tokenID: String, at time: Date, recording messages: [ChangeMessage]) async throws -> Bool
    {
        try await changed(
            """
            UPDATE runs SET status = 'running', token_id = \(tokenID), started_at = \(StoredTime.milliseconds(time))
            WHERE id = \(id) AND status = 'queued' RETURNING id
            """, recording: messages)
    }

    func finishRun(
        id: String, status: StoredRun.Status, output: String?, error: String?, costMicrodollars: Int64, at time: Date,
        recording messages: [ChangeMessage]
    ) async throws -> Bool {
        precondition(status.isFinal, "a run finishes in a final status")
        let at = StoredTime.milliseconds(time)
        return try await changed(
            """
            UPDATE runs SET status = \(status.rawValue), output = \(output), error = \(error),
                cost_microdollars = \(costMicrodollars), finished_at = \(at)
            WHERE id = \(id) AND status IN ('queued', 'running') RETURNING id
            """, recording: messages)
    }

    func requestCancel(id: String, by userID: String, recording messages: [ChangeMessage]) async throws -> Bool {
        try await changed(
            """
            UPDATE runs SET cancel_requested_by = coalesce(cancel_requested_by, \(userID))
            WHERE id = \(id) AND status IN ('queued', 'running') RETURNING id
            """, recording: messages)
    }

    func appendRunEvent(runID: String, kind: String, data: String, at time: Date) async throws -> Int64 {
        let at = StoredTime.milliseconds(time)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                // The run's row lock orders its events.
                try await connection.query("SELECT id FROM runs WHERE id = \(runID) FOR UPDATE", logger: logger)
                let rows = try await connection.query(
                    """
                    INSERT INTO run_events (run_id, sequence, kind, data, at)
                    SELECT \(runID), coalesce(max(sequence), 0) + 1, \(kind), \(data), \(at)
                    FROM run_events WHERE run_id = \(runID) RETURNING sequence
                    """, logger: logger)
                var sequence: Int64 = 0
                for try await value in rows.decode(Int64.self) { sequence = value }
                return sequence
            }
        }
    }

    func runEvents(runID: String, after sequence: Int64, limit: Int) async throws -> [RunEvent] {
        let rows = try await client.query(
            """
            SELECT run_id, sequence, kind, data, at FROM run_events
            WHERE run_id = \(runID) AND sequence > \(sequence) ORDER BY sequence LIMIT \(Int64(limit))
            """, logger: logger)
        var events: [RunEvent] = []
        for try await row in rows.decode((String, Int64, String, String, Int64).self) {
            events.append(RunEvent(runID: row.0, sequence: row.1, kind: row.2, data: row.3, at: StoredTime.date(row.4)))
        }
        return events
    }

    func usage(agentID: String) async throws -> RunUsage {
        var bindings = PostgresBindings()
        bindings.append(agentID)
        bindings.append(agentID)
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: PostgresPlaceholders.numbered(RunUsage.sql), binds: bindings), logger: logger)
        var counted: [(String, Int64, Int64, Int64)] = []
        for try await row in rows.decode((String, Int64, Int64, Int64).self) { counted.append(row) }
        return RunUsage(rows: counted)
    }

    /// Runs `query` (a write returning ids) in a transaction with `messages`; whether a row changed.
    private func changed(_ query: PostgresQuery, recording messages: [ChangeMessage] = []) async throws -> Bool {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(query, logger: logger)
                var changed = false
                for try await _ in rows.decode(String.self) { changed = true }
                if changed { try await PostgresIdentityStore.record(messages, on: connection, logger: logger) }
                return changed
            }
        }
    }

    /// The runs `query` selects (columns as in `RunRows.columns`).
    private func runs(query: PostgresQuery) async throws -> [StoredRun] {
        let rows = try await client.query(query, logger: logger)
        var runs: [StoredRun] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            runs.append(
                try RunRows.run(
                    text: { try? cells[$0].decode(String?.self) ?? nil },
                    integer: { try? cells[$0].decode(Int64?.self) ?? nil }))
        }
        return runs
    }
}
