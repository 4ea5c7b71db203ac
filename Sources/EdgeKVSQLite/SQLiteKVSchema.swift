/// The layout of an EdgeKV state file and the statements the emulator runs on it.
///
/// One file holds many namespaces. Values are stored inline in the last column, so that `list` reads keys,
/// expiry and metadata without touching a large value's overflow pages. Keys are BLOBs of their UTF-8 bytes:
/// the unique index orders them by bytes, which is KV's list order, and makes a prefix a byte range.
package enum SQLiteKVSchema {
    /// The `format` value in `edgekv_info` that marks a file as EdgeKV's.
    package static let format = "edgekv-state"
    /// The schema version this build writes and reads.
    package static let version = 1

    package static let create = """
        CREATE TABLE edgekv_info(name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE kv_namespaces(
            ns INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE kv_entries(
            ns INTEGER NOT NULL,
            key BLOB NOT NULL,
            expiration INTEGER,
            metadata TEXT,
            value BLOB NOT NULL,
            UNIQUE(ns, key)
        );
        CREATE INDEX kv_entries_expiration ON kv_entries(expiration) WHERE expiration IS NOT NULL;
        INSERT INTO edgekv_info(name, value) VALUES ('format', '\(format)'), ('schema_version', '\(version)');
        """

    /// The columns of each table of ``create``, in order: a file whose tables differ is not EdgeKV's.
    package static let columns: [(table: String, columns: [String])] = [
        ("edgekv_info", ["name", "value"]),
        ("kv_namespaces", ["ns", "id", "title", "created_at"]),
        ("kv_entries", ["ns", "key", "expiration", "metadata", "value"]),
    ]

    /// The statements the emulator runs on every operation, prepared once per connection and found by index.
    package enum Query: Int, CaseIterable {
        case get, put, delete, deleteIfExpired, list, createNamespace, purgeExpired

        package var sql: String {
            switch self {
            case .get: SQLiteKVSchema.get
            case .put: SQLiteKVSchema.put
            case .delete: SQLiteKVSchema.delete
            case .deleteIfExpired: SQLiteKVSchema.deleteIfExpired
            case .list: SQLiteKVSchema.list
            case .createNamespace: SQLiteKVSchema.createNamespace
            case .purgeExpired: SQLiteKVSchema.purgeExpired
            }
        }
    }

    package static let nsOf = "(SELECT ns FROM kv_namespaces WHERE id = ?1)"

    /// ?1 namespace id, ?2 key.
    package static let get = "SELECT value, metadata, expiration FROM kv_entries WHERE ns = \(nsOf) AND key = ?2"

    /// ?1 namespace id, ?2 key, ?3 expiration (ms), ?4 metadata, ?5 value.
    package static let put = """
        INSERT INTO kv_entries(ns, key, expiration, metadata, value)
        SELECT ns, ?2, ?3, ?4, ?5 FROM kv_namespaces WHERE id = ?1
        ON CONFLICT(ns, key) DO UPDATE SET expiration = excluded.expiration, metadata = excluded.metadata,
            value = excluded.value
        """

    /// ?1 namespace id, ?2 key.
    package static let delete = "DELETE FROM kv_entries WHERE ns = \(nsOf) AND key = ?2"

    /// ?1 namespace id, ?2 key, ?3 now (ms): removes the entry if it has expired.
    package static let deleteIfExpired =
        "DELETE FROM kv_entries WHERE ns = \(nsOf) AND key = ?2 AND expiration IS NOT NULL AND expiration <= ?3"

    /// ?1 namespace id, ?2 inclusive lower bound, ?3 exclusive upper bound, ?4 now (ms), ?5 row limit.
    package static let list = """
        SELECT key, expiration, metadata FROM kv_entries
        WHERE ns = \(nsOf) AND key >= ?2 AND key < ?3 AND (expiration IS NULL OR expiration > ?4)
        ORDER BY key LIMIT ?5
        """

    /// ?1 namespace id, ?2 title (the id when created by a first write), ?3 created at (seconds).
    package static let createNamespace =
        "INSERT OR IGNORE INTO kv_namespaces(id, title, created_at) VALUES (?1, ?2, ?3)"

    /// ?1 now (ms).
    package static let purgeExpired = "DELETE FROM kv_entries WHERE expiration IS NOT NULL AND expiration <= ?1"

    /// The exclusive upper bound of the keys that start with `prefix`: the prefix with its last byte
    /// incremented (trailing 0xFF bytes dropped first). 0xFF never occurs in UTF-8, so [0xFF] bounds everything.
    package static func upperBound(ofPrefix prefix: [UInt8]) -> [UInt8] {
        var bound = prefix
        while let last = bound.last, last == 0xFF { bound.removeLast() }
        guard let last = bound.last else { return [0xFF] }
        bound[bound.count - 1] = last + 1
        return bound
    }
}
