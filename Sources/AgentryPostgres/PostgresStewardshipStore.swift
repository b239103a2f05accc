import AgentryIdentity
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `StewardshipStore` over PostgreSQL; the agent's row lock orders concurrent changes to one agent.
struct PostgresStewardshipStore: StewardshipStore {
    let client: PostgresClient
    let logger: Logger

    private typealias TransferRow = (
        String, String, String, String, String, String, String, String?, String?, Int64, Int64?
    )
    func setAgentState(
        agentID: String, from: [StoredAgent.State], to state: StoredAgent.State, reason: String, actor: String,
        at time: Date, recording messages: [ChangeMessage]
    ) async throws -> AgentStateChange? {
        let at = StoredTime.milliseconds(time)
        let allowed = from.map(\.rawValue)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE agents SET state = \(state.rawValue), updated_at = \(at)
                    WHERE id = \(agentID) AND state = ANY(\(allowed)) RETURNING id
                    """, logger: logger)
                var changed = false
                for try await _ in rows.decode(String.self) { changed = true }
                guard changed else { return nil }
                try await connection.query(
                    "UPDATE catalog_entries SET state = \(state.rawValue) WHERE agent_id = \(agentID)", logger: logger)
                let inserted = try await connection.query(
                    """
                    INSERT INTO agent_state_changes (agent_id, sequence, state, reason, actor_id, changed_at)
                    SELECT \(agentID), coalesce(max(sequence), 0) + 1, \(state.rawValue), \(reason), \(actor), \(at)
                    FROM agent_state_changes WHERE agent_id = \(agentID) RETURNING sequence
                    """, logger: logger)
                var sequence: Int64 = 0
                for try await value in inserted.decode(Int64.self) { sequence = value }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return AgentStateChange(
                    agentID: agentID, sequence: sequence, state: state, reason: reason, actorID: actor, changedAt: time)
            }
        }
    }

    func stateChanges(agentID: String) async throws -> [AgentStateChange] {
        let rows = try await client.query(
            """
            SELECT agent_id, sequence, state, reason, actor_id, changed_at FROM agent_state_changes
            WHERE agent_id = \(agentID) ORDER BY sequence
            """, logger: logger)
        var changes: [AgentStateChange] = []
        for try await row in rows.decode((String, Int64, String, String, String, Int64).self) {
            changes.append(
                AgentStateChange(
                    agentID: row.0, sequence: row.1, state: try RegistryRows.agentState(row.2), reason: row.3,
                    actorID: row.4, changedAt: StoredTime.date(row.5)))
        }
        return changes
    }

    func requestTransfer(_ transfer: OwnershipTransfer, recording messages: [ChangeMessage]) async throws -> Bool {
        let created = StoredTime.milliseconds(transfer.createdAt)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                // The partial unique index keeps one open request per agent.
                let rows = try await connection.query(
                    """
                    INSERT INTO ownership_transfers (id, agent_id, from_owner_id, to_owner_id, requested_by, reason,
                        state, created_at)
                    VALUES (\(transfer.id), \(transfer.agentID), \(transfer.fromOwnerID), \(transfer.toOwnerID),
                        \(transfer.requestedBy), \(transfer.reason), 'open', \(created))
                    ON CONFLICT (agent_id) WHERE state = 'open' DO NOTHING RETURNING id
                    """, logger: logger)
                var inserted = false
                for try await _ in rows.decode(String.self) { inserted = true }
                guard inserted else { return false }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    func transfer(id: String) async throws -> OwnershipTransfer? {
        var binds = PostgresBindings()
        binds.append(id)
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(RegistryRows.transferColumns) FROM ownership_transfers WHERE id = $1", binds: binds
            ),
            logger: logger)
        for try await row in rows.decode(TransferRow.self) { return try Self.transfer(row) }
        return nil
    }

    func transfers(state: OwnershipTransfer.State?, involving userID: String?, after: String?, limit: Int)
        async throws -> [OwnershipTransfer]
    {
        let rows = try await client.query(
            """
            SELECT \(unescaped: RegistryRows.transferColumns) FROM ownership_transfers
            WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                AND (\(userID)::text IS NULL OR \(userID) IN (from_owner_id, to_owner_id, requested_by))
                AND (\(after)::text IS NULL
                    OR (created_at, id) < (SELECT created_at, id FROM ownership_transfers WHERE id = \(after)))
            ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit))
            """, logger: logger)
        var transfers: [OwnershipTransfer] = []
        for try await row in rows.decode(TransferRow.self) { transfers.append(try Self.transfer(row)) }
        return transfers
    }

    func decideTransfer(id: String, _ decision: TransferDecision, at time: Date, recording messages: [ChangeMessage])
        async throws -> Bool
    {
        let at = StoredTime.milliseconds(time)
        do {
            return try await closeTransfer(id: id, decision, at: at, recording: messages)
        } catch is OwnerMoved {
            return false
        }
    }

    private func closeTransfer(id: String, _ decision: TransferDecision, at: Int64, recording messages: [ChangeMessage])
        async throws -> Bool
    {
        try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE ownership_transfers SET state = \(decision.state.rawValue), decided_by = \(decision.by),
                        decision_reason = \(decision.reason), decided_at = \(at)
                    WHERE id = \(id) AND state = 'open' RETURNING agent_id, from_owner_id, to_owner_id
                    """, logger: logger)
                var closed: (String, String, String)?
                for try await row in rows.decode((String, String, String).self) { closed = row }
                guard let (agentID, from, to) = closed else { return false }
                if decision.state == .approved {
                    let moved = try await connection.query(
                        """
                        UPDATE agents SET owner_id = \(to), team_id = \(decision.teamID), updated_at = \(at)
                        WHERE id = \(agentID) AND owner_id = \(from) RETURNING id
                        """, logger: logger)
                    var changed = false
                    for try await _ in moved.decode(String.self) { changed = true }
                    // The owner changed since the request: nothing of this decision is kept.
                    guard changed else { throw OwnerMoved() }
                    try await connection.query(
                        """
                        UPDATE catalog_entries SET owner_id = \(to), team_id = \(decision.teamID)
                        WHERE agent_id = \(agentID)
                        """, logger: logger)
                }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    /// Rolls back an approval whose requester no longer owns the agent.
    private struct OwnerMoved: Error {}

    private static func transfer(_ row: TransferRow) throws -> OwnershipTransfer {
        OwnershipTransfer(
            id: row.0, agentID: row.1, fromOwnerID: row.2, toOwnerID: row.3, requestedBy: row.4, reason: row.5,
            state: try RegistryRows.transferState(row.6), decidedBy: row.7, decisionReason: row.8,
            createdAt: StoredTime.date(row.9), decidedAt: row.10.map(StoredTime.date))
    }
}
