import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Synchronization
import Testing

/// A connection of the test's own to a state file, next to the store's: it sees the rows as they are in the file
/// (expired ones included, which the store never returns) and can hold the write lock.
final class RawConnection {
    let connection: SQLiteConnection

    init(_ path: String) throws { connection = try SQLiteConnection(path: path, access: .readWrite) }

    func exec(_ sql: String) throws { try connection.exec(sql) }

    /// The keys of every row in `kv_entries`, in key order, expired or not.
    func storedKeys() throws -> [String] {
        try connection.withStatement("SELECT key FROM kv_entries ORDER BY key") { s in
            var keys: [String] = []
            while try s.step() { keys.append(s.blobText(0)) }
            return keys
        }
    }
}

/// Removal of expired rows (on demand and periodic) and the busy timeout, observed in the state file itself.
@Suite struct MaintenanceTests {
    static let start = testEpoch

    /// A store on a file in `dir` with a manual clock at ``start``.
    static func store(
        _ dir: TemporaryDirectory, busyTimeoutMilliseconds: Int32 = 30_000
    ) async throws
        -> (SQLiteKVStore, ManualClock)
    {
        let clock = ManualClock(seconds: start)
        let store = try await SQLiteKVStore(
            configuration: SQLiteKVStore.Configuration(
                location: .file(dir.file(SQLiteKVStore.stateFileName)), clock: clock,
                busyTimeoutMilliseconds: busyTimeoutMilliseconds))
        return (store, clock)
    }

    /// Writes `keys` (name → expiration in seconds after ``start``, nil for none) straight into a namespace.
    static func write(_ ns: any KVNamespace, _ keys: [String: Int64?]) async throws {
        try await ns.writeEntries(
            keys.sorted { $0.key < $1.key }.map {
                ($0.key, KVWrite(value: Array("v".utf8), expiration: $0.value.map { start + $0 }))
            })
    }

    @Test func purgeExpiredRemovesTheExpiredRowsOfEveryNamespaceFromTheFile() async throws {
        let dir = try TemporaryDirectory()
        let (store, clock) = try await Self.store(dir)
        try await Self.write(store.namespace(id: "a"), ["a-soon": 100, "a-later": 200, "a-never": nil])
        try await Self.write(store.namespace(id: "b"), ["b-soon": 100])
        let raw = try RawConnection(dir.file(SQLiteKVStore.stateFileName))

        #expect(try await store.purgeExpired() == 0)
        clock.advance(seconds: 150)
        // Expired but still in the file: reads hide such rows, only a purge (or a read of that key) removes them.
        #expect(try raw.storedKeys() == ["a-later", "a-never", "a-soon", "b-soon"])
        #expect(try await store.purgeExpired() == 2)
        #expect(try raw.storedKeys() == ["a-later", "a-never"])
        #expect(try await store.namespace(id: "a").get("a-later") == "v")

        clock.advance(seconds: 50)  // exactly at a-later's expiration: expired
        #expect(try await store.purgeExpired() == 1)
        #expect(try raw.storedKeys() == ["a-never"])
        #expect(try await store.purgeExpired() == 0)
    }

    @Test func listingPurgesExpiredRowsAtMostOnceAMinuteOfClockTime() async throws {
        let dir = try TemporaryDirectory()
        let (store, clock) = try await Self.store(dir)
        let a = store.namespace(id: "a")
        try await Self.write(a, ["a1": 100, "keep": nil])
        try await Self.write(store.namespace(id: "b"), ["b1": 100])
        let raw = try RawConnection(dir.file(SQLiteKVStore.stateFileName))

        _ = try await a.list()  // the first listing purges (nothing has expired yet) and starts the minute
        clock.advance(seconds: 150)
        #expect(try raw.storedKeys() == ["a1", "b1", "keep"])
        #expect(try await a.list().keys.map(\.name) == ["keep"])
        // The purge is not limited to the namespace listed.
        #expect(try raw.storedKeys() == ["keep"])

        // 150 s after the start: this key expires at 200 s; the next purge is due after 210 s.
        try await Self.write(a, ["a2": 200])
        clock.advance(seconds: 55)
        #expect(try await a.list().keys.map(\.name) == ["keep"])
        #expect(try raw.storedKeys() == ["a2", "keep"], "purged again within a minute")
        clock.advance(seconds: 10)
        #expect(try await a.list().keys.map(\.name) == ["keep"])
        #expect(try raw.storedKeys() == ["keep"])
    }

    @Test func readingAnExpiredKeyRemovesItsRow() async throws {
        let dir = try TemporaryDirectory()
        let (store, clock) = try await Self.store(dir)
        let a = store.namespace(id: "a")
        try await Self.write(a, ["gone": 100, "other": 100])
        let raw = try RawConnection(dir.file(SQLiteKVStore.stateFileName))
        clock.advance(seconds: 100)
        #expect(try await a.get("gone") == nil)
        #expect(try raw.storedKeys() == ["other"])
    }

    // A lower bound on the wait is safe on a loaded machine: load can only make the wait longer.
    @Test func aWriteWaitsForAnotherConnectionsWriteLockUpToTheBusyTimeoutThenFails() async throws {
        let dir = try TemporaryDirectory()
        let (store, _) = try await Self.store(dir, busyTimeoutMilliseconds: 400)
        let ns = store.namespace(id: "a")
        try await ns.put("before", "1")
        let raw = try RawConnection(dir.file(SQLiteKVStore.stateFileName))
        try raw.exec("BEGIN IMMEDIATE")

        let clock = ContinuousClock()
        let started = clock.now
        let error = try await #require(throws: SQLiteKVStoreError.self) { try await ns.put("blocked", "2") }
        let waited = clock.now - started
        #expect(error.code == .sqlite)
        #expect(error.message == "\(store.path): SQLite error 5: database is locked", "\(error)")
        #expect(waited >= .milliseconds(350), "gave up after \(waited), before the 400 ms busy timeout")
        #expect(waited < .seconds(60))
        // WAL: readers are not blocked by the lock, and the failed write left nothing behind.
        #expect(try await ns.get("before") == "1")
        #expect(try await ns.get("blocked") == nil)

        try raw.exec("COMMIT")
        try await ns.put("after", "3")
        #expect(try await ns.list().keys.map(\.name) == ["after", "before"])
    }

    @Test func aWriteThatWaitsGoesThroughOnceTheLockIsReleased() async throws {
        let dir = try TemporaryDirectory()
        let (store, _) = try await Self.store(dir)  // the default 30 s timeout
        let ns = store.namespace(id: "a")
        let raw = try RawConnection(dir.file(SQLiteKVStore.stateFileName))
        try raw.exec("BEGIN IMMEDIATE")
        try raw.exec("INSERT INTO kv_namespaces(id, title, created_at) VALUES ('held', 'held', 0)")

        let finished = Mutex(false)
        let write = Task {
            try await ns.put("k", "v")
            finished.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(!finished.withLock { $0 }, "the write went through while another connection held the lock")
        try raw.exec("COMMIT")
        try await write.value
        #expect(try await ns.get("k") == "v")
        #expect(try await store.namespaceInfo(id: "held") != nil)
    }
}
