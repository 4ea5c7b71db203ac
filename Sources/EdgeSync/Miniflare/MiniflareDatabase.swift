import CSQLite
import EdgeKV
import Foundation

/// Why Miniflare's state could not be read or written.
public struct MiniflareStateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, with the file it concerns.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// One SQLite connection to a Miniflare namespace object's file, used only on its ``WorkerThread``.
final class MiniflareDatabase {
    let handle: OpaquePointer
    let path: String
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw MiniflareStateError("\(path): \(message)")
        }
        handle = db
        // `wrangler dev` may hold the file open: wait for its write lock rather than fail.
        sqlite3_busy_timeout(db, 30_000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    func failure(_ rc: Int32) -> MiniflareStateError {
        MiniflareStateError("\(path): SQLite error \(rc): \(String(cString: sqlite3_errmsg(handle)))")
    }

    func exec(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw failure(rc) }
    }

    /// A cached statement, ready to bind (reset by ``MiniflareStatement/reset()``).
    func statement(_ sql: String) throws -> MiniflareStatement {
        if let cached = statements[sql] { return MiniflareStatement(db: self, handle: cached) }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw failure(rc) }
        statements[sql] = stmt
        return MiniflareStatement(db: self, handle: stmt)
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try exec("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try exec("COMMIT")
            return result
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement in use.
struct MiniflareStatement {
    let db: MiniflareDatabase
    let handle: OpaquePointer

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds TEXT, as Miniflare's own statements do (keys compare with BINARY collation: by UTF-8 bytes).
    func bind(_ index: Int32, text value: String?) {
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        sqlite3_bind_text(handle, index, value, -1, csqlite_transient())
    }

    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw db.failure(rc)
    }

    func run() throws {
        defer { reset() }
        while try step() {}
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func int64(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    func text(_ column: Int32) -> String? {
        guard sqlite3_column_type(handle, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_text(handle, column) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self)
    }
}
