extension Migrations {
    /// 19: runs of agents (their status, inputs, output and cost) and each run's events, which
    /// are append-only and stream to whoever follows the run.
    static let runs = Migration(
        version: 19, name: "runs",
        statements: [
            """
            CREATE TABLE runs (
                id TEXT NOT NULL PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                agent_name TEXT NOT NULL,
                version TEXT NOT NULL,
                invoker_id TEXT NOT NULL REFERENCES users (id),
                team_id TEXT,
                zone TEXT NOT NULL,
                status TEXT NOT NULL,
                inputs TEXT NOT NULL,
                output TEXT,
                error TEXT,
                cost_microdollars BIGINT NOT NULL DEFAULT 0,
                token_id TEXT,
                cancel_requested_by TEXT REFERENCES users (id),
                created_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT,
                CONSTRAINT runs_zone CHECK (zone IN ('sandbox', 'catalog')),
                CONSTRAINT runs_status CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled',
                    'cap_exceeded', 'timed_out')),
                CONSTRAINT runs_cost CHECK (cost_microdollars >= 0),
                CONSTRAINT runs_finished CHECK ((status IN ('queued', 'running')) = (finished_at IS NULL))
            )
            """,
            "CREATE INDEX runs_invoker ON runs (invoker_id, created_at)",
            "CREATE INDEX runs_agent ON runs (agent_id, created_at)",
            "CREATE INDEX runs_token ON runs (token_id)",
            "CREATE INDEX runs_active ON runs (status) WHERE status IN ('queued', 'running')",
            """
            CREATE TABLE run_events (
                run_id TEXT NOT NULL REFERENCES runs (id),
                sequence BIGINT NOT NULL,
                kind TEXT NOT NULL,
                data TEXT NOT NULL,
                at BIGINT NOT NULL,
                PRIMARY KEY (run_id, sequence)
            )
            """,
        ],
        sqliteOnly: appendOnlyInSQLite("run_events"),
        postgresOnly: appendOnlyInPostgres("run_events")
    )

    /// 20: on SQLite the audit log's filter index moves to a file of its own, written by a writer
    /// of its own, so indexing never holds the log's write lock (docs/decisions/0012). The index is
    /// derived from the leaves: the new file starts empty and the indexer rebuilds it. PostgreSQL,
    /// whose writers do not exclude each other, keeps it in the database.
    static let auditIndexOwnFile = Migration(
        version: 20, name: "audit_index_own_file", statements: [],
        sqliteOnly: ["DROP TABLE audit_index", "DROP TABLE audit_index_state"])

    /// 21: on SQLite, `audit_records` and `audit_hashes` are keyed by the rowid itself. Declared
    /// `BIGINT PRIMARY KEY`, each kept its rows in one B-tree and a unique index on `idx` in a
    /// second, so every append wrote both; `INTEGER PRIMARY KEY` makes `idx` the rowid. The rows,
    /// constraints and append-only triggers are as before. PostgreSQL keeps its tables.
    static let auditRowidKeys = Migration(
        version: 21, name: "audit_rowid_keys", statements: [],
        sqliteOnly: [
            """
            CREATE TABLE audit_records_rowid (
                idx INTEGER NOT NULL PRIMARY KEY,
                leaf TEXT NOT NULL,
                CONSTRAINT audit_records_index_nonnegative CHECK (idx >= 0)
            )
            """,
            "INSERT INTO audit_records_rowid (idx, leaf) SELECT idx, leaf FROM audit_records ORDER BY idx",
            "DROP TABLE audit_records",
            "ALTER TABLE audit_records_rowid RENAME TO audit_records",
            """
            CREATE TABLE audit_hashes_rowid (
                idx INTEGER NOT NULL PRIMARY KEY,
                hash TEXT NOT NULL,
                CONSTRAINT audit_hashes_sha256 CHECK (length(hash) = 64)
            )
            """,
            "INSERT INTO audit_hashes_rowid (idx, hash) SELECT idx, hash FROM audit_hashes ORDER BY idx",
            "DROP TABLE audit_hashes",
            "ALTER TABLE audit_hashes_rowid RENAME TO audit_hashes",
        ] + appendOnlyInSQLite("audit_records") + appendOnlyInSQLite("audit_hashes"))

    /// 22: on SQLite, new payloads are stored as raw bytes (a BLOB in `audit_payloads.content`,
    /// whose TEXT affinity keeps a BLOB as it is) instead of base64 text: a quarter fewer bytes
    /// written per payload, and no encoding on the writer. Rows written before keep their base64
    /// text and are read as such; SQLite 3.40 has no base64 function to convert them in SQL. The
    /// migration changes no table: it marks the format, so a binary that only reads base64 refuses
    /// the file as newer than itself. PostgreSQL keeps base64 text.
    static let auditPayloadBytes = Migration(version: 22, name: "audit_payload_bytes", statements: [])

    /// 23: on PostgreSQL, the subject, agent and run indexes of `audit_index` leave out records
    /// without one, which a filter on that column never selects: fewer index entries written per
    /// record indexed. SQLite's index file has had them so since migration 20.
    static let auditPartialIndexes = Migration(
        version: 23, name: "audit_partial_indexes", statements: [],
        postgresOnly: ["audit_index_subject", "audit_index_agent", "audit_index_run"].map { "DROP INDEX \($0)" }
            + AuditIndexSchema.partialIndexes.filter { $0.hasSuffix("IS NOT NULL") })
}
