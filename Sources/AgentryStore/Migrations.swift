/// Every schema migration of Agentry, in order. Append only.
public enum Migrations {
    /// The full, ordered list both backends apply.
    public static let all: [Migration] = [identity]

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
}
