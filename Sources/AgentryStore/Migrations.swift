/// Every schema migration of Agentry, in order. Append only.
public enum Migrations {
    /// The full, ordered list both backends apply.
    public static let all: [Migration] = [identity, auditLog]

    /// The newest version; `/readyz` reports ready only when the database has reached it.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// 1: users, teams, roles and tokens.
    static let identity = Migration(
        version: 1, name: "identity",
        statements: [
            """
            CREATE TABLE teams (
                id TEXT NOT NULL PRIMARY KEY,
                name TEXT NOT NULL,
                department TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CONSTRAINT teams_name_unique UNIQUE (name),
                CONSTRAINT teams_name_length CHECK (length(name) BETWEEN 1 AND 100)
            )
            """,
            """
            CREATE TABLE users (
                id TEXT NOT NULL PRIMARY KEY,
                email TEXT NOT NULL,
                display_name TEXT NOT NULL,
                team_id TEXT REFERENCES teams (id),
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                disabled_at BIGINT,
                CONSTRAINT users_email_unique UNIQUE (email),
                CONSTRAINT users_email_lowercase CHECK (email = lower(email))
            )
            """,
            "CREATE INDEX users_team_id ON users (team_id)",
            """
            CREATE TABLE user_roles (
                user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                PRIMARY KEY (user_id, role),
                CONSTRAINT user_roles_role_known CHECK (role IN ('member', 'reviewer', 'admin', 'auditor', 'finance'))
            )
            """,
            """
            CREATE TABLE tokens (
                id TEXT NOT NULL PRIMARY KEY,
                kind TEXT NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (id),
                name TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                hint TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT,
                revoked_at BIGINT,
                CONSTRAINT tokens_secret_hash_unique UNIQUE (secret_hash),
                CONSTRAINT tokens_kind_known CHECK (kind IN ('pat', 'sandbox', 'run')),
                CONSTRAINT tokens_secret_hash_sha256 CHECK (length(secret_hash) = 64)
            )
            """,
            "CREATE INDEX tokens_user_id ON tokens (user_id)",
        ]
    )

    /// 2: the audit log: records (leaves), stored tree hashes, log state, checkpoints, payloads.
    /// Records, hashes and checkpoints are append-only, enforced by triggers as defence in depth.
    static let auditLog = Migration(
        version: 2, name: "audit_log",
        statements: [
            """
            CREATE TABLE audit_state (
                id BIGINT NOT NULL PRIMARY KEY,
                size BIGINT NOT NULL,
                last_time BIGINT NOT NULL,
                CONSTRAINT audit_state_single_row CHECK (id = 1),
                CONSTRAINT audit_state_size_nonnegative CHECK (size >= 0)
            )
            """,
            "INSERT INTO audit_state (id, size, last_time) VALUES (1, 0, 0)",
            """
            CREATE TABLE audit_records (
                idx BIGINT NOT NULL PRIMARY KEY,
                leaf TEXT NOT NULL,
                time BIGINT NOT NULL,
                kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                subject TEXT,
                agent TEXT,
                run TEXT,
                CONSTRAINT audit_records_index_nonnegative CHECK (idx >= 0)
            )
            """,
            "CREATE INDEX audit_records_kind ON audit_records (kind, idx)",
            "CREATE INDEX audit_records_actor ON audit_records (actor, idx)",
            "CREATE INDEX audit_records_subject ON audit_records (subject, idx)",
            "CREATE INDEX audit_records_agent ON audit_records (agent, idx)",
            "CREATE INDEX audit_records_run ON audit_records (run, idx)",
            "CREATE INDEX audit_records_time ON audit_records (time)",
            """
            CREATE TABLE audit_hashes (
                idx BIGINT NOT NULL PRIMARY KEY,
                hash TEXT NOT NULL,
                CONSTRAINT audit_hashes_sha256 CHECK (length(hash) = 64)
            )
            """,
            """
            CREATE TABLE audit_checkpoints (
                size BIGINT NOT NULL PRIMARY KEY,
                note TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE audit_payloads (
                commitment TEXT NOT NULL PRIMARY KEY,
                record_index BIGINT NOT NULL,
                name TEXT NOT NULL,
                salt TEXT NOT NULL,
                content TEXT NOT NULL,
                CONSTRAINT audit_payloads_sha256 CHECK (length(commitment) = 64),
                CONSTRAINT audit_payloads_salt CHECK (length(salt) = 64)
            )
            """,
            "CREATE INDEX audit_payloads_record ON audit_payloads (record_index)",
        ],
        sqliteOnly: ["audit_records", "audit_hashes", "audit_checkpoints"].flatMap { table in
            ["UPDATE", "DELETE"].map { operation in
                """
                CREATE TRIGGER \(table)_no_\(operation.lowercased()) BEFORE \(operation) ON \(table)
                BEGIN SELECT RAISE(ABORT, '\(table) is append-only: \(operation) refused'); END
                """
            }
        },
        postgresOnly: [
            """
            CREATE FUNCTION agentry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
            END
            $$
            """
        ]
            + ["audit_records", "audit_hashes", "audit_checkpoints"].flatMap { table in
                [
                    """
                    CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table)
                    FOR EACH ROW EXECUTE FUNCTION agentry_append_only()
                    """,
                    """
                    CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table)
                    FOR EACH STATEMENT EXECUTE FUNCTION agentry_append_only()
                    """,
                ]
            }
    )
}
