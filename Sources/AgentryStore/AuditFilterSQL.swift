import AgentryAudit

/// The WHERE clause of a filtered audit listing, with `?` placeholders, shared by both backends.
public enum AuditFilterSQL {
    /// `(clause, arguments)`: every present condition of `filter`, and `idx >= start`.
    public static func whereClause(_ filter: AuditFilter, start: Int64) -> (String, [AuditSQLValue]) {
        var conditions = ["idx >= ?"]
        var arguments: [AuditSQLValue] = [.integer(start)]
        let texts: [(String, String?)] = [
            ("kind", filter.kind?.rawValue), ("actor", filter.actor), ("subject", filter.subject),
            ("agent", filter.agent), ("run", filter.run),
        ]
        for (column, value) in texts {
            if let value {
                conditions.append("\(column) = ?")
                arguments.append(.text(value))
            }
        }
        if let since = filter.since {
            conditions.append("time >= ?")
            arguments.append(.integer(since))
        }
        if let until = filter.until {
            conditions.append("time < ?")
            arguments.append(.integer(until))
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}

/// A bind value of a filter clause.
public enum AuditSQLValue: Sendable, Equatable {
    case integer(Int64)
    case text(String)
}
