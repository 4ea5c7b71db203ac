/// The emulator's connection: a ``SQLiteConnection`` with the emulator's own statements, each prepared once on first
/// use and kept for the connection's life.
final class KVConnection {
    let db: SQLiteConnection
    private var queries = [PreparedStatement?](repeating: nil, count: SQLiteKVSchema.Query.allCases.count)

    init(_ db: SQLiteConnection) { self.db = db }

    /// Runs `body` with one of the emulator's statements, reset when `body` returns or throws.
    func query<T>(_ query: SQLiteKVSchema.Query, _ body: (Statement) throws -> T) throws -> T {
        if let prepared = queries[query.rawValue] { return try prepared.use(body) }
        let prepared = try db.prepare(query.sql)
        queries[query.rawValue] = prepared
        return try prepared.use(body)
    }

    /// ``SQLiteConnection/withStatement(_:_:)``.
    func withStatement<T>(_ sql: String, _ body: (Statement) throws -> T) throws -> T {
        try db.withStatement(sql, body)
    }

    /// ``SQLiteConnection/transaction(immediate:_:)``.
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try db.transaction(immediate: immediate, body)
    }

    /// Rows changed by the last write.
    var changes: Int { db.changes }
}
