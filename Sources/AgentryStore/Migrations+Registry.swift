extension Migrations {
    /// 12: agents and their versions. A version's package (the zip) is stored with it; once a
    /// version leaves `draft` its package and manifest never change, which the database enforces.
    static let agents = Migration(
        version: 12, name: "agents",
        statements: [
            """
            CREATE TABLE agents (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                owner_id TEXT NOT NULL REFERENCES users (id),
                team_id TEXT REFERENCES teams (id),
                state TEXT NOT NULL,
                published_version TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT agents_name UNIQUE (name),
                CONSTRAINT agents_state CHECK (state IN ('active', 'suspended', 'deprecated'))
            )
            """,
            "CREATE INDEX agents_owner ON agents (owner_id)",
            """
            CREATE TABLE agent_versions (
                agent_id TEXT NOT NULL REFERENCES agents (id),
                version TEXT NOT NULL,
                state TEXT NOT NULL,
                manifest TEXT NOT NULL,
                package_sha256 TEXT NOT NULL,
                files TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (agent_id, version),
                CONSTRAINT agent_versions_state CHECK (state IN (
                    'draft', 'submitted', 'changes_requested', 'rejected', 'published', 'retired')),
                CONSTRAINT agent_versions_sha256 CHECK (length(package_sha256) = 64)
            )
            """,
            "CREATE INDEX agent_versions_state ON agent_versions (state, updated_at)",
        ],
        sqliteOnly: [
            """
            CREATE TABLE agent_packages (
                agent_id TEXT NOT NULL,
                version TEXT NOT NULL,
                content BLOB NOT NULL,
                PRIMARY KEY (agent_id, version),
                FOREIGN KEY (agent_id, version) REFERENCES agent_versions (agent_id, version)
            )
            """,
            """
            CREATE TRIGGER agent_versions_frozen BEFORE UPDATE OF manifest, package_sha256, files ON agent_versions
            WHEN OLD.state <> 'draft'
            BEGIN SELECT RAISE(ABORT, 'agent_versions: a submitted version never changes'); END
            """,
        ],
        postgresOnly: [
            """
            CREATE TABLE agent_packages (
                agent_id TEXT NOT NULL,
                version TEXT NOT NULL,
                content BYTEA NOT NULL,
                PRIMARY KEY (agent_id, version),
                FOREIGN KEY (agent_id, version) REFERENCES agent_versions (agent_id, version)
            )
            """,
            """
            CREATE FUNCTION agent_versions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.state <> 'draft' AND (NEW.manifest IS DISTINCT FROM OLD.manifest
                    OR NEW.package_sha256 IS DISTINCT FROM OLD.package_sha256 OR NEW.files IS DISTINCT FROM OLD.files)
                THEN RAISE EXCEPTION 'agent_versions: a submitted version never changes'; END IF;
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER agent_versions_frozen BEFORE UPDATE ON agent_versions
            FOR EACH ROW EXECUTE FUNCTION agent_versions_frozen()
            """,
        ]
    )
}
