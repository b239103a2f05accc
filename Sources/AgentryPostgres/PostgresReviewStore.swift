import AgentryIdentity
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation
import Logging
import PostgresNIO

/// `ReviewStore` over PostgreSQL.
struct PostgresReviewStore: ReviewStore {
    let client: PostgresClient
    let logger: Logger

    private typealias Row = (
        String, String, String, String, String, String, Int64, Int64, String, String?, Int64, Int64?, String?
    )
    private typealias EventRow = (String, Int64, String, String, String, Int64, String?)
    private static let columns = """
        id, agent_id, version, submitted_by, purpose, checklist, policy_revision, approvals_required, state, grants,
        created_at, decided_at, base_version
        """

    func submit(_ submission: StoredSubmission, recording messages: [ChangeMessage]) async throws -> Bool {
        let checklist = try RegistryRows.json(submission.checklist)
        let grants = try submission.grants.map(RegistryRows.json)
        let created = StoredTime.milliseconds(submission.createdAt)
        let decided = submission.decidedAt.map(StoredTime.milliseconds)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE agent_versions SET state = 'submitted', updated_at = \(created)
                    WHERE agent_id = \(submission.agentID) AND version = \(submission.version) AND state = 'draft'
                    RETURNING version
                    """, logger: logger)
                var moved = false
                for try await _ in rows.decode(String.self) { moved = true }
                guard moved else { return false }
                try await connection.query(
                    """
                    INSERT INTO submissions (id, agent_id, version, submitted_by, purpose, checklist, policy_revision,
                        approvals_required, state, grants, created_at, decided_at, base_version)
                    VALUES (\(submission.id), \(submission.agentID), \(submission.version), \(submission.submittedBy),
                        \(submission.purpose), \(checklist), \(submission.policyRevision),
                        \(Int64(submission.approvalsRequired)), \(submission.state.rawValue), \(grants), \(created),
                        \(decided), \(submission.baseVersion))
                    """, logger: logger)
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    func submission(id: String) async throws -> StoredSubmission? {
        let rows = try await client.query(
            PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM submissions WHERE id = $1", binds: Self.binds(id)),
            logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.submission(row) }
        return nil
    }

    func submissions(state: SubmissionState?, submittedBy: String?, after: String?, limit: Int) async throws
        -> [StoredSubmission]
    {
        let rows = try await client.query(
            """
            SELECT id, agent_id, version, submitted_by, purpose, checklist, policy_revision, approvals_required, state,
                grants, created_at, decided_at, base_version FROM submissions
            WHERE (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
                AND (\(submittedBy)::text IS NULL OR submitted_by = \(submittedBy))
                AND (\(after)::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM submissions WHERE id = \(after)))
            ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit))
            """, logger: logger)
        var submissions: [StoredSubmission] = []
        for try await row in rows.decode(Row.self) { submissions.append(try Self.submission(row)) }
        return submissions
    }

    func submissions(agentID: String) async throws -> [StoredSubmission] {
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: "SELECT \(Self.columns) FROM submissions WHERE agent_id = $1 ORDER BY created_at, id",
                binds: Self.binds(agentID)),
            logger: logger)
        var submissions: [StoredSubmission] = []
        for try await row in rows.decode(Row.self) { submissions.append(try Self.submission(row)) }
        return submissions
    }

    func events(submissionID: String) async throws -> [StoredReviewEvent] {
        let rows = try await client.query(
            """
            SELECT submission_id, sequence, author_id, kind, body, created_at, grants FROM review_events
            WHERE submission_id = \(submissionID) ORDER BY sequence
            """, logger: logger)
        var events: [StoredReviewEvent] = []
        for try await row in rows.decode(EventRow.self) { events.append(try Self.event(row)) }
        return events
    }

    func append(
        submissionID: String, authorID: String, kind: StoredReviewEvent.Kind, body: String, grants: Grants?,
        at time: Date, recording messages: [ChangeMessage]
    ) async throws -> StoredReviewEvent? {
        let created = StoredTime.milliseconds(time)
        let granted = try grants.map { try RegistryRows.json($0) }
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                // Locking the submission serialises appends to its thread, so sequences never collide.
                let locked = try await connection.query(
                    "SELECT id FROM submissions WHERE id = \(submissionID) FOR UPDATE", logger: logger)
                var exists = false
                for try await _ in locked.decode(String.self) { exists = true }
                guard exists else { return nil }
                let rows = try await connection.query(
                    """
                    INSERT INTO review_events (submission_id, sequence, author_id, kind, body, created_at, grants)
                    SELECT \(submissionID), COALESCE(MAX(sequence), 0) + 1, \(authorID), \(kind.rawValue), \(body),
                        \(created), \(granted)
                    FROM review_events WHERE submission_id = \(submissionID)
                    RETURNING sequence
                    """, logger: logger)
                var sequence: Int64 = 0
                for try await value in rows.decode(Int64.self) { sequence = value }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return StoredReviewEvent(
                    submissionID: submissionID, sequence: sequence, authorID: authorID, kind: kind, body: body,
                    grants: grants, createdAt: time)
            }
        }
    }

    func decide(
        submissionID: String, outcome: SubmissionOutcome, at time: Date, recording messages: [ChangeMessage]
    ) async throws -> Bool {
        let milliseconds = StoredTime.milliseconds(time)
        let grants = try outcome.grants.map(RegistryRows.json)
        return try await PostgresErrors.unwrapping {
            try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    UPDATE submissions SET state = \(outcome.state.rawValue), grants = \(grants),
                        decided_at = \(milliseconds)
                    WHERE id = \(submissionID) AND state = 'open' RETURNING agent_id, version
                    """, logger: logger)
                var decided: (String, String)?
                for try await row in rows.decode((String, String).self) { decided = row }
                guard let (agentID, version) = decided else { return false }
                if outcome.versionState == .published {
                    try await connection.query(
                        """
                        UPDATE agent_versions SET state = 'retired', updated_at = \(milliseconds)
                        WHERE agent_id = \(agentID) AND state = 'published'
                        """, logger: logger)
                    try await connection.query(
                        """
                        UPDATE agents SET published_version = \(version), updated_at = \(milliseconds)
                        WHERE id = \(agentID)
                        """, logger: logger)
                    if let entry = outcome.catalogEntry {
                        try await PostgresCatalogStore.upsert(entry, on: connection, logger: logger)
                    }
                }
                let moved = try await connection.query(
                    """
                    UPDATE agent_versions SET state = \(outcome.versionState.rawValue), updated_at = \(milliseconds)
                    WHERE agent_id = \(agentID) AND version = \(version) AND state = 'submitted' RETURNING version
                    """, logger: logger)
                var changed = false
                for try await _ in moved.decode(String.self) { changed = true }
                guard changed else {
                    throw RegistryError.conflict("the version of submission \(submissionID), no longer submitted,")
                }
                try await PostgresIdentityStore.record(messages, on: connection, logger: logger)
                return true
            }
        }
    }

    private static func binds(_ value: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }

    private static func submission(_ row: Row) throws -> StoredSubmission {
        StoredSubmission(
            id: row.0, agentID: row.1, version: row.2, baseVersion: row.12, submittedBy: row.3, purpose: row.4,
            checklist: try RegistryRows.decode([Checklist.Item].self, row.5), policyRevision: row.6,
            approvalsRequired: Int(row.7), state: try RegistryRows.submissionState(row.8),
            grants: try row.9.map { try RegistryRows.decode(Grants.self, $0) }, createdAt: StoredTime.date(row.10),
            decidedAt: row.11.map(StoredTime.date))
    }

    private static func event(_ row: EventRow) throws -> StoredReviewEvent {
        StoredReviewEvent(
            submissionID: row.0, sequence: row.1, authorID: row.2, kind: try RegistryRows.eventKind(row.3), body: row.4,
            grants: try row.6.map { try RegistryRows.decode(Grants.self, $0) }, createdAt: StoredTime.date(row.5))
    }
}
