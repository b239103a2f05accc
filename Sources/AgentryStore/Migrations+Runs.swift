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
}
