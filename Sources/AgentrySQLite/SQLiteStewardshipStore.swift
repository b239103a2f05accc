import AgentryIdentity
import AgentryStore
import Foundation
import GRDB

/// `StewardshipStore` over a SQLite pool; each change is one write transaction.
struct SQLiteStewardshipStore: StewardshipStore {
    let pool: DatabasePool

    func setAgentState(
        agentID: String, from: [StoredAgent.State], to state: StoredAgent.State, reason: String, actor: String,
        at time: Date, recording messages: [ChangeMessage]
    ) async throws -> AgentStateChange? {
        let at = StoredTime.milliseconds(time)
        return try await pool.write { db in
            let allowed = from.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            try db.execute(
                sql: "UPDATE agents SET state = ?, updated_at = ? WHERE id = ? AND state IN (\(allowed))",
                arguments: [state.rawValue, at, agentID])
            guard db.changesCount > 0 else { return nil }
            try db.execute(
                sql: "UPDATE catalog_entries SET state = ? WHERE agent_id = ?", arguments: [state.rawValue, agentID])
            try db.execute(
                sql: """
                    INSERT INTO agent_state_changes (agent_id, sequence, state, reason, actor_id, changed_at)
                    SELECT ?, coalesce(max(sequence), 0) + 1, ?, ?, ?, ? FROM agent_state_changes WHERE agent_id = ?
                    """,
                arguments: [agentID, state.rawValue, reason, actor, at, agentID])
            let sequence =
                try Int64.fetchOne(
                    db, sql: "SELECT max(sequence) FROM agent_state_changes WHERE agent_id = ?", arguments: [agentID])
                ?? 0
            try SQLiteIdentityStore.record(messages, into: db)
            return AgentStateChange(
                agentID: agentID, sequence: sequence, state: state, reason: reason, actorID: actor, changedAt: time)
        }
    }

    func stateChanges(agentID: String) async throws -> [AgentStateChange] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT agent_id, sequence, state, reason, actor_id, changed_at FROM agent_state_changes
                    WHERE agent_id = ? ORDER BY sequence
                    """,
                arguments: [agentID]
            ).map { row in
                AgentStateChange(
                    agentID: row[0], sequence: row[1], state: try RegistryRows.agentState(row[2]), reason: row[3],
                    actorID: row[4], changedAt: StoredTime.date(row[5]))
            }
        }
    }

    func requestTransfer(_ transfer: OwnershipTransfer, recording messages: [ChangeMessage]) async throws -> Bool {
        try await pool.write { db in
            // The partial unique index keeps one open request per agent.
            try db.execute(
                sql: """
                    INSERT INTO ownership_transfers (id, agent_id, from_owner_id, to_owner_id, requested_by, reason,
                        state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?)
                    ON CONFLICT (agent_id) WHERE state = 'open' DO NOTHING
                    """,
                arguments: [
                    transfer.id, transfer.agentID, transfer.fromOwnerID, transfer.toOwnerID, transfer.requestedBy,
                    transfer.reason, StoredTime.milliseconds(transfer.createdAt),
                ])
            guard db.changesCount > 0 else { return false }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func transfer(id: String) async throws -> OwnershipTransfer? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(RegistryRows.transferColumns) FROM ownership_transfers WHERE id = ?", arguments: [id]
            ).map(Self.transfer)
        }
    }

    func transfers(state: OwnershipTransfer.State?, involving userID: String?, after: String?, limit: Int)
        async throws -> [OwnershipTransfer]
    {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(RegistryRows.transferColumns) FROM ownership_transfers
                    WHERE (? IS NULL OR state = ?)
                        AND (? IS NULL OR ? IN (from_owner_id, to_owner_id, requested_by))
                        AND (? IS NULL OR (created_at, id) < (SELECT created_at, id FROM ownership_transfers WHERE id = ?))
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """,
                arguments: [state?.rawValue, state?.rawValue, userID, userID, after, after, limit]
            ).map(Self.transfer)
        }
    }

    func decideTransfer(id: String, _ decision: TransferDecision, at time: Date, recording messages: [ChangeMessage])
        async throws -> Bool
    {
        let at = StoredTime.milliseconds(time)
        return try await pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT agent_id, from_owner_id, to_owner_id FROM ownership_transfers WHERE id = ? AND state = 'open'",
                    arguments: [id])
            else { return false }
            let (agentID, from, to): (String, String, String) = (row[0], row[1], row[2])
            if decision.state == .approved {
                try db.execute(
                    sql: "UPDATE agents SET owner_id = ?, team_id = ?, updated_at = ? WHERE id = ? AND owner_id = ?",
                    arguments: [to, decision.teamID, at, agentID, from])
                guard db.changesCount > 0 else { return false }
                try db.execute(
                    sql: "UPDATE catalog_entries SET owner_id = ?, team_id = ? WHERE agent_id = ?",
                    arguments: [to, decision.teamID, agentID])
            }
            try db.execute(
                sql: """
                    UPDATE ownership_transfers SET state = ?, decided_by = ?, decision_reason = ?, decided_at = ?
                    WHERE id = ? AND state = 'open'
                    """,
                arguments: [decision.state.rawValue, decision.by, decision.reason, at, id])
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    private static func transfer(_ row: Row) throws -> OwnershipTransfer {
        OwnershipTransfer(
            id: row[0], agentID: row[1], fromOwnerID: row[2], toOwnerID: row[3], requestedBy: row[4], reason: row[5],
            state: try RegistryRows.transferState(row[6]), decidedBy: row[7], decisionReason: row[8],
            createdAt: StoredTime.date(row[9]), decidedAt: (row[10] as Int64?).map(StoredTime.date))
    }
}
