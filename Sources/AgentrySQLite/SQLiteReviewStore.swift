import AgentryIdentity
import AgentryPolicy
import AgentryRegistry
import AgentryStore
import Foundation
import GRDB

/// `ReviewStore` over a SQLite pool.
struct SQLiteReviewStore: ReviewStore {
    let pool: DatabasePool

    private static let columns = """
        id, agent_id, version, submitted_by, purpose, checklist, policy_revision, approvals_required, state, grants,
        created_at, decided_at, base_version
        """

    func submit(_ submission: StoredSubmission, recording messages: [ChangeMessage]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE agent_versions SET state = 'submitted', updated_at = ?
                    WHERE agent_id = ? AND version = ? AND state = 'draft'
                    """,
                arguments: [StoredTime.milliseconds(submission.createdAt), submission.agentID, submission.version])
            guard db.changesCount > 0 else { return false }
            try db.execute(
                sql: "INSERT INTO submissions (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    submission.id, submission.agentID, submission.version, submission.submittedBy, submission.purpose,
                    try RegistryRows.json(submission.checklist), submission.policyRevision,
                    submission.approvalsRequired, submission.state.rawValue,
                    try submission.grants.map(RegistryRows.json), StoredTime.milliseconds(submission.createdAt),
                    submission.decidedAt.map(StoredTime.milliseconds), submission.baseVersion,
                ])
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    func submission(id: String) async throws -> StoredSubmission? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM submissions WHERE id = ?", arguments: [id])
                .map(Self.submission)
        }
    }

    func submissions(state: SubmissionState?, submittedBy: String?, after: String?, limit: Int) async throws
        -> [StoredSubmission]
    {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM submissions
                    WHERE (? IS NULL OR state = ?) AND (? IS NULL OR submitted_by = ?)
                        AND (? IS NULL OR (created_at, id) < (SELECT created_at, id FROM submissions WHERE id = ?))
                    ORDER BY created_at DESC, id DESC LIMIT ?
                    """,
                arguments: [state?.rawValue, state?.rawValue, submittedBy, submittedBy, after, after, limit]
            ).map(Self.submission)
        }
    }

    func submissions(agentID: String) async throws -> [StoredSubmission] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM submissions WHERE agent_id = ? ORDER BY created_at, id",
                arguments: [agentID]
            ).map(Self.submission)
        }
    }

    func events(submissionID: String) async throws -> [StoredReviewEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT submission_id, sequence, author_id, kind, body, created_at, grants FROM review_events
                    WHERE submission_id = ? ORDER BY sequence
                    """,
                arguments: [submissionID]
            ).map(Self.event)
        }
    }

    func append(
        submissionID: String, authorID: String, kind: StoredReviewEvent.Kind, body: String, grants: Grants?,
        at time: Date, recording messages: [ChangeMessage]
    ) async throws -> StoredReviewEvent? {
        let granted = try grants.map { try RegistryRows.json($0) }
        return try await pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM submissions WHERE id = ?", arguments: [submissionID]) != nil
            else { return nil }
            let last = try Int64.fetchOne(
                db, sql: "SELECT MAX(sequence) FROM review_events WHERE submission_id = ?", arguments: [submissionID])
            let event = StoredReviewEvent(
                submissionID: submissionID, sequence: (last ?? 0) + 1, authorID: authorID, kind: kind, body: body,
                grants: grants, createdAt: time)
            try db.execute(
                sql: """
                    INSERT INTO review_events (submission_id, sequence, author_id, kind, body, created_at, grants)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    submissionID, event.sequence, authorID, kind.rawValue, body, StoredTime.milliseconds(time), granted,
                ])
            try SQLiteIdentityStore.record(messages, into: db)
            return event
        }
    }

    func decide(
        submissionID: String, outcome: SubmissionOutcome, at time: Date, recording messages: [ChangeMessage]
    ) async throws -> Bool {
        let milliseconds = StoredTime.milliseconds(time)
        return try await pool.write { db in
            try db.execute(
                sql: "UPDATE submissions SET state = ?, grants = ?, decided_at = ? WHERE id = ? AND state = 'open'",
                arguments: [
                    outcome.state.rawValue, try outcome.grants.map(RegistryRows.json), milliseconds, submissionID,
                ])
            guard db.changesCount > 0,
                let row = try Row.fetchOne(
                    db, sql: "SELECT agent_id, version FROM submissions WHERE id = ?", arguments: [submissionID])
            else { return false }
            let (agentID, version): (String, String) = (row[0], row[1])
            if outcome.versionState == .published {
                try db.execute(
                    sql: """
                        UPDATE agent_versions SET state = 'retired', updated_at = ?
                        WHERE agent_id = ? AND state = 'published'
                        """,
                    arguments: [milliseconds, agentID])
                try db.execute(
                    sql: "UPDATE agents SET published_version = ?, updated_at = ? WHERE id = ?",
                    arguments: [version, milliseconds, agentID])
                if let entry = outcome.catalogEntry { try SQLiteCatalogStore.upsert(entry, db) }
            }
            try db.execute(
                sql: """
                    UPDATE agent_versions SET state = ?, updated_at = ?
                    WHERE agent_id = ? AND version = ? AND state = 'submitted'
                    """,
                arguments: [outcome.versionState.rawValue, milliseconds, agentID, version])
            guard db.changesCount > 0 else {
                throw RegistryError.conflict("the version of submission \(submissionID), no longer submitted,")
            }
            try SQLiteIdentityStore.record(messages, into: db)
            return true
        }
    }

    private static func submission(_ row: Row) throws -> StoredSubmission {
        let grants: String? = row[9]
        return StoredSubmission(
            id: row[0], agentID: row[1], version: row[2], baseVersion: row[12], submittedBy: row[3], purpose: row[4],
            checklist: try RegistryRows.decode([Checklist.Item].self, row[5]), policyRevision: row[6],
            approvalsRequired: row[7], state: try RegistryRows.submissionState(row[8]),
            grants: try grants.map { try RegistryRows.decode(Grants.self, $0) }, createdAt: StoredTime.date(row[10]),
            decidedAt: (row[11] as Int64?).map(StoredTime.date))
    }

    private static func event(_ row: Row) throws -> StoredReviewEvent {
        StoredReviewEvent(
            submissionID: row[0], sequence: row[1], authorID: row[2], kind: try RegistryRows.eventKind(row[3]),
            body: row[4], grants: try (row[6] as String?).map { try RegistryRows.decode(Grants.self, $0) },
            createdAt: StoredTime.date(row[5]))
    }
}
