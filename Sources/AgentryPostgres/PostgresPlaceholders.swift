/// Shared SQL written with SQLite's `?` placeholders, numbered for PostgreSQL.
enum PostgresPlaceholders {
    /// `sql` with each `?` replaced by `$1`, `$2`, … in order. The shared SQL never has a `?`
    /// inside a string literal.
    static func numbered(_ sql: String) -> String {
        var numbered = ""
        var position = 0
        for character in sql {
            if character == "?" {
                position += 1
                numbered += "$\(position)"
            } else {
                numbered.append(character)
            }
        }
        return numbered
    }
}
