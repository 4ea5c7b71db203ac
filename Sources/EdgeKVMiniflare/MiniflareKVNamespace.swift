import Crypto
import EdgeKV
import EdgeKVSQLite
import EdgeSupport
import Foundation

/// A KV namespace in the local persistence of `wrangler dev` / Miniflare 3+, read and written in Miniflare's own
/// layout so that `wrangler dev` sees what EdgeKV writes and the other way round.
///
/// Under `<state>/v3/kv/` (`state` is the `.wrangler/state` folder, or wrangler's `--persist-to`):
/// - `miniflare-KVNamespaceObject/<objectId>.sqlite`: the table `_mf_entries (key TEXT PRIMARY KEY, blob_id TEXT
///   NOT NULL, expiration INTEGER, metadata TEXT)` with expiry in milliseconds and metadata as JSON text;
/// - `<sanitised namespace id>/blobs/<blob id>`: each value's raw bytes, under an 80-hex-character id.
///
/// Like Miniflare, a write stores the blob first and then its row, and removes the replaced blob afterwards; an
/// interrupted write leaves at most an unreferenced blob file, never a row without its blob. All SQLite and file
/// work runs on the namespace's own thread.
public final class MiniflareKVNamespace: KVNamespace, @unchecked Sendable {
    // @unchecked: `database` is only used on `executor`, the thread that owns it; everything else is immutable.
    private let database: SQLiteConnection
    private let executor: WorkerThread

    /// The `uniqueKey` of Miniflare's KV Durable Object class, which its object ids and folder name derive from.
    public static let uniqueKey = "miniflare-KVNamespaceObject"

    /// The namespace id, as `wrangler dev` passes it to Miniflare (`preview_id ?? id ?? binding`).
    public let namespaceID: String
    /// The `.wrangler/state` folder (or wrangler's `--persist-to` directory).
    public let stateDirectory: String
    /// The namespace object's SQLite file.
    public let databasePath: String
    /// The folder holding the namespace's value blobs.
    public let blobDirectory: String
    /// The clock expiry is decided against.
    public let clock: any KVClock
    /// Whether the namespace was opened for reading only: then nothing under the state folder is created or
    /// changed, expired rows included, and writes throw.
    public let isReadOnly: Bool

    /// Opens the namespace, creating its folders, SQLite file, table and index when missing (`IF NOT EXISTS`, as
    /// Miniflare does, so an existing file is used as it is). With `readOnly`, the namespace must already exist and
    /// nothing is created or changed.
    /// - Throws: ``MiniflareStateError`` when the folders or the file cannot be created or opened, or (`readOnly`)
    ///   when the namespace has no file, naming the file.
    public init(
        stateDirectory: String, namespaceID: String, clock: any KVClock = SystemClock(), readOnly: Bool = false
    ) async throws {
        let kvRoot = Self.kvRoot(stateDirectory: stateDirectory)
        let databasePath = Self.databasePath(stateDirectory: stateDirectory, namespaceID: namespaceID)
        let objectFolder = (databasePath as NSString).deletingLastPathComponent
        let blobDirectory = ((kvRoot as NSString).appendingPathComponent(Self.sanitisedPath(namespaceID)) as NSString)
            .appendingPathComponent("blobs")
        self.namespaceID = namespaceID
        self.stateDirectory = stateDirectory
        self.databasePath = databasePath
        self.blobDirectory = blobDirectory
        self.clock = clock
        self.isReadOnly = readOnly
        let thread = WorkerThread(name: "edgekv-miniflare")
        do {
            database = try await thread.run {
                if readOnly {
                    return UncheckedDatabase(value: try Self.openExisting(databasePath, stateDirectory, namespaceID))
                }
                for folder in [objectFolder, blobDirectory] {
                    do {
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    } catch {
                        throw MiniflareStateError("cannot create \(folder): \(error.localizedDescription)")
                    }
                }
                let db = try Self.open(databasePath, readOnly: false)
                // workerd keeps Durable Object SQLite files in WAL mode; a fresh file starts the same way.
                try db.exec("PRAGMA journal_mode = WAL")
                try db.exec(Self.schema)
                return UncheckedDatabase(value: db)
            }.value
        } catch {
            thread.stop()
            throw error
        }
        executor = thread
    }

    deinit { executor.stop() }

    /// Opens a namespace's existing file for reading, creating nothing.
    private static func openExisting(_ path: String, _ state: String, _ namespaceID: String) throws -> SQLiteConnection
    {
        var info = stat()
        if stat(path, &info) != 0 && errno == ENOENT {
            throw MiniflareStateError(
                "wrangler dev has no KV namespace \"\(namespaceID)\" in \(state) (\(path) does not exist); check the "
                    + "folder (the .wrangler/state one) and the namespace id (wrangler dev uses preview_id ?? id ?? binding)"
            )
        }
        let db = try open(path, readOnly: true)
        let hasTable: Bool
        do {
            hasTable = try db.withStatement(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_mf_entries'"
            ) { s in try s.step() }
        } catch let error as SQLiteError {
            throw MiniflareStateError("\(path): \(error)")
        }
        guard hasTable else {
            throw MiniflareStateError("\(path) is not a Miniflare KV namespace file (it has no _mf_entries table)")
        }
        return db
    }

    /// Opens a namespace object's file: created when missing, or with `readOnly` opened for reading only.
    private static func open(_ path: String, readOnly: Bool) throws -> SQLiteConnection {
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path, access: readOnly ? .readOnly : .readWriteCreate)
        } catch {
            throw MiniflareStateError("\(path): \(error)")
        }
        // `wrangler dev` may hold the file open: wait for its write lock rather than fail.
        db.setBusyTimeout(milliseconds: 30_000)
        return db
    }

    private struct UncheckedDatabase: @unchecked Sendable {
        // @unchecked: created on the namespace's thread and only used there.
        let value: SQLiteConnection
    }

    /// Miniflare's schema (`shared/keyvalue.worker.ts`), verbatim in meaning.
    static let schema = """
        CREATE TABLE IF NOT EXISTS _mf_entries (
          key TEXT PRIMARY KEY,
          blob_id TEXT NOT NULL,
          expiration INTEGER,
          metadata TEXT
        );
        CREATE INDEX IF NOT EXISTS _mf_entries_expiration_idx ON _mf_entries(expiration);
        """

    // MARK: Layout

    /// `<state>/v3/kv`.
    public static func kvRoot(stateDirectory: String) -> String {
        ((stateDirectory as NSString).appendingPathComponent("v3") as NSString).appendingPathComponent("kv")
    }

    /// `<state>/v3/kv/miniflare-KVNamespaceObject/<objectId>.sqlite`: the file holding a namespace's rows.
    public static func databasePath(stateDirectory: String, namespaceID: String) -> String {
        let objectFolder = (kvRoot(stateDirectory: stateDirectory) as NSString).appendingPathComponent(uniqueKey)
        return (objectFolder as NSString).appendingPathComponent(objectID(forNamespace: namespaceID) + ".sqlite")
    }

    /// The Durable Object id Miniflare derives from a name (`durableObjectNamespaceIdFromName`): with
    /// `k = SHA-256(uniqueKey)`, `h = HMAC-SHA256(k, name)[0..<16]`, the id is `hex(h ‖ HMAC-SHA256(k, h)[0..<16])`.
    public static func objectID(
        forNamespace name: String, uniqueKey: String = MiniflareKVNamespace.uniqueKey
    )
        -> String
    {
        let key = SymmetricKey(data: SHA256.hash(data: Array(uniqueKey.utf8)))
        let nameHMAC = Array(HMAC<SHA256>.authenticationCode(for: Array(name.utf8), using: key)).prefix(16)
        let check = Array(HMAC<SHA256>.authenticationCode(for: Array(nameHMAC), using: key)).prefix(16)
        return (nameHMAC + check).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Miniflare's `sanitisePath`: path segments made only of dots, the characters `?<>*"'^/\:|`, control
    /// characters, Windows device names and leading or trailing spaces become `_`; the result is cut to 255 UTF-16
    /// units. A plain hex id comes back unchanged.
    public static func sanitisedPath(_ unsafe: String) -> String {
        var s = unsafe
        // Dot-only segments, twice (overlapping matches share their separator).
        for _ in 0..<2 { s = replacing(#"(^|/|\\)(\.+)(/|\\|$)"#, in: s) { $0[1] + pad($0[2]) + $0[3] } }
        s = String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { scalar in
                    let v = scalar.value
                    let illegal = "?<>*\"'^/\\:|".unicodeScalars.contains(scalar) || v <= 0x1F || (0x80...0x9F) ~= v
                    return illegal ? "_" : scalar
                }))
        s = replacing(#"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$"#, in: s, caseInsensitive: true) { _ in "_" }
        s = replacing(#"^[ /\\]+"#, in: s) { pad($0[0]) }
        s = replacing(#"[ /\\]+$"#, in: s) { pad($0[0]) }
        let units = Array(s.utf16.prefix(255))
        return String(decoding: units, as: UTF16.self)
    }

    private static func pad(_ s: String) -> String { String(repeating: "_", count: s.utf16.count) }

    private static func replacing(
        _ pattern: String, in s: String, caseInsensitive: Bool = false, with replacement: ([String]) -> String
    ) -> String {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
        else { return s }
        let ns = s as NSString
        var result = ""
        var last = 0
        for match in regex.matches(in: s, range: NSRange(location: 0, length: ns.length)) {
            result += ns.substring(with: NSRange(location: last, length: match.range.location - last))
            let groups = (0..<match.numberOfRanges).map { i -> String in
                let r = match.range(at: i)
                return r.location == NSNotFound ? "" : ns.substring(with: r)
            }
            result += replacement(groups)
            last = match.range.location + match.range.length
        }
        result += ns.substring(from: last)
        return result
    }

    /// A fresh blob id as Miniflare makes them: 32 random bytes and the 8-byte big-endian millisecond time, in hex.
    static func newBlobID(nowMilliseconds: Int64) -> String {
        var g = SystemRandomNumberGenerator()
        var bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &g) }
        bytes += withUnsafeBytes(of: UInt64(bitPattern: nowMilliseconds).bigEndian) { Array($0) }
        return bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// A blob's path; nil for an id that would leave the blob folder (as Miniflare refuses such ids).
    func blobPath(_ id: String) -> String? {
        guard !id.isEmpty, !id.contains("/"), id != ".", id != ".." else { return nil }
        return (blobDirectory as NSString).appendingPathComponent(id)
    }

    // MARK: KVNamespace

    /// Reads one entry; an expired row is removed (with its blob) and reads as missing, as Miniflare does.
    public func readEntry(_ key: String) async throws -> KVEntry? {
        try await readEntries([key])[key]
    }

    /// Reads several entries from one snapshot of the table.
    public func readEntries(_ keys: [String]) async throws -> [String: KVEntry] {
        let now = clock.nowMilliseconds()
        return try await run { db in
            var rows: [(key: String, blob: String, expiration: Int64?, metadata: String?)] = []
            var expired: [String] = []
            for key in keys {
                try db.withStatement("SELECT blob_id, expiration, metadata FROM _mf_entries WHERE key = ?1") { s in
                    try s.bind(1, text: key)
                    guard try s.step() else { return }
                    let expiration = s.int64(1)
                    if let expiration, expiration <= now {
                        expired.append(key)
                    } else {
                        rows.append((key, s.text(0) ?? "", expiration, s.text(2)))
                    }
                }
            }
            if !expired.isEmpty && !self.isReadOnly { try self.delete(expired, db: db, onlyExpiredBefore: now + 1) }
            var result: [String: KVEntry] = [:]
            for row in rows {
                // A row whose blob is gone (deleted by a concurrent writer) reads as missing, like Miniflare's null.
                guard let path = self.blobPath(row.blob), let data = FileManager.default.contents(atPath: path) else {
                    continue
                }
                let metadata = try row.metadata.map { try JSONValue(parsing: $0) }
                result[row.key] = KVEntry(
                    value: Array(data), metadata: metadata, expiration: row.expiration.map(Self.seconds))
            }
            return result
        }
    }

    static func seconds(_ ms: Int64) -> Int64 { Int64.floorSeconds(milliseconds: ms) }

    /// Stores a write.
    public func writeEntry(_ key: String, _ write: KVWrite) async throws {
        try await writeEntries([(key, write)])
    }

    /// Stores several writes: every blob first, then all rows in one transaction; replaced blobs are removed after
    /// the commit. When the transaction fails, the new blobs are removed again.
    public func writeEntries(_ writes: [(key: String, write: KVWrite)]) async throws {
        guard !writes.isEmpty else { return }
        try checkWritable()
        let now = clock.nowMilliseconds()
        let box = UncheckedWrites(writes: writes)
        try await run { db in
            var created: [String] = []
            do {
                var rows: [(key: String, blob: String, expiration: Int64?, metadata: String?)] = []
                for (key, write) in box.writes {
                    let id = Self.newBlobID(nowMilliseconds: now)
                    let path = self.blobPath(id)!
                    guard FileManager.default.createFile(atPath: path, contents: Data(write.value)) else {
                        throw MiniflareStateError("cannot write the blob \(path)")
                    }
                    created.append(path)
                    rows.append((key, id, write.expirationMilliseconds(at: now), write.metadata?.serialized))
                }
                let replaced = try db.transaction(immediate: true) { () -> [String] in
                    var replaced: [String] = []
                    for row in rows {
                        try db.withStatement("SELECT blob_id FROM _mf_entries WHERE key = ?1") { old in
                            try old.bind(1, text: row.key)
                            if try old.step(), let id = old.text(0) { replaced.append(id) }
                        }
                        try db.withStatement(
                            "INSERT OR REPLACE INTO _mf_entries (key, blob_id, expiration, metadata) VALUES (?1, ?2, ?3, ?4)"
                        ) { put in
                            try put.bind(1, text: row.key)
                            try put.bind(2, text: row.blob)
                            try put.bind(3, row.expiration)
                            try put.bind(4, text: row.metadata)
                            try put.run()
                        }
                    }
                    return replaced
                }
                for id in replaced {
                    if let path = self.blobPath(id) { try? FileManager.default.removeItem(atPath: path) }
                }
            } catch {
                for path in created { try? FileManager.default.removeItem(atPath: path) }
                throw error
            }
        }
    }

    /// Tuples are not `Sendable`-checked as captures; the array is immutable and only read.
    private struct UncheckedWrites: @unchecked Sendable {
        let writes: [(key: String, write: KVWrite)]
    }

    /// Removes an entry and its blob.
    public func deleteEntry(_ key: String) async throws {
        try await deleteEntries([key])
    }

    /// Removes entries in one transaction, then their blobs.
    public func deleteEntries(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try checkWritable()
        try await run { db in try self.delete(keys, db: db, onlyExpiredBefore: nil) }
    }

    private func checkWritable() throws {
        if isReadOnly { throw MiniflareStateError("\(databasePath) was opened for reading only; nothing was written") }
    }

    /// Database thread only.
    private func delete(_ keys: [String], db: SQLiteConnection, onlyExpiredBefore: Int64?) throws {
        let blobs = try db.transaction(immediate: true) { () -> [String] in
            let sql =
                onlyExpiredBefore == nil
                ? "DELETE FROM _mf_entries WHERE key = ?1 RETURNING blob_id"
                : "DELETE FROM _mf_entries WHERE key = ?1 AND expiration < ?2 RETURNING blob_id"
            var blobs: [String] = []
            for key in keys {
                try db.withStatement(sql) { s in
                    try s.bind(1, text: key)
                    if let onlyExpiredBefore { try s.bind(2, onlyExpiredBefore) }
                    while try s.step() { if let id = s.text(0) { blobs.append(id) } }
                }
            }
            return blobs
        }
        for id in blobs { if let path = blobPath(id) { try? FileManager.default.removeItem(atPath: path) } }
    }

    /// Lists a page as Miniflare does: keys with the literal prefix (compared as bytes: SQL's `length` of text stops
    /// at a NUL), strictly after the cursor's key, not expired, in key order; the cursor is the base64 of the page's
    /// last key. A key is expired from its expiration time on, as in a read (Miniflare's own listing still shows it
    /// during that millisecond).
    public func listEntries(_ request: KVListRequest) async throws -> KVListResult {
        var after = ""
        if let cursor = request.cursor, !cursor.isEmpty {
            guard let data = Data(base64Encoded: cursor) else { throw KVError(.get, status: 400, "Invalid cursor") }
            after = String(decoding: data, as: UTF8.self)
        }
        let now = clock.nowMilliseconds()
        let limit = request.limit
        let prefix = request.prefix
        let start = after
        return try await run { db in
            var keys = try db.withStatement(
                """
                SELECT key, expiration, metadata FROM _mf_entries
                WHERE substr(CAST(key AS BLOB), 1, length(CAST(?1 AS BLOB))) = CAST(?1 AS BLOB) AND key > ?2
                  AND (expiration IS NULL OR expiration > ?3)
                ORDER BY key LIMIT ?4
                """
            ) { s in
                try s.bind(1, text: prefix)
                try s.bind(2, text: start)
                try s.bind(3, now)
                try s.bind(4, Int64(limit + 1))
                var keys: [KVListKey] = []
                while try s.step() {
                    let metadata = try s.text(2).map { try JSONValue(parsing: $0) }
                    keys.append(
                        KVListKey(name: s.text(0) ?? "", expiration: s.int64(1).map(Self.seconds), metadata: metadata))
                }
                return keys
            }
            let more = keys.count > limit
            if more { keys.removeLast() }
            let cursor = more ? Data(keys[limit - 1].name.utf8).base64EncodedString() : nil
            return KVListResult(keys: keys, listComplete: !more, cursor: cursor)
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        do {
            return try await executor.run { [self] in try body(database) }
        } catch let error as SQLiteError {
            throw MiniflareStateError("\(databasePath): \(error)")
        }
    }
}
