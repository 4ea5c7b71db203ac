import CSQLite
import EdgeKV
import Foundation

/// Why a state file could not be used.
public struct SQLiteKVStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// The local KV emulator: one SQLite file (or an in-memory database) holding many namespaces.
///
/// The file is in WAL mode with a busy timeout, so several processes can use it at once. Every SQLite call runs
/// on the store's own ``executor`` thread. Expired entries are invisible at once and removed lazily.
public final class SQLiteKVStore: KVNamespaceManager, @unchecked Sendable {
    // @unchecked: `connection` and `lastPurge` are only used on `executor`, the thread that owns them;
    // everything else is immutable.
    private let connection: SQLiteConnection
    private var lastPurge: Int64 = 0

    /// The thread all SQLite work runs on. Prefer it for a task that does many KV calls in a row:
    /// `await withTaskExecutorPreference(store.executor) { … }` runs them without a thread hop each.
    public let executor: WorkerThread
    /// The configuration the store was opened with.
    public let configuration: Configuration

    /// How to open a store.
    public struct Configuration: Sendable {
        /// Where the data lives.
        public enum Location: Sendable, Hashable {
            /// A state file (created when missing).
            case file(String)
            /// A private in-memory database, gone when the store is.
            case memory
        }

        /// Where the data lives.
        public var location: Location
        /// The clock expiry is decided against.
        public var clock: any KVClock
        /// How long a write waits for another process's write lock, in milliseconds.
        public var busyTimeoutMilliseconds: Int32
        /// Whether every commit is flushed to disk (`synchronous=FULL`). The default (`NORMAL` in WAL mode)
        /// loses no committed write when a process is killed; FULL also survives power loss.
        public var durableCommits: Bool
        /// How much of the file reads may map into memory (`mmap_size`). Mapping makes gets and list pages deep in a
        /// large namespace cheap; a one-pass reader of a whole namespace (sync) sets 0 so the values it streams do
        /// not stay resident.
        public var mmapBytes: Int

        /// Creates a configuration.
        public init(
            location: Location, clock: any KVClock = SystemClock(), busyTimeoutMilliseconds: Int32 = 30_000,
            durableCommits: Bool = false, mmapBytes: Int = 1 << 30
        ) {
            self.location = location
            self.clock = clock
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.durableCommits = durableCommits
            self.mmapBytes = max(0, mmapBytes)
        }
    }

    /// The state file name inside a `--persist-to` directory.
    public static let stateFileName = "edgekv.sqlite"

    /// Opens (or creates) a store.
    /// - Throws: ``SQLiteKVStoreError`` when the path is a directory, not a SQLite file, or a SQLite file that is
    ///   not EdgeKV's (the file is left untouched), and ``SQLiteError`` for other SQLite failures.
    public init(configuration: Configuration) async throws {
        self.configuration = configuration
        let thread = WorkerThread(name: "edgekv-sqlite")
        do {
            connection = try await thread.run { try Self.open(configuration) }.value
        } catch {
            thread.stop()
            throw error
        }
        executor = thread
    }

    /// Opens (or creates) the state file at `path`.
    public convenience init(path: String, clock: any KVClock = SystemClock()) async throws {
        try await self.init(configuration: Configuration(location: .file(path), clock: clock))
    }

    /// Opens the state file `edgekv.sqlite` inside `directory`, creating the directory when missing.
    public convenience init(
        directory: String, clock: any KVClock = SystemClock(), mmapBytes: Int = 1 << 30
    ) async throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                throw SQLiteKVStoreError("\(directory) is a file, not a directory for local state")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw SQLiteKVStoreError(
                    "cannot create the state directory \(directory): \(error.localizedDescription)")
            }
        }
        let path = (directory as NSString).appendingPathComponent(Self.stateFileName)
        try await self.init(configuration: Configuration(location: .file(path), clock: clock, mmapBytes: mmapBytes))
    }

    /// Opens an empty in-memory store.
    public convenience init(inMemoryWithClock clock: any KVClock = SystemClock()) async throws {
        try await self.init(configuration: Configuration(location: .memory, clock: clock))
    }

    deinit {
        // Queued work finishes first; the connection is then closed once no thread can use it.
        executor.stop()
    }

    /// A box that lets the opened connection travel from the database thread to `init`.
    private struct Opened: @unchecked Sendable {
        // @unchecked: the connection is created on the database thread and only used there afterwards.
        let value: SQLiteConnection
    }

    private static func open(_ configuration: Configuration) throws -> Opened {
        let path: String
        switch configuration.location {
        case .memory: path = ":memory:"
        case .file(let p):
            path = p
            try checkExistingFile(p)
        }
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let c = try SQLiteConnection(path: path, flags: flags)
        sqlite3_busy_timeout(c.handle, configuration.busyTimeoutMilliseconds)
        try checkOrCreateSchema(c, path: path, isFile: configuration.location != .memory)
        try c.exec("PRAGMA synchronous = \(configuration.durableCommits ? "FULL" : "NORMAL")")
        // Reads of a large namespace go through the mapping instead of a read() per page, and the page cache
        // holds the upper levels of the key index: a get or a list page deep in a namespace of a million keys
        // then costs about what it costs in a small one.
        try c.exec("PRAGMA mmap_size = \(configuration.mmapBytes); PRAGMA cache_size = -65536")
        return Opened(value: c)
    }

    private static func checkExistingFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue { throw SQLiteKVStoreError("\(path) is a directory, not an EdgeKV state file") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SQLiteKVStoreError("\(path) cannot be read")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { return }
        if header != Data("SQLite format 3\0".utf8) {
            throw SQLiteKVStoreError(
                "\(path) is not an EdgeKV state file (it is not a SQLite database); left untouched")
        }
    }

    private static func checkOrCreateSchema(_ c: SQLiteConnection, path: String, isFile: Bool) throws {
        func tables() throws -> Set<String> {
            let s = try c.statement("SELECT name FROM sqlite_master WHERE type = 'table'")
            defer { s.reset() }
            var names = Set<String>()
            while try s.step() { names.insert(s.text(0) ?? "") }
            return names
        }
        func verify(_ names: Set<String>) throws {
            guard names.contains("edgekv_info"), names.contains("kv_entries") else {
                throw SQLiteKVStoreError(
                    "\(path) is a SQLite database but not an EdgeKV state file (it has tables "
                        + "\(names.sorted().joined(separator: ", "))); left untouched")
            }
            let s = try c.statement("SELECT value FROM edgekv_info WHERE name = 'schema_version'")
            defer { s.reset() }
            let version = try s.step() ? Int(s.text(0) ?? "") : nil
            guard let version else { throw SQLiteKVStoreError("\(path) has no EdgeKV schema version; left untouched") }
            if version > SQLiteKVSchema.version {
                throw SQLiteKVStoreError(
                    "\(path) was written by a newer EdgeKV (schema \(version), this build reads \(SQLiteKVSchema.version))"
                )
            }
        }
        let existing = try retryingBusy { try tables() }
        if !existing.isEmpty { return try verify(existing) }
        if isFile {
            // Several processes may create the file at once: WAL first, then the schema inside a write
            // transaction that checks again.
            let mode = try retryingBusy { () -> String in
                let s = try c.statement("PRAGMA journal_mode = WAL")
                defer { s.reset() }
                return try s.step() ? (s.text(0) ?? "") : ""
            }
            if mode.lowercased() != "wal" { throw SQLiteKVStoreError("\(path): cannot switch to WAL mode (\(mode))") }
        }
        try retryingBusy {
            try c.transaction(immediate: true) {
                let names = try tables()
                if names.isEmpty { try c.exec(SQLiteKVSchema.create) } else { try verify(names) }
            }
        }
    }

    /// Retries a step that failed with SQLITE_BUSY (which the busy handler does not cover for every lock).
    private static func retryingBusy<T>(_ body: () throws -> T) throws -> T {
        var delay: UInt32 = 1_000
        for _ in 0..<200 {
            do {
                return try body()
            } catch let error as SQLiteError where error.code & 0xFF == SQLITE_BUSY {
                usleep(delay)
                delay = min(delay * 2, 50_000)
            }
        }
        return try body()
    }

    // MARK: Namespaces

    /// A namespace for reads and writes. It need not exist: reads find nothing, and the first write creates it
    /// with the id as its title.
    public func namespace(id: String) -> any KVNamespace { SQLiteKVNamespace(store: self, id: id) }

    /// The namespace with this id as its concrete type.
    public func sqliteNamespace(id: String) -> SQLiteKVNamespace { SQLiteKVNamespace(store: self, id: id) }

    /// Creates a namespace with a fresh 32-hex-digit id.
    public func createNamespace(title: String) async throws -> KVNamespaceInfo {
        try Self.validateTitle(title)
        let now = configuration.clock.nowSeconds()
        return try await withConnection { c in
            try c.transaction(immediate: true) {
                if try Self.id(ofTitle: title, c) != nil { throw KVNamespaceError.duplicateTitle(title) }
                let id = Self.newID()
                let s = try c.statement(.createNamespace)
                s.bind(1, text: id)
                s.bind(2, text: title)
                s.bind(3, now)
                try s.run()
                return KVNamespaceInfo(id: id, title: title)
            }
        }
    }

    /// Every namespace, ordered by title.
    public func listNamespaces() async throws -> [KVNamespaceInfo] {
        try await withConnection { c in
            let s = try c.statement("SELECT id, title FROM kv_namespaces ORDER BY title, id")
            defer { s.reset() }
            var result: [KVNamespaceInfo] = []
            while try s.step() { result.append(KVNamespaceInfo(id: s.text(0) ?? "", title: s.text(1) ?? "")) }
            return result
        }
    }

    /// The namespace with this id, or nil.
    public func namespaceInfo(id: String) async throws -> KVNamespaceInfo? {
        try await withConnection { c in
            let s = try c.statement("SELECT id, title FROM kv_namespaces WHERE id = ?1")
            defer { s.reset() }
            s.bind(1, text: id)
            return try s.step() ? KVNamespaceInfo(id: s.text(0) ?? "", title: s.text(1) ?? "") : nil
        }
    }

    /// Renames a namespace.
    public func renameNamespace(id: String, title: String) async throws {
        try Self.validateTitle(title)
        try await withConnection { c in
            try c.transaction(immediate: true) {
                if let other = try Self.id(ofTitle: title, c), other != id {
                    throw KVNamespaceError.duplicateTitle(title)
                }
                let s = try c.statement("UPDATE kv_namespaces SET title = ?2 WHERE id = ?1")
                s.bind(1, text: id)
                s.bind(2, text: title)
                try s.run()
                if c.changes == 0 { throw KVNamespaceError.notFound(id) }
            }
        }
    }

    /// Deletes a namespace and all its entries.
    public func deleteNamespace(id: String) async throws {
        try await withConnection { c in
            try c.transaction(immediate: true) {
                let entries = try c.statement("DELETE FROM kv_entries WHERE ns = \(SQLiteKVSchema.nsOf)")
                entries.bind(1, text: id)
                try entries.run()
                let s = try c.statement("DELETE FROM kv_namespaces WHERE id = ?1")
                s.bind(1, text: id)
                try s.run()
                if c.changes == 0 { throw KVNamespaceError.notFound(id) }
            }
        }
    }

    private static func id(ofTitle title: String, _ c: SQLiteConnection) throws -> String? {
        let s = try c.statement("SELECT id FROM kv_namespaces WHERE title = ?1 LIMIT 1")
        defer { s.reset() }
        s.bind(1, text: title)
        return try s.step() ? s.text(0) : nil
    }

    private static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &g)) }.joined()
    }

    // MARK: Maintenance

    /// Removes every expired entry now (reads never return them anyway).
    /// - Returns: how many entries were removed.
    @discardableResult
    public func purgeExpired() async throws -> Int {
        let now = configuration.clock.nowMilliseconds()
        return try await withConnection { c in
            let s = try c.statement(.purgeExpired)
            s.bind(1, now)
            try s.run()
            return c.changes
        }
    }

    /// Runs `PRAGMA integrity_check`; "ok" for a sound file.
    public func integrityCheck() async throws -> String {
        try await withConnection { c in
            let s = try c.statement("PRAGMA integrity_check")
            defer { s.reset() }
            var lines: [String] = []
            while try s.step() { lines.append(s.text(0) ?? "") }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs `body` with the connection on the database thread.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await executor.run { [self] in try body(connection) }
    }

    /// Purges expired entries when the last purge is more than a minute of clock time ago. Database thread only.
    func purgeIfDue(_ c: SQLiteConnection, now: Int64) {
        guard now.saturatingSubtract(lastPurge) > 60_000 else { return }
        lastPurge = now
        if let s = try? c.statement(.purgeExpired) {
            s.bind(1, now)
            try? s.run()
        }
    }
}
