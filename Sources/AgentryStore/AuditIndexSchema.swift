/// The tables of the audit log's filter index, written by migration 3 and, on SQLite, into the
/// index's own file (migration 20 moved it there; see docs/decisions/0012).
public enum AuditIndexSchema {
    /// One row per indexed record: the filter columns decoded from its leaf.
    public static let table = """
        CREATE TABLE audit_index (
            idx BIGINT NOT NULL PRIMARY KEY,
            time BIGINT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            subject TEXT,
            agent TEXT,
            run TEXT
        )
        """

    /// One index per filter.
    public static let indexes = [
        "CREATE INDEX audit_index_kind ON audit_index (kind, idx)",
        "CREATE INDEX audit_index_actor ON audit_index (actor, idx)",
        "CREATE INDEX audit_index_subject ON audit_index (subject, idx)",
        "CREATE INDEX audit_index_agent ON audit_index (agent, idx)",
        "CREATE INDEX audit_index_run ON audit_index (run, idx)",
        "CREATE INDEX audit_index_time ON audit_index (time)",
    ]

    /// The single row saying how many records the index covers.
    public static let state = """
        CREATE TABLE audit_index_state (
            id BIGINT NOT NULL PRIMARY KEY,
            indexed_size BIGINT NOT NULL,
            CONSTRAINT audit_index_state_single_row CHECK (id = 1),
            CONSTRAINT audit_index_state_size_nonnegative CHECK (indexed_size >= 0)
        )
        """

    /// The subject, agent and run indexes leaving out the records without one, which a filter on
    /// that column never selects (both engines use a partial index `x IS NOT NULL` for `x = ?`).
    public static let partialIndexes = indexes.map { index in
        guard let column = ["subject", "agent", "run"].first(where: { index.hasSuffix("(\($0), idx)") }) else {
            return index
        }
        return index + " WHERE \(column) IS NOT NULL"
    }

    /// The statements that create an empty index, covering no record, in a SQLite file of its
    /// own: `idx` is the rowid (declared `BIGINT`, it would need a second B-tree), with the partial indexes.
    public static let emptySQLiteFile =
        [table.replacingOccurrences(of: "idx BIGINT NOT NULL PRIMARY KEY", with: "idx INTEGER NOT NULL PRIMARY KEY")]
        + partialIndexes + [state, "INSERT INTO audit_index_state (id, indexed_size) VALUES (1, 0)"]
}
