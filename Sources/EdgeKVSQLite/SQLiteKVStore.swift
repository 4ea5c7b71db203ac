import EdgeKV
import EdgeSupport
import Foundation

/// Why a state file could not be used. The message names the file and says what to do.
public struct SQLiteKVStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure it is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Hashable {
            case unusable, missing, readOnly, corrupt, sqlite
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The path is not an EdgeKV state file (another file, another program's database, a newer schema).
        public static let unusable = Code(.unusable)
        /// There is no state file, and the store was told not to create one.
        public static let missing = Code(.missing)
        /// The state can only be read: it was opened read-only, or the file or its folder cannot be written.
        public static let readOnly = Code(.readOnly)
        /// SQLite found the file damaged; the store no longer writes to it.
        public static let corrupt = Code(.corrupt)
        /// Another SQLite failure (I/O, a full disk, a lock held too long).
        public static let sqlite = Code(.sqlite)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// What kind of failure it is.
    public let code: Code
    /// What went wrong, with the file it concerns.
    public let message: String

    /// Creates an error.
    public init(_ message: String, code: Code = .unusable) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }

    static func missing(_ path: String) -> SQLiteKVStoreError {
        SQLiteKVStoreError("no local state at \(path): the file does not exist", code: .missing)
    }

    static func readOnly(_ path: String) -> SQLiteKVStoreError {
        SQLiteKVStoreError(
            "\(path) is read-only: it can be read but not changed; make the file and its folder writable to write",
            code: .readOnly)
    }

    static func corrupt(_ path: String, _ detail: String) -> SQLiteKVStoreError {
        SQLiteKVStoreError(
            "\(path) is corrupt (\(detail)); EdgeKV does not write to it. Move it aside (or restore a backup) "
                + "and start again; `sqlite3 \(path) .recover` may save what is still readable",
            code: .corrupt)
    }

    static func sqlite(_ path: String, _ error: SQLiteError) -> SQLiteKVStoreError {
        SQLiteKVStoreError("\(path): \(error)", code: .sqlite)
    }
}

/// The local KV emulator: one SQLite file (or an in-memory database) holding many namespaces.
///
/// The file is in WAL mode with a busy timeout, so several processes can use it at once. Every SQLite call runs
/// on the store's own ``executor`` thread. Expired entries are invisible at once and removed lazily.
///
/// A file that cannot be written (read-only, in a read-only folder) is opened for reading: reads work, writes throw
/// ``SQLiteKVStoreError/Code/readOnly``. A damaged file is refused when it is opened (a `quick_check` runs on files
/// up to ``Configuration/quickCheckMaxBytes``), and once SQLite reports damage later the store writes nothing more.
public final class SQLiteKVStore: KVNamespaceManager, @unchecked Sendable {
    // @unchecked: `connection`, `lastPurge` and `corruption` are only used on `executor`, the thread that owns
    // them; everything else is immutable.
    private let connection: KVConnection
    private var lastPurge: Int64 = 0
    /// SQLite's report of damage, once it has given one; the store then refuses writes.
    private var corruption: String?

    /// The thread all SQLite work runs on. Prefer it for a task that does many KV calls in a row:
    /// `await withTaskExecutorPreference(store.executor) { … }` runs them without a thread hop each.
    public let executor: WorkerThread
    /// The configuration the store was opened with.
    public let configuration: Configuration
    /// Whether the store only reads: opened with ``Configuration/readOnly``, or the file could not be written.
    public let isReadOnly: Bool

    /// How to open a store.
    public struct Configuration: Sendable {
        /// Where the data lives.
        public enum Location: Sendable, Hashable {
            /// A state file (created when missing, unless ``Configuration/createIfMissing`` is false).
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
        /// Whether a missing (or empty) state file is created. When false, opening one throws
        /// ``SQLiteKVStoreError/Code/missing`` and creates nothing.
        public var createIfMissing: Bool
        /// Open for reading only: nothing is ever written, and writes throw ``SQLiteKVStoreError/Code/readOnly``.
        public var readOnly: Bool
        /// Files up to this size get a `PRAGMA quick_check` when opened, so that damage is reported before anything
        /// is written; 0 turns the check off. Larger files are checked by use: the first damage SQLite reports
        /// stops all writes.
        public var quickCheckMaxBytes: Int

        /// Creates a configuration.
        public init(
            location: Location, clock: any KVClock = SystemClock(), busyTimeoutMilliseconds: Int32 = 30_000,
            durableCommits: Bool = false, mmapBytes: Int = 1 << 30, createIfMissing: Bool = true,
            readOnly: Bool = false, quickCheckMaxBytes: Int = 16 << 20
        ) {
            self.location = location
            self.clock = clock
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.durableCommits = durableCommits
            self.mmapBytes = max(0, mmapBytes)
            self.createIfMissing = createIfMissing
            self.readOnly = readOnly
            self.quickCheckMaxBytes = max(0, quickCheckMaxBytes)
        }
    }

    /// The state file name inside a `--persist-to` directory.
    public static let stateFileName = "edgekv.sqlite"

    /// Opens (or creates) a store.
    /// - Throws: ``SQLiteKVStoreError``, naming the file: ``SQLiteKVStoreError/Code/unusable`` when the path is a
    ///   directory, not a SQLite file, or a SQLite file that is not EdgeKV's (the file is left untouched);
    ///   ``SQLiteKVStoreError/Code/missing`` when there is no file and none may be created;
    ///   ``SQLiteKVStoreError/Code/corrupt`` for a damaged file; ``SQLiteKVStoreError/Code/sqlite`` otherwise.
    public init(configuration: Configuration) async throws {
        self.configuration = configuration
        let thread = WorkerThread(name: "edgekv-sqlite")
        let opened: Opened
        do {
            opened = try await thread.run { try Self.open(configuration) }
        } catch {
            thread.stop()
            throw error
        }
        connection = opened.value
        isReadOnly = opened.readOnly
        executor = thread
    }

    /// Opens (or creates) the state file at `path`.
    public convenience init(path: String, clock: any KVClock = SystemClock()) async throws {
        try await self.init(configuration: Configuration(location: .file(path), clock: clock))
    }

    /// Opens the state file `edgekv.sqlite` inside `directory`, creating the directory when missing (unless
    /// `createIfMissing` is false: then a missing directory or file throws ``SQLiteKVStoreError/Code/missing``).
    /// With `readOnly`, nothing is ever written (see ``Configuration/readOnly``) and nothing is created.
    public convenience init(
        directory: String, clock: any KVClock = SystemClock(), mmapBytes: Int = 1 << 30, createIfMissing: Bool = true,
        readOnly: Bool = false
    ) async throws {
        var isDirectory: ObjCBool = false
        let path = (directory as NSString).appendingPathComponent(Self.stateFileName)
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                throw SQLiteKVStoreError("\(directory) is a file, not a directory for local state")
            }
        } else if !createIfMissing || readOnly {
            throw SQLiteKVStoreError.missing(path)
        } else {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw SQLiteKVStoreError(
                    "cannot create the state directory \(directory): \(error.localizedDescription)")
            }
        }
        try await self.init(
            configuration: Configuration(
                location: .file(path), clock: clock, mmapBytes: mmapBytes, createIfMissing: createIfMissing,
                readOnly: readOnly))
    }

    /// Opens an empty in-memory store.
    public convenience init(inMemoryWithClock clock: any KVClock = SystemClock()) async throws {
        try await self.init(configuration: Configuration(location: .memory, clock: clock))
    }

    deinit {
        // Queued work finishes first; the connection is then closed once no thread can use it.
        executor.stop()
    }

    /// The state file, or `:memory:`.
    public var path: String {
        switch configuration.location {
        case .file(let path): path
        case .memory: ":memory:"
        }
    }

    /// A box that lets the opened connection travel from the database thread to `init`.
    private struct Opened: @unchecked Sendable {
        // @unchecked: the connection is created on the database thread and only used there afterwards.
        let value: KVConnection
        let readOnly: Bool
    }

    private static func open(_ configuration: Configuration) throws -> Opened {
        guard case .file(let path) = configuration.location else {
            let c = try SQLiteConnection(path: ":memory:", access: .readWriteCreate)
            try checkOrCreateSchema(c, path: ":memory:", isFile: false, readOnly: false)
            try c.exec("PRAGMA cache_size = -65536")
            return Opened(value: KVConnection(c), readOnly: false)
        }
        let existing = try checkExistingFile(path)
        if existing != .database && (configuration.readOnly || !configuration.createIfMissing) {
            throw SQLiteKVStoreError.missing(path)
        }
        do {
            var readOnly = configuration.readOnly
            let access: SQLiteConnection.Access =
                readOnly ? .readOnly : configuration.createIfMissing ? .readWriteCreate : .readWrite
            var c = try SQLiteConnection(path: path, access: access)
            // SQLite opens a file it may not write read-only by itself.
            if c.isReadOnly { readOnly = true }
            c.setBusyTimeout(milliseconds: configuration.busyTimeoutMilliseconds)
            do {
                try checkOrCreateSchema(c, path: path, isFile: true, readOnly: readOnly)
            } catch let error as SQLiteError
                where existing == .database && [.readOnly, .cannotOpen].contains(error.kind)
                && !Self.folderIsWritable(path)
            {
                // A WAL file's readers need its -shm beside it; in a folder nobody may write to, no writer can make
                // a -wal either, so the file cannot change while it is read as immutable.
                c = try SQLiteConnection(path: path, access: .immutable)
                readOnly = true
                try checkOrCreateSchema(c, path: path, isFile: true, readOnly: true)
            }
            if configuration.quickCheckMaxBytes > 0, fileSize(path) <= configuration.quickCheckMaxBytes {
                let result = try c.withStatement("PRAGMA quick_check(1)") { s in try s.step() ? (s.text(0) ?? "") : "" }
                if result != "ok" { throw SQLiteKVStoreError.corrupt(path, "quick_check: \(result)") }
            }
            if !readOnly {
                try c.exec("PRAGMA synchronous = \(configuration.durableCommits ? "FULL" : "NORMAL")")
            }
            // Reads of a large namespace go through the mapping instead of a read() per page, and the page cache
            // holds the upper levels of the key index: a get or a list page deep in a namespace of a million keys
            // then costs about what it costs in a small one.
            try c.exec("PRAGMA mmap_size = \(configuration.mmapBytes); PRAGMA cache_size = -65536")
            return Opened(value: KVConnection(c), readOnly: readOnly)
        } catch let error as SQLiteError {
            switch error.kind {
            case .corrupt: throw SQLiteKVStoreError.corrupt(path, error.description)
            case .readOnly: throw SQLiteKVStoreError.readOnly(path)
            case .cannotOpen:
                throw SQLiteKVStoreError(
                    "cannot open \(path) (\(error)); check that its folder exists and that you may read it",
                    code: .sqlite)
            default: throw SQLiteKVStoreError.sqlite(path, error)
            }
        }
    }

    private enum ExistingFile { case none, empty, database }

    /// What is at `path`; throws for what is not a SQLite file, without changing it.
    private static func checkExistingFile(_ path: String) throws -> ExistingFile {
        var info = stat()
        if stat(path, &info) != 0 {
            // Only a path that is really absent counts as missing: one that cannot be looked at is opened and fails
            // with the reason.
            return errno == ENOENT ? .none : .database
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw SQLiteKVStoreError("\(path) is a directory, not an EdgeKV state file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SQLiteKVStoreError("\(path) cannot be read; check its permissions and those of its folder")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { return .empty }
        if header != Data("SQLite format 3\0".utf8) {
            throw SQLiteKVStoreError(
                "\(path) is not an EdgeKV state file (it is not a SQLite database); left untouched")
        }
        return .database
    }

    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    private static func folderIsWritable(_ path: String) -> Bool {
        let folder = (path as NSString).deletingLastPathComponent
        return access(folder.isEmpty ? "." : folder, W_OK) == 0
    }

    private static func checkOrCreateSchema(
        _ c: SQLiteConnection, path: String, isFile: Bool, readOnly: Bool
    ) throws {
        func tables() throws -> Set<String> {
            try c.withStatement("SELECT name FROM sqlite_master WHERE type = 'table'") { s in
                var names = Set<String>()
                while try s.step() { names.insert(s.text(0) ?? "") }
                return names
            }
        }
        func verify(_ names: Set<String>) throws {
            guard SQLiteKVSchema.columns.allSatisfy({ names.contains($0.table) }) else {
                throw SQLiteKVStoreError(
                    "\(path) is a SQLite database but not an EdgeKV state file (it has tables "
                        + "\(names.sorted().joined(separator: ", "))); left untouched")
            }
            for (table, expected) in SQLiteKVSchema.columns {
                let columns = try c.withStatement("SELECT name FROM pragma_table_info(?1) ORDER BY cid") { s in
                    try s.bind(1, text: table)
                    var columns: [String] = []
                    while try s.step() { columns.append(s.text(0) ?? "") }
                    return columns
                }
                if columns != expected {
                    throw SQLiteKVStoreError(
                        "\(path) is a SQLite database but not an EdgeKV state file (its table \(table) has columns "
                            + "\(columns.joined(separator: ", ")), not \(expected.joined(separator: ", "))); left untouched"
                    )
                }
            }
            let version = try c.withStatement("SELECT value FROM edgekv_info WHERE name = 'schema_version'") { s in
                try s.step() ? Int(s.text(0) ?? "") : nil
            }
            guard let version else { throw SQLiteKVStoreError("\(path) has no EdgeKV schema version; left untouched") }
            if version > SQLiteKVSchema.version {
                throw SQLiteKVStoreError(
                    "\(path) was written by a newer EdgeKV (schema \(version), this build reads \(SQLiteKVSchema.version))"
                )
            }
        }
        let existing = try retryingBusy { try tables() }
        if !existing.isEmpty { return try verify(existing) }
        if readOnly { throw SQLiteKVStoreError("\(path) holds no EdgeKV state yet, and is read-only", code: .missing) }
        if isFile {
            // Several processes may create the file at once: WAL first, then the schema inside a write
            // transaction that checks again.
            let mode = try retryingBusy { () -> String in
                try c.withStatement("PRAGMA journal_mode = WAL") { s in try s.step() ? (s.text(0) ?? "") : "" }
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
            } catch let error as SQLiteError where error.kind == .busy {
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
        return try await withConnection(writing: true) { c in
            try c.transaction(immediate: true) {
                if try Self.id(ofTitle: title, c) != nil { throw KVNamespaceError.duplicateTitle(title) }
                let id = Self.newID()
                try c.query(.createNamespace) { s in
                    try s.bind(1, text: id)
                    try s.bind(2, text: title)
                    try s.bind(3, now)
                    try s.run()
                }
                return KVNamespaceInfo(id: id, title: title)
            }
        }
    }

    /// Every namespace, ordered by title.
    public func listNamespaces() async throws -> [KVNamespaceInfo] {
        try await withConnection { c in
            try c.withStatement("SELECT id, title FROM kv_namespaces ORDER BY title, id") { s in
                var result: [KVNamespaceInfo] = []
                while try s.step() { result.append(KVNamespaceInfo(id: s.text(0) ?? "", title: s.text(1) ?? "")) }
                return result
            }
        }
    }

    /// The namespace with this id, or nil.
    public func namespaceInfo(id: String) async throws -> KVNamespaceInfo? {
        try KVNamespaceInfo.validateID(id)
        return try await withConnection { c in
            try c.withStatement("SELECT id, title FROM kv_namespaces WHERE id = ?1") { s in
                try s.bind(1, text: id)
                return try s.step() ? KVNamespaceInfo(id: s.text(0) ?? "", title: s.text(1) ?? "") : nil
            }
        }
    }

    /// Renames a namespace.
    public func renameNamespace(id: String, title: String) async throws {
        try KVNamespaceInfo.validateID(id)
        try Self.validateTitle(title)
        try await withConnection(writing: true) { c in
            try c.transaction(immediate: true) {
                if let other = try Self.id(ofTitle: title, c), other != id {
                    throw KVNamespaceError.duplicateTitle(title)
                }
                try c.withStatement("UPDATE kv_namespaces SET title = ?2 WHERE id = ?1") { s in
                    try s.bind(1, text: id)
                    try s.bind(2, text: title)
                    try s.run()
                }
                if c.changes == 0 { throw KVNamespaceError.notFound(id) }
            }
        }
    }

    /// Deletes a namespace and all its entries.
    public func deleteNamespace(id: String) async throws {
        try KVNamespaceInfo.validateID(id)
        try await withConnection(writing: true) { c in
            try c.transaction(immediate: true) {
                try c.withStatement("DELETE FROM kv_entries WHERE ns = \(SQLiteKVSchema.nsOf)") { s in
                    try s.bind(1, text: id)
                    try s.run()
                }
                try c.withStatement("DELETE FROM kv_namespaces WHERE id = ?1") { s in
                    try s.bind(1, text: id)
                    try s.run()
                }
                if c.changes == 0 { throw KVNamespaceError.notFound(id) }
            }
        }
    }

    private static func id(ofTitle title: String, _ c: KVConnection) throws -> String? {
        try c.withStatement("SELECT id FROM kv_namespaces WHERE title = ?1 LIMIT 1") { s in
            try s.bind(1, text: title)
            return try s.step() ? s.text(0) : nil
        }
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
        return try await withConnection(writing: true) { c in
            try c.query(.purgeExpired) { s in
                try s.bind(1, now)
                try s.run()
            }
            return c.changes
        }
    }

    /// Runs `PRAGMA integrity_check`; "ok" for a sound file.
    public func integrityCheck() async throws -> String {
        try await withConnection { c in
            try c.withStatement("PRAGMA integrity_check") { s in
                var lines: [String] = []
                while try s.step() { lines.append(s.text(0) ?? "") }
                return lines.joined(separator: "\n")
            }
        }
    }

    /// Runs `body` with the connection on the database thread. A SQLite failure comes out as a
    /// ``SQLiteKVStoreError`` naming the file; damage is remembered, and from then on (as on a read-only store) a
    /// `writing` body is refused before it runs.
    func withConnection<T: Sendable>(
        writing: Bool = false, _ body: @escaping @Sendable (KVConnection) throws -> T
    ) async throws -> T {
        try await executor.run { [self] in
            if writing {
                if let corruption { throw SQLiteKVStoreError.corrupt(path, corruption) }
                if isReadOnly { throw SQLiteKVStoreError.readOnly(path) }
            }
            do {
                return try body(connection)
            } catch let error as SQLiteError {
                switch error.kind {
                case .corrupt:
                    corruption = corruption ?? error.description
                    throw SQLiteKVStoreError.corrupt(path, error.description)
                case .readOnly: throw SQLiteKVStoreError.readOnly(path)
                default: throw SQLiteKVStoreError.sqlite(path, error)
                }
            }
        }
    }

    /// Whether reads may tidy up (remove expired entries) as they go: not on a read-only or damaged store.
    /// Database thread only.
    var mayWrite: Bool { !isReadOnly && corruption == nil }

    /// Purges expired entries when the last purge is more than a minute of clock time ago. Database thread only.
    func purgeIfDue(_ c: KVConnection, now: Int64) {
        guard mayWrite, now.saturatingSubtract(lastPurge) > 60_000 else { return }
        lastPurge = now
        try? c.query(.purgeExpired) { s in
            try s.bind(1, now)
            try s.run()
        }
    }
}
