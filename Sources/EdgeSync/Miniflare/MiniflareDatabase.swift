import CSQLite
import EdgeKV
import EdgeKVSQLite
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

/// A connection to a Miniflare namespace object's file, used only on its ``WorkerThread``.
typealias MiniflareDatabase = SQLiteConnection

extension SQLiteConnection {
    /// Opens a Miniflare namespace file: created when missing, or with `readOnly` opened for reading only.
    /// - Throws: ``MiniflareStateError`` naming the file.
    static func miniflare(path: String, readOnly: Bool = false) throws -> SQLiteConnection {
        let db: SQLiteConnection
        do {
            let access = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
            db = try SQLiteConnection(path: path, flags: access | SQLITE_OPEN_NOMUTEX)
        } catch {
            throw MiniflareStateError("\(path): \(error)")
        }
        // `wrangler dev` may hold the file open: wait for its write lock rather than fail.
        sqlite3_busy_timeout(db.handle, 30_000)
        return db
    }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE`), rolling back if it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(immediate: true, body)
    }
}
