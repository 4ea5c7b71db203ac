import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

/// The state file under real processes: killed writers, concurrent writers, files that are not EdgeKV's, reopening.
/// The writers are the `KVWriter` helper binary, run as child processes.
@Suite struct ReliabilityTests {
    /// The bytes KVWriter stores under `key`: `<tag>/<key>` (or the key alone) repeated and cut to `count` bytes.
    static func value(for key: String, tag: String = "", count: Int) -> [UInt8] {
        let unit = Array((tag.isEmpty ? key : "\(tag)/\(key)").utf8)
        return (0..<count).map { unit[$0 % unit.count] }
    }

    /// Checks that `key` holds exactly `expected`; a mismatch is reported by size and leading bytes, not dumped.
    static func expectValue(
        _ kv: any KVNamespace, _ key: String, _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let found = try await kv.getBytes(key)
        guard found != expected else { return }
        func show(_ bytes: [UInt8]) -> String {
            "\(bytes.count) bytes starting \(String(decoding: bytes.prefix(48), as: UTF8.self).debugDescription)"
        }
        Issue.record(
            "\(key) holds \(found.map(show) ?? "nothing"), expected \(show(expected))", sourceLocation: sourceLocation)
    }

    static func writer(
        _ directory: String, namespace: String, prefix: String, count: Int, valueBytes: Int, tag: String = ""
    ) throws -> ChildProcess {
        var arguments = [directory, namespace, prefix, String(count), String(valueBytes)]
        if !tag.isEmpty { arguments.append(tag) }
        return try ChildProcess(try ChildProcess.builtProduct("KVWriter"), arguments, timeout: .seconds(60))
    }

    /// Every key of the namespace, following cursors with small pages so several pages are read.
    static func listAllKeys(_ kv: any KVNamespace, prefix: String? = nil) async throws -> [String] {
        var names: [String] = []
        var cursor: String?
        for _ in 0..<10_000 {
            let page = try await kv.list(prefix: prefix, limit: 300, cursor: cursor)
            names += page.keys.map(\.name)
            if page.listComplete {
                #expect(page.cursor == nil)
                return names
            }
            let next = try #require(page.cursor)
            cursor = next
        }
        Issue.record("list did not complete after 10000 pages")
        return names
    }

    static func byteOrder(_ keys: [String]) -> [String] {
        keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    // MARK: SIGKILL

    @Test func sigkillMidStreamLosesNoAcknowledgedPut() async throws {
        let dir = try TemporaryDirectory()
        let valueBytes = 4096
        var acknowledged: [String] = []
        // Three kills at different depths of the stream, on the same file, each round continuing with a new prefix.
        for (round, threshold) in [300, 450, 700].enumerated() {
            let prefix = "round\(round)"
            let child = try Self.writer(dir.path, namespace: "kill", prefix: prefix, count: 0, valueBytes: valueBytes)
            _ = try await child.waitForLines(atLeast: threshold)
            child.signal(SIGKILL)
            #expect(try await child.waitForExit() == .signaled(SIGKILL))
            #expect(child.stderr == "")
            // Acknowledgements printed before the kill landed count too: each was printed after its put returned.
            let lines = child.stdoutLines
            #expect(lines.count >= threshold)
            let keys = (0..<lines.count).map { "\(prefix)-\($0)" }
            #expect(lines == keys.map { "ok \($0)" })
            acknowledged += keys

            let store = try await SQLiteKVStore(directory: dir.path)
            #expect(try await store.integrityCheck() == "ok")
            let kv = store.namespace(id: "kill")
            for key in acknowledged {
                try await Self.expectValue(kv, key, Self.value(for: key, count: valueBytes))
            }
            // At most the one put in flight at the kill committed without being acknowledged; it is whole too.
            let written = try await Self.listAllKeys(kv, prefix: "\(prefix)-")
            #expect(written.count == keys.count || written.count == keys.count + 1, "round \(round)")
            let expected = (0..<written.count).map { "\(prefix)-\($0)" }
            #expect(written == Self.byteOrder(expected))
            if written.count > keys.count {
                let extra = "\(prefix)-\(keys.count)"
                try await Self.expectValue(kv, extra, Self.value(for: extra, count: valueBytes))
            }
        }
    }

    // MARK: Concurrent processes

    @Test func fourProcessesWriteDistinctKeys() async throws {
        let dir = try TemporaryDirectory()
        let perWriter = 500
        let valueBytes = 256
        let prefixes = ["w0", "w1", "w2", "w3"]
        let children = try prefixes.map {
            try Self.writer(dir.path, namespace: "shared", prefix: $0, count: perWriter, valueBytes: valueBytes)
        }
        for child in children {
            let termination = try await child.waitForExit()
            #expect(termination == .exited(0), "\(child.command): \(child.stderr)")
            #expect(!child.stderr.contains("database is locked"))
            #expect(child.stderr == "")
            #expect(child.stdoutLines.count == perWriter)
        }

        let store = try await SQLiteKVStore(directory: dir.path)
        #expect(try await store.integrityCheck() == "ok")
        let kv = store.namespace(id: "shared")
        let keys = prefixes.flatMap { p in (0..<perWriter).map { "\(p)-\($0)" } }
        for key in keys {
            try await Self.expectValue(kv, key, Self.value(for: key, count: valueBytes))
        }
        let listed = try await Self.listAllKeys(kv)
        #expect(listed.count == 2000)
        #expect(listed == Self.byteOrder(keys))
        // Four processes racing to create the namespace made exactly one.
        #expect(try await store.listNamespaces() == [KVNamespaceInfo(id: "shared", title: "shared")])
    }

    @Test func fourProcessesWriteTheSameKeys() async throws {
        let dir = try TemporaryDirectory()
        let perWriter = 500
        let valueBytes = 256
        let tags = ["a", "b", "c", "d"]
        let children = try tags.map {
            try Self.writer(
                dir.path, namespace: "shared", prefix: "same", count: perWriter, valueBytes: valueBytes, tag: $0)
        }
        for child in children {
            let termination = try await child.waitForExit()
            #expect(termination == .exited(0), "\(child.command): \(child.stderr)")
            #expect(!child.stderr.contains("database is locked"))
            #expect(child.stderr == "")
            #expect(child.stdoutLines.count == perWriter)
        }

        let store = try await SQLiteKVStore(directory: dir.path)
        #expect(try await store.integrityCheck() == "ok")
        let kv = store.namespace(id: "shared")
        let keys = (0..<perWriter).map { "same-\($0)" }
        var winners: [String: Int] = [:]
        for key in keys {
            // Whole writes only: the stored value is exactly one writer's value, never a mix.
            let bytes = try await kv.getBytes(key)
            let winner = tags.first { bytes == Self.value(for: key, tag: $0, count: valueBytes) }
            #expect(winner != nil, "key \(key) holds no writer's value")
            if let winner { winners[winner, default: 0] += 1 }
        }
        #expect(winners.values.reduce(0, +) == perWriter)
        #expect(try await Self.listAllKeys(kv) == Self.byteOrder(keys))

        // Last writer wins: one more process overwrites every key, and its value is what is read afterwards.
        let last = try Self.writer(
            dir.path, namespace: "shared", prefix: "same", count: perWriter, valueBytes: valueBytes, tag: "last")
        #expect(try await last.waitForExit() == .exited(0), "\(last.stderr)")
        for key in keys {
            try await Self.expectValue(kv, key, Self.value(for: key, tag: "last", count: valueBytes))
        }
    }

    // MARK: Foreign state

    /// A `--persist-to` path that is not EdgeKV state.
    enum ForeignState: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case textFile = "a text file named edgekv.sqlite"
        case foreignSQLite = "another program's SQLite database"
        case foreignSQLiteInWALMode = "another program's SQLite database in WAL mode"
        case edgeKVTableNamesOtherColumns = "a SQLite database with EdgeKV's table names but other columns"
        case persistToRegularFile = "--persist-to naming a regular file"

        var testDescription: String { rawValue }

        /// Makes the foreign file in `dir`; returns the path to give `SQLiteKVStore(directory:)` and the error text
        /// expected for it.
        func make(in dir: TemporaryDirectory) throws -> (persistTo: String, error: String) {
            switch self {
            case .textFile:
                let path = dir.file(SQLiteKVStore.stateFileName)
                try Data("name,email\nalice,alice@example.com\n".utf8).write(to: URL(fileURLWithPath: path))
                return (
                    dir.path, "\(path) is not an EdgeKV state file (it is not a SQLite database); left untouched"
                )
            case .foreignSQLite, .foreignSQLiteInWALMode:
                let path = dir.file(SQLiteKVStore.stateFileName)
                try Self.makeUsersDatabase(path, wal: self == .foreignSQLiteInWALMode)
                return (
                    dir.path,
                    "\(path) is a SQLite database but not an EdgeKV state file (it has tables users); left untouched"
                )
            case .edgeKVTableNamesOtherColumns:
                let path = dir.file(SQLiteKVStore.stateFileName)
                try Self.makeDatabase(
                    path,
                    """
                    CREATE TABLE edgekv_info(name TEXT PRIMARY KEY, value TEXT NOT NULL);
                    INSERT INTO edgekv_info VALUES ('format', 'edgekv-state'), ('schema_version', '1');
                    CREATE TABLE kv_namespaces(ns INTEGER PRIMARY KEY, id TEXT, title TEXT, created_at INTEGER);
                    CREATE TABLE kv_entries(ns INTEGER, key BLOB, value BLOB);
                    """)
                return (
                    dir.path,
                    "\(path) is a SQLite database but not an EdgeKV state file (its table kv_entries has columns "
                        + "ns, key, value, not ns, key, expiration, metadata, value); left untouched"
                )
            case .persistToRegularFile:
                let path = dir.file("state.txt")
                try Data("not a directory\n".utf8).write(to: URL(fileURLWithPath: path))
                return (path, "\(path) is a file, not a directory for local state")
            }
        }

        static func makeUsersDatabase(_ path: String, wal: Bool) throws {
            try makeDatabase(
                path,
                (wal ? "PRAGMA journal_mode = WAL;" : "") + """
                    CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                    INSERT INTO users(name) VALUES ('alice'), ('bob');
                    """)
        }

        static func makeDatabase(_ path: String, _ sql: String) throws {
            try SQLiteConnection(path: path, access: .readWriteCreate).exec(sql)
        }
    }

    @Test(arguments: ForeignState.allCases)
    func refusesStateThatIsNotEdgeKVs(_ state: ForeignState) async throws {
        let dir = try TemporaryDirectory()
        let (persistTo, expected) = try state.make(in: dir)
        let before = try dir.snapshot()
        #expect(before.count == 1)

        do {
            _ = try await SQLiteKVStore(directory: persistTo)
            Issue.record("opened \(persistTo) as EdgeKV state")
        } catch let error as SQLiteKVStoreError {
            #expect(error.description == expected)
        }

        // Byte for byte the same files: nothing written, no -wal, -shm or -journal left beside it.
        let after = try dir.snapshot()
        #expect(after.keys.sorted() == before.keys.sorted())
        for (name, bytes) in before {
            #expect(after[name]?.count == bytes.count, "size of \(name)")
            #expect(after[name] == bytes, "contents of \(name)")
        }
    }

    // MARK: Reopen

    @Test func reopenKeepsDataAndNamespaces() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock(seconds: 1_700_000_000)
        let binary: [UInt8] = [0, 1, 2, 0xFF, 0, 0x0A]
        weak var first: SQLiteKVStore?
        let betaID: String
        do {
            let store = try await SQLiteKVStore(directory: dir.path, clock: clock)
            first = store
            let alpha = store.namespace(id: "alpha")
            try await alpha.put("plain", "hello")
            try await alpha.put("bin", bytes: binary)
            try await alpha.put("meta", "v", options: KVPutOptions(expirationTtl: 120, metadata: ["n": 1, "s": "x"]))
            try await alpha.put("gone", "v")
            try await alpha.delete("gone")
            let beta = try await store.createNamespace(title: "Beta")
            betaID = beta.id
            try await store.namespace(id: beta.id).put("k", "in beta")
        }
        // Work on the database thread releases what it captured before the caller resumes: dropping the last
        // reference closes the store at once.
        #expect(first == nil, "the first store is still alive, so the reopen would not be a reopen")

        let store = try await SQLiteKVStore(directory: dir.path, clock: clock)
        #expect(try await store.integrityCheck() == "ok")
        #expect(
            try await store.listNamespaces() == [
                KVNamespaceInfo(id: betaID, title: "Beta"), KVNamespaceInfo(id: "alpha", title: "alpha"),
            ])
        let alpha = store.namespace(id: "alpha")
        #expect(try await alpha.get("plain") == "hello")
        #expect(try await alpha.getBytes("bin") == binary)
        #expect(try await alpha.get("gone") == nil)
        let meta = try await alpha.getWithMetadata("meta")
        #expect(meta == KVValueWithMetadata(value: "v", metadata: ["n": 1, "s": "x"]))
        #expect(
            try await alpha.list().keys == [
                KVListKey(name: "bin"),
                KVListKey(name: "meta", expiration: 1_700_000_120, metadata: ["n": 1, "s": "x"]),
                KVListKey(name: "plain"),
            ])
        #expect(try await store.namespace(id: betaID).get("k") == "in beta")
        // The stored expiry still applies after the reopen.
        clock.advance(seconds: 120)
        #expect(try await alpha.get("meta") == nil)
        #expect(try await alpha.list().keys.map(\.name) == ["bin", "plain"])
    }
}
