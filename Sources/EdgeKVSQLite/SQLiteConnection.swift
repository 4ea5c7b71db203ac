import CSQLite
import Foundation

/// A SQLite error with the library's code and message, and the statement it concerns.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// SQLite's (extended) result code.
    public let code: Int32
    /// SQLite's message.
    public let message: String
    /// The SQL text of the statement that failed, when a statement failed.
    public let sql: String?

    /// Creates an error.
    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// `SQLite error 5: database is locked`.
    public var description: String { "SQLite error \(code): \(message)" }

    /// The description and the SQL text.
    public var debugDescription: String { description + (sql.map { " in: \($0)" } ?? "") }

    /// What kind of failure this is, from the primary result code.
    public enum Kind: Sendable, Hashable {
        /// Another connection holds a lock (`SQLITE_BUSY` or `SQLITE_LOCKED`): trying again later may succeed.
        case busy
        /// The file is damaged or not a database (`SQLITE_CORRUPT`, `SQLITE_NOTADB`).
        case corrupt
        /// The file may not be written (`SQLITE_READONLY`).
        case readOnly
        /// The file cannot be opened (`SQLITE_CANTOPEN`).
        case cannotOpen
        /// Anything else.
        case other
    }

    /// What kind of failure this is.
    public var kind: Kind {
        switch code & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_READONLY: .readOnly
        case SQLITE_CANTOPEN: .cannotOpen
        default: .other
        }
    }
}

extension SQLiteError {
    /// The error `rc` with the connection's message.
    fileprivate init(_ db: OpaquePointer, _ rc: Int32, sql: String?) {
        self.init(code: rc, message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }
}

/// A connection to one SQLite file. The only door to the SQLite C library in the package: other modules use this
/// and ``PreparedStatement``, never `CSQLite` itself.
///
/// A connection is not thread-safe (it is opened with `SQLITE_OPEN_NOMUTEX`): its owner keeps it on one thread at a
/// time.
package final class SQLiteConnection {
    /// How a file is opened.
    package enum Access: Sendable {
        /// Reading only.
        case readOnly
        /// Reading and writing an existing file.
        case readWrite
        /// Reading and writing, creating the file when it is missing.
        case readWriteCreate
        /// Reading only, promising SQLite that nobody changes the file meanwhile (`immutable=1`): no lock, no -shm.
        case immutable
    }

    private let db: OpaquePointer
    private var statements: [String: PreparedStatement] = [:]

    /// Opens `path` (or `:memory:`).
    /// - Throws: ``SQLiteError`` when SQLite cannot open it.
    package init(path: String, access: Access) throws {
        var flags = SQLITE_OPEN_NOMUTEX
        var name = path
        switch access {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .immutable:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:\(Self.uriEscaped(path))?immutable=1"
        }
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(name, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: rc, message: message)
        }
        db = handle
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        statements = [:]
        // close_v2 waits for statements still held elsewhere to be finalised before it really closes.
        sqlite3_close_v2(db)
    }

    /// A path escaped for a `file:` URI: `%`, `?` and `#` (and anything unusual) would otherwise end or change it.
    private static func uriEscaped(_ path: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "/-._~")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }

    /// How long a statement waits for another connection's lock before it fails with ``SQLiteError/Kind/busy``.
    package func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(db, milliseconds)
    }

    /// Whether SQLite opened the main database for reading only (it does so by itself for a file it may not write).
    package var isReadOnly: Bool { sqlite3_db_readonly(db, "main") == 1 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(db)) }

    /// Runs SQL that returns no rows (several statements allowed).
    package func exec(_ sql: String) throws {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw SQLiteError(db, rc, sql: sql) }
    }

    /// Prepares `sql` for repeated use by its owner, who keeps it as long as it likes.
    /// - Throws: ``SQLiteError`` with the SQL text.
    package func prepare(_ sql: String) throws -> PreparedStatement {
        try PreparedStatement(db: db, sql: sql)
    }

    /// Runs `body` with `sql` prepared (and cached by its text on this connection); the statement is reset and its
    /// bindings cleared when `body` returns or throws.
    package func withStatement<T>(_ sql: String, _ body: (Statement) throws -> T) throws -> T {
        let prepared: PreparedStatement
        if let cached = statements[sql] {
            prepared = cached
        } else {
            prepared = try prepare(sql)
            statements[sql] = prepared
        }
        return try prepared.use(body)
    }

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

/// A prepared statement owned by whoever prepared it, finalised when it goes. Used only through
/// ``use(_:)``, which hands out a ``Statement`` and resets it afterwards.
package final class PreparedStatement {
    private let handle: OpaquePointer
    // The connection's database handle, for error messages: sqlite3_close_v2 keeps it open as long as a statement
    // of it is not finalised.
    private let db: OpaquePointer
    /// The SQL text, for errors.
    package let sql: String

    fileprivate init(db: OpaquePointer, sql: String) throws {
        self.db = db
        self.sql = sql
        var sql = sql
        var stmt: OpaquePointer?
        // Prepared by byte length: a NUL inside the text is a syntax error, never the silent end of the text.
        let rc = sql.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                sqlite3_prepare_v3(
                    db, text.baseAddress, Int32(text.count), UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
            }
        }
        guard rc == SQLITE_OK, let stmt else { throw SQLiteError(db, rc, sql: self.sql) }
        handle = stmt
    }

    deinit { sqlite3_finalize(handle) }

    /// Runs `body` with the statement; it is reset and its bindings cleared when `body` returns or throws, so the
    /// next use starts clean and no read transaction stays open.
    package func use<T>(_ body: (Statement) throws -> T) rethrows -> T {
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        return try body(Statement(handle: handle, prepared: self))
    }

    fileprivate func error(_ rc: Int32) -> SQLiteError { SQLiteError(db, rc, sql: sql) }
}

/// A prepared statement in use inside ``PreparedStatement/use(_:)`` or ``SQLiteConnection/withStatement(_:_:)``;
/// not to be kept beyond it. Every bind is checked.
package struct Statement {
    private let handle: OpaquePointer
    private let prepared: PreparedStatement

    fileprivate init(handle: OpaquePointer, prepared: PreparedStatement) {
        self.handle = handle
        self.prepared = prepared
    }

    private func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw prepared.error(rc) }
    }

    /// Binds an integer, or NULL for nil.
    package func bind(_ index: Int32, _ value: Int64?) throws {
        try check(value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index))
    }

    /// Binds text by its UTF-8 byte length, so a NUL inside it is stored and compared like any other character
    /// rather than ending the text there; NULL for nil.
    package func bind(_ index: Int32, text value: String?) throws {
        guard var value else { return try check(sqlite3_bind_null(handle, index)) }
        let rc = value.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { text in
                // "" rather than NULL: a null pointer would bind SQL NULL.
                guard let base = text.baseAddress, !text.isEmpty else {
                    return sqlite3_bind_text(handle, index, "", 0, csqlite_transient())
                }
                return sqlite3_bind_text64(
                    handle, index, base, sqlite3_uint64(text.count), csqlite_transient(), UInt8(SQLITE_UTF8))
            }
        }
        try check(rc)
    }

    /// Binds bytes as a BLOB (copied by SQLite). An empty array binds an empty BLOB, not NULL.
    package func bind(_ index: Int32, blob value: [UInt8]) throws {
        if value.isEmpty { return try check(sqlite3_bind_zeroblob(handle, index, 0)) }
        try check(
            value.withUnsafeBytes { buffer in
                sqlite3_bind_blob64(
                    handle, index, buffer.baseAddress, sqlite3_uint64(buffer.count), csqlite_transient())
            })
    }

    /// Binds a key's UTF-8 bytes as a BLOB (keys sort by their bytes, as in KV).
    package func bind(_ index: Int32, key: String) throws {
        var key = key
        try check(
            key.withUTF8 { buffer in
                sqlite3_bind_blob64(
                    handle, index, buffer.baseAddress, sqlite3_uint64(buffer.count), csqlite_transient())
            })
    }

    /// Steps once: true when a row is available.
    package func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw prepared.error(rc)
    }

    /// Steps to completion, for statements that return no rows.
    package func run() throws {
        while try step() {}
    }

    /// How many columns a row has.
    package var columnCount: Int32 { sqlite3_column_count(handle) }

    /// Whether `column` of the current row is NULL.
    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// An INTEGER column; nil for NULL.
    package func int64(_ column: Int32) -> Int64? { isNull(column) ? nil : sqlite3_column_int64(handle, column) }

    /// A TEXT column; nil for NULL.
    package func text(_ column: Int32) -> String? {
        guard !isNull(column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_text(handle, column) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self)
    }

    /// A BLOB column's bytes (empty for NULL).
    package func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: count))
    }

    /// A BLOB column's bytes read as UTF-8 text (a key); "" for NULL.
    package func blobText(_ column: Int32) -> String {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let p = sqlite3_column_blob(handle, column) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: count), as: UTF8.self)
    }
}
