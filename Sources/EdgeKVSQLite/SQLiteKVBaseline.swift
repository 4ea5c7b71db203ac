import CSQLite
import EdgeKV
import Foundation

/// The benchmark baseline of the emulator: the same schema, SQL and pragmas, driven through the SQLite C API
/// directly, with none of the emulator's validation, threads or statement wrappers. `edgekv bench kv` reports the
/// emulator's speed as a ratio of this one's.
package final class SQLiteKVBaseline {
    private let db: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    /// Creates (or opens) the baseline's own file at `path`.
    package init(path: String) throws {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteError(code: rc, message: "cannot open \(path)")
        }
        db = handle
        sqlite3_busy_timeout(db, 30_000)
        try exec("PRAGMA journal_mode = WAL")
        try exec(SQLiteKVSchema.create)
        try exec("PRAGMA synchronous = NORMAL")
        try exec("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -65536")
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }

    private func failure(_ rc: Int32, _ sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }

    private func exec(_ sql: String) throws {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw failure(rc, sql) }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw failure(rc, sql) }
        statements[sql] = s
        return s
    }

    private func bindKey(_ s: OpaquePointer, _ index: Int32, _ key: String) {
        var key = key
        key.withUTF8 { buf in _ = sqlite3_bind_blob(s, index, buf.baseAddress, Int32(buf.count), csqlite_transient()) }
    }

    private func bindBytes(_ s: OpaquePointer, _ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buf in
            _ = sqlite3_bind_blob(s, index, buf.baseAddress, Int32(buf.count), csqlite_transient())
        }
    }

    private func upsert(_ namespace: String, _ key: String, _ value: [UInt8]) throws {
        let s = try prepare(SQLiteKVSchema.put)
        defer { sqlite3_reset(s) }
        sqlite3_bind_text(s, 1, namespace, -1, csqlite_transient())
        bindKey(s, 2, key)
        sqlite3_bind_null(s, 3)
        sqlite3_bind_null(s, 4)
        bindBytes(s, 5, value)
        let rc = sqlite3_step(s)
        guard rc == SQLITE_DONE else { throw failure(rc, SQLiteKVSchema.put) }
    }

    /// Creates `namespace` and writes `keys` with `value` in one transaction.
    package func fill(namespace: String, keys: [String], value: [UInt8]) throws {
        try exec(
            "INSERT OR IGNORE INTO kv_namespaces(id, title, created_at) VALUES ('\(namespace)', '\(namespace)', 0)")
        try exec("BEGIN")
        for key in keys { try upsert(namespace, key, value) }
        try exec("COMMIT")
    }

    /// Reads each of `keys` (all must exist) and returns reads per second.
    package func gets(namespace: String, keys: [String]) throws -> Double {
        let s = try prepare(SQLiteKVSchema.get)
        let start = ContinuousClock.now
        for key in keys {
            sqlite3_bind_text(s, 1, namespace, -1, csqlite_transient())
            bindKey(s, 2, key)
            guard sqlite3_step(s) == SQLITE_ROW else {
                throw SQLiteError(code: SQLITE_ERROR, message: "\(key) missing")
            }
            let count = Int(sqlite3_column_bytes(s, 0))
            let value = [UInt8](UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 0), count: count))
            _ = sqlite3_column_int64(s, 2)
            if value.isEmpty { throw SQLiteError(code: SQLITE_ERROR, message: "\(key) has an empty value") }
            sqlite3_reset(s)
        }
        return Self.rate(keys.count, since: start)
    }

    /// Writes each of `keys` with `value`, one autocommit statement each, and returns writes per second.
    package func puts(namespace: String, keys: [String], value: [UInt8]) throws -> Double {
        let start = ContinuousClock.now
        for key in keys { try upsert(namespace, key, value) }
        return Self.rate(keys.count, since: start)
    }

    /// Lists `pages` full pages of 1,000 keys under `prefix` (starting over at the end) and returns pages per second.
    package func listPages(namespace: String, prefix: String, pages: Int) throws -> Double {
        let s = try prepare(SQLiteKVSchema.list)
        let prefix = Array(prefix.utf8)
        let upper = SQLiteKVSchema.upperBound(ofPrefix: prefix)
        let start = ContinuousClock.now
        var lower = prefix
        for _ in 0..<pages {
            sqlite3_bind_text(s, 1, namespace, -1, csqlite_transient())
            bindBytes(s, 2, lower)
            bindBytes(s, 3, upper)
            sqlite3_bind_int64(s, 4, 0)
            sqlite3_bind_int64(s, 5, 1001)
            var names: [String] = []
            var more = false
            while sqlite3_step(s) == SQLITE_ROW {
                if names.count == 1000 {
                    more = true
                    break
                }
                let count = Int(sqlite3_column_bytes(s, 0))
                names.append(
                    String(
                        decoding: UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 0), count: count), as: UTF8.self)
                )
                _ = sqlite3_column_int64(s, 1)
                _ = sqlite3_column_text(s, 2)
            }
            sqlite3_reset(s)
            if names.count != 1000 {
                throw SQLiteError(code: SQLITE_ERROR, message: "a page has \(names.count) keys, not 1000")
            }
            lower = more ? Array(names[names.count - 1].utf8) + [0] : prefix
        }
        return Self.rate(pages, since: start)
    }

    private static func rate(_ ops: Int, since start: ContinuousClock.Instant) -> Double {
        Double(ops) / (ContinuousClock.now - start).inSeconds
    }
}
