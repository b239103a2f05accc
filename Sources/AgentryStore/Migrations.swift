/// Every schema migration of Agentry, in order. Append only.
public enum Migrations {
    /// The full, ordered list both backends apply.
    public static let all: [Migration] = [
        identity, auditLog, auditDeferredIndex, signIns, auditOutbox, ledger, ledgerSpendIndex,
        ledgerHeldAccounts, ledgerSettings, gateway, sandboxes,
        agents, reviews, catalog, catalogRevisions, stewardship,
        reviewEventGrants, toolCatalogPolicy, runs, auditIndexOwnFile,
        auditRowidKeys, auditPayloadBytes, auditPartialIndexes,
    ]

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

    /// 3: the append path writes only sequential keys. The filter columns leave `audit_records`
    /// for `audit_index`, which an indexer fills from the leaves in large batches behind the
    /// appends (`audit_index_state` says how far); payloads are keyed by record and name instead of
    /// by their random commitment. Scattered B-tree inserts on every append cost more write-ahead
    /// log than the data itself (see docs/decisions/0005).
    static let auditDeferredIndex = Migration(
        version: 3, name: "audit_deferred_index",
        statements: [
            AuditIndexSchema.table,
            "INSERT INTO audit_index (idx, time, kind, actor, subject, agent, run) "
                + "SELECT idx, time, kind, actor, subject, agent, run FROM audit_records",
        ] + AuditIndexSchema.indexes + [
            AuditIndexSchema.state,
            "INSERT INTO audit_index_state (id, indexed_size) SELECT 1, size FROM audit_state",
            "DROP INDEX audit_records_kind",
            "DROP INDEX audit_records_actor",
            "DROP INDEX audit_records_subject",
            "DROP INDEX audit_records_agent",
            "DROP INDEX audit_records_run",
            "DROP INDEX audit_records_time",
            "ALTER TABLE audit_records DROP COLUMN time",
            "ALTER TABLE audit_records DROP COLUMN kind",
            "ALTER TABLE audit_records DROP COLUMN actor",
            "ALTER TABLE audit_records DROP COLUMN subject",
            "ALTER TABLE audit_records DROP COLUMN agent",
            "ALTER TABLE audit_records DROP COLUMN run",
            "ALTER TABLE audit_payloads RENAME TO audit_payloads_by_commitment",
            "DROP INDEX audit_payloads_record",
            """
            CREATE TABLE audit_payloads (
                record_index BIGINT NOT NULL,
                name TEXT NOT NULL,
                commitment TEXT NOT NULL,
                salt TEXT NOT NULL,
                content TEXT NOT NULL,
                CONSTRAINT audit_payloads_by_record PRIMARY KEY (record_index, name),
                CONSTRAINT audit_payloads_commitment_sha256 CHECK (length(commitment) = 64),
                CONSTRAINT audit_payloads_salt_length CHECK (length(salt) = 64)
            )
            """,
            "INSERT INTO audit_payloads (record_index, name, commitment, salt, content) "
                + "SELECT record_index, name, commitment, salt, content FROM audit_payloads_by_commitment",
            "DROP TABLE audit_payloads_by_commitment",
        ]
    )

    /// 4: when each credential last signed in, so a sign-in is recorded once per credential and
    /// quiet period however many instances serve its requests.
    static let signIns = Migration(
        version: 4, name: "sign_ins",
        statements: [
            """
            CREATE TABLE sign_ins (
                credential TEXT NOT NULL PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users (id),
                last_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sign_ins_user_id ON sign_ins (user_id)",
        ]
    )

    /// 5: the audit outbox. A change and the audit entry recording it are written in one
    /// transaction; the entry leaves the outbox in the transaction that appends it to the log.
    static let auditOutbox = Migration(
        version: 5, name: "audit_outbox",
        statements: [
            """
            CREATE TABLE audit_outbox (
                id TEXT NOT NULL PRIMARY KEY,
                created_at BIGINT NOT NULL,
                body TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_outbox_created_at ON audit_outbox (created_at)",
        ]
    )

    /// 6: the spend ledger: caps, accounts (one per scope and window), reservations and the
    /// accounts each holds. Balances can never go negative; a settlement never exceeds its reservation.
    static let ledger = Migration(
        version: 6, name: "ledger",
        statements: [
            """
            CREATE TABLE ledger_caps (
                scope TEXT NOT NULL,
                period TEXT NOT NULL,
                limit_micros BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (scope, period),
                CONSTRAINT ledger_caps_period_known CHECK (period IN ('run', 'day', 'month')),
                CONSTRAINT ledger_caps_limit_nonnegative CHECK (limit_micros >= 0)
            )
            """,
            """
            CREATE TABLE ledger_accounts (
                scope TEXT NOT NULL,
                period TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                reserved BIGINT NOT NULL,
                settled BIGINT NOT NULL,
                PRIMARY KEY (scope, period, window_start),
                CONSTRAINT ledger_accounts_period_known CHECK (period IN ('run', 'day', 'month')),
                CONSTRAINT ledger_accounts_reserved_nonnegative CHECK (reserved >= 0),
                CONSTRAINT ledger_accounts_settled_nonnegative CHECK (settled >= 0)
            )
            """,
            """
            CREATE TABLE ledger_reservations (
                id TEXT NOT NULL PRIMARY KEY,
                amount BIGINT NOT NULL,
                settled BIGINT,
                state TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                resolved_at BIGINT,
                user_id TEXT,
                team TEXT,
                agent TEXT,
                agent_version TEXT,
                run TEXT,
                model TEXT,
                provider TEXT,
                zone TEXT,
                CONSTRAINT ledger_reservations_amount_positive CHECK (amount > 0),
                CONSTRAINT ledger_reservations_state_known CHECK (state IN ('pending', 'settled', 'released', 'expired')),
                CONSTRAINT ledger_reservations_settled_iff_settled CHECK ((state = 'settled') = (settled IS NOT NULL)),
                CONSTRAINT ledger_reservations_settled_within CHECK (settled IS NULL OR (settled >= 0 AND settled <= amount)),
                CONSTRAINT ledger_reservations_resolved_iff_not_pending CHECK ((state = 'pending') = (resolved_at IS NULL))
            )
            """,
            "CREATE INDEX ledger_reservations_due ON ledger_reservations (state, expires_at)",
            """
            CREATE TABLE ledger_holds (
                reservation_id TEXT NOT NULL REFERENCES ledger_reservations (id),
                scope TEXT NOT NULL,
                period TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                PRIMARY KEY (reservation_id, scope, period)
            )
            """,
            "CREATE INDEX ledger_holds_account ON ledger_holds (scope, period, window_start)",
        ]
    )

    /// 7: reservations found by the time they were made, for spend by model, provider, zone, ….
    static let ledgerSpendIndex = Migration(
        version: 7, name: "ledger_spend_index",
        statements: ["CREATE INDEX ledger_reservations_created ON ledger_reservations (created_at)"]
    )

    /// 8: a reservation names its accounts in its own row (its scopes, and the day and month it was
    /// made in) instead of one `ledger_holds` row per account: a reserve writes one row, not eleven.
    static let ledgerHeldAccounts = Migration(
        version: 8, name: "ledger_held_accounts",
        statements: [
            "ALTER TABLE ledger_reservations ADD COLUMN scopes TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE ledger_reservations ADD COLUMN day_start BIGINT",
            "ALTER TABLE ledger_reservations ADD COLUMN month_start BIGINT",
            """
            UPDATE ledger_reservations SET
                day_start = (SELECT MIN(h.window_start) FROM ledger_holds h
                    WHERE h.reservation_id = ledger_reservations.id AND h.period = 'day'),
                month_start = (SELECT MIN(h.window_start) FROM ledger_holds h
                    WHERE h.reservation_id = ledger_reservations.id AND h.period = 'month')
            """,
        ],
        sqliteOnly: [
            """
            UPDATE ledger_reservations SET scopes = COALESCE((
                SELECT group_concat(scope, ' ') FROM (
                    SELECT DISTINCT h.scope FROM ledger_holds h WHERE h.reservation_id = ledger_reservations.id
                    ORDER BY h.scope)), '')
            """,
            "DROP TABLE ledger_holds",
        ],
        postgresOnly: [
            """
            UPDATE ledger_reservations SET scopes = COALESCE((
                SELECT string_agg(d.scope, ' ' ORDER BY d.scope COLLATE "C") FROM (
                    SELECT DISTINCT h.scope FROM ledger_holds h WHERE h.reservation_id = ledger_reservations.id) AS d),
                '')
            """,
            "DROP TABLE ledger_holds",
        ]
    )

    /// 9: settings every instance must share, starting with the time zone of the ledger's days
    /// and months (instances counting in different zones would split a day's spend).
    static let ledgerSettings = Migration(
        version: 9, name: "ledger_settings",
        statements: [
            """
            CREATE TABLE ledger_settings (
                name TEXT NOT NULL PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """
        ]
    )

    /// 10: the model gateway's stored configuration: provider credentials, sealed by the vault
    /// under a master key kept outside the database, and the catalog admins set.
    static let gateway = Migration(
        version: 10, name: "gateway",
        statements: [
            """
            CREATE TABLE gateway_credentials (
                name TEXT NOT NULL PRIMARY KEY,
                sealed TEXT NOT NULL,
                key_id TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL,
                CONSTRAINT gateway_credentials_sealed CHECK (sealed LIKE 'v1.%')
            )
            """,
            """
            CREATE TABLE gateway_settings (
                name TEXT NOT NULL PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL
            )
            """,
        ]
    )

    /// 11: IT's policies (the Sandbox policy, the approval criteria), one row per revision (a
    /// change appends, it never rewrites), and each user's personal Sandbox with the Sandbox policy
    /// revision whose default caps it has.
    static let sandboxes = Migration(
        version: 11, name: "sandboxes",
        statements: [
            """
            CREATE TABLE policy_revisions (
                policy TEXT NOT NULL,
                revision BIGINT NOT NULL,
                yaml TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                PRIMARY KEY (policy, revision),
                CONSTRAINT policy_revisions_policy CHECK (policy IN ('sandbox', 'approval')),
                CONSTRAINT policy_revisions_revision CHECK (revision >= 1)
            )
            """,
            """
            CREATE TABLE sandboxes (
                user_id TEXT NOT NULL PRIMARY KEY REFERENCES users (id),
                created_at BIGINT NOT NULL,
                caps_revision BIGINT,
                CONSTRAINT sandboxes_caps_revision CHECK (caps_revision >= 0)
            )
            """,
            "CREATE INDEX sandboxes_caps_revision ON sandboxes (caps_revision)",
        ],
        sqliteOnly: appendOnlyInSQLite("policy_revisions"),
        postgresOnly: appendOnlyInPostgres("policy_revisions")
    )
}

extension Migrations {
    /// SQLite triggers that make `table` append-only: UPDATE and DELETE are refused.
    static func appendOnlyInSQLite(_ table: String) -> [String] {
        ["UPDATE", "DELETE"].map { operation in
            """
            CREATE TRIGGER \(table)_no_\(operation.lowercased()) BEFORE \(operation) ON \(table)
            BEGIN SELECT RAISE(ABORT, '\(table) is append-only: \(operation) refused'); END
            """
        }
    }

    /// PostgreSQL triggers that make `table` append-only (UPDATE, DELETE and TRUNCATE refused)
    /// through migration 2's `agentry_append_only()`.
    static func appendOnlyInPostgres(_ table: String) -> [String] {
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
}
