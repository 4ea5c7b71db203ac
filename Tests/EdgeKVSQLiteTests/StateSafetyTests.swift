import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// State files that are damaged, read-only or missing, and texts with NUL characters: what is refused, what each
/// error names, and that nothing is written where it must not be.
@Suite struct StateSafetyTests {
    static let valueBytes = 200

    /// A state file with `count` keys in namespace "ns", closed and checkpointed, so the main file holds every page.
    static func makeState(in dir: TemporaryDirectory, keys count: Int) async throws -> String {
        do {
            let store = try await SQLiteKVStore(directory: dir.path)
            let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueBytes)
            try await store.namespace(id: "ns").writeEntries(
                (0..<count).map { (String(format: "key-%05d", $0), KVWrite(value: value)) })
        }
        let path = dir.file(SQLiteKVStore.stateFileName)
        try sql(path, "PRAGMA wal_checkpoint(TRUNCATE)")
        return path
    }

    /// Runs SQL on a file through a connection of its own.
    static func sql(_ path: String, _ text: String) throws {
        try SQLiteConnection(path: path, access: .readWriteCreate).exec(text)
    }

    /// Overwrites the middle pages of a state file with zeros: b-tree pages of the entries, which a full listing
    /// reads but an append at the end of the key range need not.
    static func damage(_ path: String) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        let pages = Int(size) / 4096
        try #require(pages > 40, "the file has too few pages to damage its middle")
        try handle.seek(toOffset: UInt64(pages / 2 - 4) * 4096)
        try handle.write(contentsOf: Data(count: 8 * 4096))
    }

    /// Checks that `body` throws a ``SQLiteKVStoreError`` with `code` whose message contains each of `texts`.
    static func expectStoreError(
        _ code: SQLiteKVStoreError.Code, containing texts: [String], sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("no error; expected \(code)", sourceLocation: sourceLocation)
        } catch let error as SQLiteKVStoreError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            for text in texts {
                #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record(
                "\(type(of: error)): \(error); expected a SQLiteKVStoreError \(code)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Damage

    @Test func damageIsReportedWhenTheFileIsOpened() async throws {
        let dir = try TemporaryDirectory()
        let path = try await Self.makeState(in: dir, keys: 3000)
        try Self.damage(path)
        let before = try dir.snapshot()

        await Self.expectStoreError(.corrupt, containing: [path, "is corrupt", "Move it aside"]) {
            _ = try await SQLiteKVStore(directory: dir.path)
        }
        #expect(try dir.snapshot() == before, "the damaged file was changed")
    }

    @Test func damageFoundInUseStopsAllWrites() async throws {
        let dir = try TemporaryDirectory()
        let path = try await Self.makeState(in: dir, keys: 3000)
        try Self.damage(path)
        let damaged = try Data(contentsOf: URL(fileURLWithPath: path))

        // Too large for the check on open (as a big file would be): the damage shows when the listing reaches it.
        let store = try await SQLiteKVStore(
            configuration: .init(location: .file(path), quickCheckMaxBytes: 0))
        let kv = store.namespace(id: "ns")
        await Self.expectStoreError(.corrupt, containing: [path, "is corrupt"]) {
            var cursor: String?
            repeat {
                let page = try await kv.list(cursor: cursor)
                cursor = page.listComplete ? nil : page.cursor
            } while cursor != nil
        }
        // From then on nothing is written, not even a key far from the damaged pages.
        await Self.expectStoreError(.corrupt, containing: [path]) { try await kv.put("zzz-new", "v") }
        await Self.expectStoreError(.corrupt, containing: [path]) { try await kv.delete("key-00000") }
        await Self.expectStoreError(.corrupt, containing: [path]) {
            _ = try await store.createNamespace(title: "another")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == damaged)
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0, "the refused writes reached the WAL")
    }

    @Test func aSoundFilePassesTheCheckOnOpen() async throws {
        let dir = try TemporaryDirectory()
        _ = try await Self.makeState(in: dir, keys: 3000)
        let store = try await SQLiteKVStore(directory: dir.path)
        #expect(try await store.namespace(id: "ns").get("key-01500") == String(repeating: "v", count: Self.valueBytes))
    }

    // MARK: Read-only and missing state

    @Test func readOnlyStateIsReadAndNeverWritten() async throws {
        let dir = try TemporaryDirectory()
        let clock = ManualClock(seconds: 1_700_000_000)
        let path = dir.file(SQLiteKVStore.stateFileName)
        do {
            let store = try await SQLiteKVStore(directory: dir.path, clock: clock)
            try await store.namespace(id: "ns").put("k", "v")
            try await store.namespace(id: "ns").put("short", "v", options: KVPutOptions(expirationTtl: 60))
        }
        let before = try dir.snapshot()

        let store = try await SQLiteKVStore(
            configuration: .init(location: .file(path), clock: clock, readOnly: true))
        #expect(store.isReadOnly)
        let kv = store.namespace(id: "ns")
        #expect(try await kv.get("k") == "v")
        #expect(try await store.listNamespaces().map(\.id) == ["ns"])
        // An expired entry reads as missing, and is not removed from the file.
        clock.advance(seconds: 120)
        #expect(try await kv.get("short") == nil)
        #expect(try await kv.list().keys.map(\.name) == ["k"])

        await Self.expectStoreError(.readOnly, containing: [path, "read-only"]) { try await kv.put("k2", "v") }
        await Self.expectStoreError(.readOnly, containing: [path]) { try await kv.delete("k") }
        await Self.expectStoreError(.readOnly, containing: [path]) { _ = try await store.createNamespace(title: "t") }
        await Self.expectStoreError(.readOnly, containing: [path]) { try await store.deleteNamespace(id: "ns") }
        await Self.expectStoreError(.readOnly, containing: [path]) { _ = try await store.purgeExpired() }
        #expect(try await kv.get("k") == "v")

        let files = try dir.snapshot()
        #expect(files[SQLiteKVStore.stateFileName] == before[SQLiteKVStore.stateFileName])
    }

    @Test func missingStateIsNotCreatedUnlessAsked() async throws {
        let dir = try TemporaryDirectory()
        let folder = dir.file("state")
        await Self.expectStoreError(.missing, containing: [folder]) {
            _ = try await SQLiteKVStore(directory: folder, createIfMissing: false)
        }
        #expect(!FileManager.default.fileExists(atPath: folder))

        let path = dir.file("edgekv.sqlite")
        await Self.expectStoreError(.missing, containing: [path]) {
            _ = try await SQLiteKVStore(configuration: .init(location: .file(path), readOnly: true))
        }
        // An empty file (left by an interrupted first run) is no state either, and stays as it is.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        await Self.expectStoreError(.missing, containing: [path]) {
            _ = try await SQLiteKVStore(configuration: .init(location: .file(path), createIfMissing: false))
        }
        #expect(try dir.snapshot() == [SQLiteKVStore.stateFileName: Data()])
    }

    // MARK: NUL characters

    @Test func textIsBoundWithItsByteLength() throws {
        let connection = try SQLiteConnection(path: ":memory:", access: .readWriteCreate)
        try connection.exec("CREATE TABLE t(x TEXT)")
        for text in ["a\u{0}b", "\u{0}", "", "ключ\u{0}😀"] {
            try connection.withStatement("INSERT INTO t(x) VALUES (?1)") { insert in
                try insert.bind(1, text: text)
                try insert.run()
            }
        }
        let found = try connection.withStatement("SELECT x, length(CAST(x AS BLOB)) FROM t ORDER BY rowid") { select in
            var found: [String] = []
            while try select.step() {
                let text = select.text(0) ?? "<null>"
                #expect(select.int64(1) == Int64(text.utf8.count))
                found.append(text)
            }
            return found
        }
        #expect(found == ["a\u{0}b", "\u{0}", "", "ключ\u{0}😀"])
    }

    @Test func namespaceIDsAndTitlesWithNULAreRefused() async throws {
        let store = try await SQLiteKVStore(inMemoryWithClock: ManualClock(seconds: 1_700_000_000))
        try await store.namespace(id: "abc").put("k", "original")

        for attempt in [
            { try await store.namespace(id: "abc\u{0}junk").put("k", "overwritten") },
            { try await store.namespace(id: "abc\u{0}junk").delete("k") },
            { try await store.deleteNamespace(id: "abc\u{0}junk") },
            { try await store.renameNamespace(id: "abc\u{0}junk", title: "x") },
        ] as [@Sendable () async throws -> Void] {
            do {
                try await attempt()
                Issue.record("an id with a NUL was accepted")
            } catch let error as KVNamespaceError {
                #expect(error.code == 10011 && error.status == 400, "\(error)")
            }
        }
        for attempt in [
            { _ = try await store.createNamespace(title: "abc\u{0}def") },
            { try await store.renameNamespace(id: "abc", title: "abc\u{0}def") },
        ] as [@Sendable () async throws -> Void] {
            do {
                try await attempt()
                Issue.record("a title with a NUL was accepted")
            } catch let error as KVNamespaceError {
                #expect(error.code == 10019 && error.status == 400, "\(error)")
            }
        }
        #expect(try await store.namespace(id: "abc").get("k") == "original")
        #expect(try await store.listNamespaces() == [KVNamespaceInfo(id: "abc", title: "abc")])
    }
}
