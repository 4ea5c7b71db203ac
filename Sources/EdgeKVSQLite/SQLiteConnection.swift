import CSQLite
import Foundation

/// A SQLite error with the library's code and message, and the file it concerns.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// SQLite's (extended) result code.
    public let code: Int32
    /// SQLite's message.
    public let message: String

    /// `SQLite error 5: database is locked`.
    public var description: String { "SQLite error \(code): \(message)" }
}

/// A connection and its cached prepared statements. Used only on its ``WorkerThread``. Shared with the other
/// modules of the package that read SQLite files (Miniflare's state in `EdgeSync`).
package final class SQLiteConnection {
    package let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private var queries = [OpaquePointer?](repeating: nil, count: SQLiteKVSchema.Query.allCases.count)

    package init(path: String, flags: Int32) throws {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        for case let statement? in queries { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    package func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs SQL that returns no rows (several statements allowed).
    package func exec(_ sql: String) throws {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw error(rc) }
    }

    /// A cached prepared statement, reset and with bindings cleared.
    package func statement(_ sql: String) throws -> Statement {
        if let cached = statements[sql] { return Statement(connection: self, handle: cached) }
        let stmt = try prepare(sql)
        statements[sql] = stmt
        return Statement(connection: self, handle: stmt)
    }

    /// One of the emulator's own statements, prepared on first use.
    func statement(_ query: SQLiteKVSchema.Query) throws -> Statement {
        if let cached = queries[query.rawValue] { return Statement(connection: self, handle: cached) }
        let stmt = try prepare(query.sql)
        queries[query.rawValue] = stmt
        return Statement(connection: self, handle: stmt)
    }

    /// Prepares `sql` by its byte length: a NUL inside it is a syntax error, never the silent end of the text.
    private func prepare(_ sql: String) throws -> OpaquePointer {
        var sql = sql
        var stmt: OpaquePointer?
        let rc = sql.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                sqlite3_prepare_v3(
                    handle, text.baseAddress, Int32(text.count), UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
            }
        }
        guard rc == SQLITE_OK, let stmt else { throw error(rc) }
        return stmt
    }

    package var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE` when it writes), rolling back if it throws.
    package func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
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

/// A prepared statement in use. Reset when it goes out of scope through ``Statement/reset()``.
package struct Statement {
    package let connection: SQLiteConnection
    package let handle: OpaquePointer

    package func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds text by its UTF-8 byte length, so a NUL inside it is stored and compared like any other character
    /// rather than ending the text there.
    package func bind(_ index: Int32, text value: String?) {
        guard var value else {
            sqlite3_bind_null(handle, index)
            return
        }
        value.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                guard let base = text.baseAddress, !text.isEmpty else {
                    // "" rather than NULL: a null pointer would bind SQL NULL.
                    _ = sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
                    return
                }
                _ = sqlite3_bind_text64(
                    handle, index, base, sqlite3_uint64(text.count), csqlite_transient(), UInt8(SQLITE_UTF8))
            }
        }
    }

    /// Binds bytes as a BLOB (copied by SQLite). An empty array binds an empty BLOB, not NULL.
    package func bind(_ index: Int32, blob value: [UInt8]) {
        if value.isEmpty {
            sqlite3_bind_zeroblob(handle, index, 0)
            return
        }
        value.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob64(
                handle, index, buffer.baseAddress, sqlite3_uint64(buffer.count), csqlite_transient())
        }
    }

    /// Binds a key's UTF-8 bytes as a BLOB (keys are never empty).
    package func bind(_ index: Int32, key: String) {
        var key = key
        key.withUTF8 { buffer in
            _ = sqlite3_bind_blob64(
                handle, index, buffer.baseAddress, sqlite3_uint64(buffer.count), csqlite_transient())
        }
    }

    /// Steps once: true when a row is available.
    package func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc)
    }

    /// Steps to completion, for statements that return no rows.
    package func run() throws {
        defer { reset() }
        while try step() {}
    }

    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    package func int64(_ column: Int32) -> Int64? { isNull(column) ? nil : sqlite3_column_int64(handle, column) }

    package func text(_ column: Int32) -> String? {
        guard !isNull(column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_text(handle, column) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self)
    }

    package func bytes(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: count))
    }

    package func string(_ column: Int32) -> String {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self)
    }
}
