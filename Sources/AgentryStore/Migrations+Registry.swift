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
                    'draft', 'submitted', 'changes_requested', 'rejected', 'withdrawn', 'published', 'retired')),
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

extension Migrations {
    /// 13: submissions of agent versions for review, with their checklist and grants, and each
    /// submission's thread of comments and decisions (append-only).
    static let reviews = Migration(
        version: 13, name: "reviews",
        statements: [
            """
            CREATE TABLE submissions (
                id TEXT NOT NULL PRIMARY KEY,
                agent_id TEXT NOT NULL,
                version TEXT NOT NULL,
                base_version TEXT,
                submitted_by TEXT NOT NULL REFERENCES users (id),
                purpose TEXT NOT NULL,
                checklist TEXT NOT NULL,
                policy_revision BIGINT NOT NULL,
                approvals_required BIGINT NOT NULL,
                state TEXT NOT NULL,
                grants TEXT,
                created_at BIGINT NOT NULL,
                decided_at BIGINT,
                FOREIGN KEY (agent_id, version) REFERENCES agent_versions (agent_id, version),
                CONSTRAINT submissions_state CHECK (state IN (
                    'open', 'approved', 'rejected', 'changes_requested', 'withdrawn')),
                CONSTRAINT submissions_approvals CHECK (approvals_required BETWEEN 1 AND 2),
                CONSTRAINT submissions_grants CHECK ((state = 'approved') = (grants IS NOT NULL))
            )
            """,
            "CREATE INDEX submissions_state ON submissions (state, created_at)",
            "CREATE INDEX submissions_agent ON submissions (agent_id)",
            // One published version per agent, whatever the code does.
            "CREATE UNIQUE INDEX agent_versions_one_published ON agent_versions (agent_id) WHERE state = 'published'",
            """
            CREATE TABLE review_events (
                submission_id TEXT NOT NULL REFERENCES submissions (id),
                sequence BIGINT NOT NULL,
                author_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (submission_id, sequence),
                CONSTRAINT review_events_kind CHECK (kind IN (
                    'comment', 'approve', 'reject', 'request_changes', 'withdraw', 'auto_approve'))
            )
            """,
        ],
        sqliteOnly: appendOnlyInSQLite("review_events"),
        postgresOnly: appendOnlyInPostgres("review_events")
    )
}

extension Migrations {
    /// 14: the Catalog: one entry per agent with a published version, written in the transaction
    /// that publishes it, with a full-text index each engine keeps itself (SQLite FTS5 through
    /// triggers, a PostgreSQL tsvector column with a GIN index).
    static let catalog = Migration(
        version: 14, name: "catalog",
        statements: [
            """
            CREATE TABLE catalog_entries (
                agent_id TEXT NOT NULL PRIMARY KEY REFERENCES agents (id),
                name TEXT NOT NULL,
                title TEXT NOT NULL,
                description TEXT NOT NULL,
                department TEXT NOT NULL,
                tags TEXT NOT NULL,
                skills TEXT NOT NULL,
                tools TEXT NOT NULL,
                models TEXT NOT NULL,
                owner_id TEXT NOT NULL,
                team_id TEXT,
                version TEXT NOT NULL,
                kind TEXT NOT NULL,
                data_classification TEXT NOT NULL,
                state TEXT NOT NULL,
                published_at BIGINT NOT NULL,
                CONSTRAINT catalog_entries_name UNIQUE (name),
                CONSTRAINT catalog_entries_state CHECK (state IN ('active', 'suspended', 'deprecated'))
            )
            """,
            "CREATE INDEX catalog_entries_department ON catalog_entries (department)",
        ],
        sqliteOnly: [
            """
            CREATE VIRTUAL TABLE catalog_search USING fts5(
                name, title, description, skills, tags, tools, department,
                content = 'catalog_entries', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 0')
            """,
            """
            CREATE TRIGGER catalog_entries_search_insert AFTER INSERT ON catalog_entries BEGIN
                INSERT INTO catalog_search (rowid, name, title, description, skills, tags, tools, department)
                VALUES (new.rowid, new.name, new.title, new.description, new.skills, new.tags, new.tools, new.department);
            END
            """,
            """
            CREATE TRIGGER catalog_entries_search_delete AFTER DELETE ON catalog_entries BEGIN
                INSERT INTO catalog_search (catalog_search, rowid, name, title, description, skills, tags, tools, department)
                VALUES ('delete', old.rowid, old.name, old.title, old.description, old.skills, old.tags, old.tools,
                    old.department);
            END
            """,
            """
            CREATE TRIGGER catalog_entries_search_update AFTER UPDATE ON catalog_entries BEGIN
                INSERT INTO catalog_search (catalog_search, rowid, name, title, description, skills, tags, tools, department)
                VALUES ('delete', old.rowid, old.name, old.title, old.description, old.skills, old.tags, old.tools,
                    old.department);
                INSERT INTO catalog_search (rowid, name, title, description, skills, tags, tools, department)
                VALUES (new.rowid, new.name, new.title, new.description, new.skills, new.tags, new.tools, new.department);
            END
            """,
        ],
        postgresOnly: [
            """
            ALTER TABLE catalog_entries ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple',
                name || ' ' || title || ' ' || description || ' ' || skills || ' ' || tags || ' ' || tools || ' '
                || department)) STORED
            """,
            "CREATE INDEX catalog_entries_search ON catalog_entries USING GIN (search)",
        ]
    )
}

extension Migrations {
    /// 15: the Catalog is searched in memory (decision 0011), so the engines' full-text indexes go;
    /// instead every change to an entry takes the next Catalog revision (one row, whose lock
    /// orders the writers), so each instance can load only what changed since it last looked.
    static let catalogRevisions = Migration(
        version: 15, name: "catalog_revisions",
        statements: [
            """
            CREATE TABLE catalog_revision (
                id INTEGER NOT NULL PRIMARY KEY,
                revision BIGINT NOT NULL,
                CONSTRAINT catalog_revision_one_row CHECK (id = 1)
            )
            """,
            "INSERT INTO catalog_revision (id, revision) VALUES (1, 0)",
            "ALTER TABLE catalog_entries ADD COLUMN revision BIGINT NOT NULL DEFAULT 0",
            "CREATE INDEX catalog_entries_revision ON catalog_entries (revision)",
        ],
        sqliteOnly: [
            "DROP TRIGGER catalog_entries_search_insert",
            "DROP TRIGGER catalog_entries_search_delete",
            "DROP TRIGGER catalog_entries_search_update",
            "DROP TABLE catalog_search",
            """
            CREATE TRIGGER catalog_entries_revise_insert AFTER INSERT ON catalog_entries BEGIN
                UPDATE catalog_revision SET revision = revision + 1;
                UPDATE catalog_entries SET revision = (SELECT revision FROM catalog_revision) WHERE rowid = new.rowid;
            END
            """,
            """
            CREATE TRIGGER catalog_entries_revise_update AFTER UPDATE OF agent_id, name, title, description, department,
                tags, skills, tools, models, owner_id, team_id, version, kind, data_classification, state, published_at
                ON catalog_entries BEGIN
                UPDATE catalog_revision SET revision = revision + 1;
                UPDATE catalog_entries SET revision = (SELECT revision FROM catalog_revision) WHERE rowid = new.rowid;
            END
            """,
        ],
        postgresOnly: [
            "DROP INDEX catalog_entries_search",
            "ALTER TABLE catalog_entries DROP COLUMN search",
            """
            CREATE FUNCTION catalog_entries_revise() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE catalog_revision SET revision = revision + 1 RETURNING revision INTO NEW.revision;
                RETURN NEW;
            END
            $$
            """,
            """
            CREATE TRIGGER catalog_entries_revise BEFORE INSERT OR UPDATE ON catalog_entries
            FOR EACH ROW EXECUTE FUNCTION catalog_entries_revise()
            """,
        ]
    )
}

extension Migrations {
    /// 16: an agent's stewardship: every change of its state with who made it and why
    /// (append-only), and requests to hand an agent to a new owner, which a reviewer decides.
    static let stewardship = Migration(
        version: 16, name: "stewardship",
        statements: [
            """
            CREATE TABLE agent_state_changes (
                agent_id TEXT NOT NULL REFERENCES agents (id),
                sequence BIGINT NOT NULL,
                state TEXT NOT NULL,
                reason TEXT NOT NULL,
                actor_id TEXT NOT NULL REFERENCES users (id),
                changed_at BIGINT NOT NULL,
                PRIMARY KEY (agent_id, sequence),
                CONSTRAINT agent_state_changes_state CHECK (state IN ('active', 'suspended', 'deprecated'))
            )
            """,
            """
            CREATE TABLE ownership_transfers (
                id TEXT NOT NULL PRIMARY KEY,
                agent_id TEXT NOT NULL REFERENCES agents (id),
                from_owner_id TEXT NOT NULL REFERENCES users (id),
                to_owner_id TEXT NOT NULL REFERENCES users (id),
                requested_by TEXT NOT NULL REFERENCES users (id),
                reason TEXT NOT NULL,
                state TEXT NOT NULL,
                decided_by TEXT REFERENCES users (id),
                decision_reason TEXT,
                created_at BIGINT NOT NULL,
                decided_at BIGINT,
                CONSTRAINT ownership_transfers_state CHECK (state IN ('open', 'approved', 'rejected', 'withdrawn')),
                CONSTRAINT ownership_transfers_decided CHECK ((state = 'open') = (decided_at IS NULL)),
                CONSTRAINT ownership_transfers_someone_else CHECK (from_owner_id <> to_owner_id)
            )
            """,
            "CREATE INDEX ownership_transfers_state ON ownership_transfers (state, created_at)",
            // One open request per agent, whatever the code does.
            "CREATE UNIQUE INDEX ownership_transfers_one_open ON ownership_transfers (agent_id) WHERE state = 'open'",
        ],
        sqliteOnly: appendOnlyInSQLite("agent_state_changes"),
        postgresOnly: appendOnlyInPostgres("agent_state_changes")
    )
}

extension Migrations {
    /// 17: each approval in a submission's thread keeps what it granted, so that where two
    /// reviewers must approve, only what both granted is given.
    static let reviewEventGrants = Migration(
        version: 17, name: "review_event_grants",
        statements: ["ALTER TABLE review_events ADD COLUMN grants TEXT"]
    )
}

extension Migrations {
    /// 18: the tool catalog is a policy admins write (revisions like the Sandbox and approval
    /// policies), so `policy_revisions` takes `tools`. SQLite cannot change a CHECK in place: the
    /// table is rebuilt with its rows and its append-only triggers.
    static let toolCatalogPolicy = Migration(
        version: 18, name: "tool_catalog_policy",
        statements: [],
        sqliteOnly: [
            """
            CREATE TABLE policy_revisions_next (
                policy TEXT NOT NULL,
                revision BIGINT NOT NULL,
                yaml TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (policy, revision),
                CONSTRAINT policy_revisions_policy CHECK (policy IN ('sandbox', 'approval', 'tools')),
                CONSTRAINT policy_revisions_revision CHECK (revision >= 1)
            )
            """,
            """
            INSERT INTO policy_revisions_next (policy, revision, yaml, created_at, created_by)
            SELECT policy, revision, yaml, created_at, created_by FROM policy_revisions
            """,
            "DROP TABLE policy_revisions",
            "ALTER TABLE policy_revisions_next RENAME TO policy_revisions",
        ] + appendOnlyInSQLite("policy_revisions"),
        postgresOnly: [
            """
            ALTER TABLE policy_revisions DROP CONSTRAINT policy_revisions_policy,
                ADD CONSTRAINT policy_revisions_policy CHECK (policy IN ('sandbox', 'approval', 'tools'))
            """
        ]
    )
}
