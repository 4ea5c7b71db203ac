import EdgeKV
import EdgeKVMiniflare
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSync
import Foundation
import Testing

/// Reading wrangler dev's state: a namespace opened for reading must exist, and reading it changes nothing.
@Suite struct WranglerSourceTests {
    /// Every path under `root`, relative to it, sorted.
    static func tree(_ root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).sorted()
    }

    @Test func aMissingNamespaceIsAnErrorAndCreatesNothing() async throws {
        let tmp = try TemporaryDirectory()
        let state = tmp.file(".wrangler/state")
        for existing in [false, true] {
            if existing {
                // Another namespace's state is there; the one asked for is not.
                let folder = try MiniflareFolder(state: state, namespaceID: "OTHER")
                try folder.put("k", Array("v".utf8))
            }
            let before = Self.tree(tmp.path)
            do {
                _ = try await MiniflareKVNamespace(stateDirectory: state, namespaceID: "NOPE", readOnly: true)
                Issue.record("opened a namespace that does not exist")
            } catch let error as MiniflareStateError {
                #expect(error.message.contains("\"NOPE\""), "\(error)")
                #expect(error.message.contains(state), "\(error)")
            }
            #expect(Self.tree(tmp.path) == before, "reading created files")
        }
    }

    @Test func readingChangesNothingAndWritesAreRefused() async throws {
        let tmp = try TemporaryDirectory()
        let clock = ManualClock(seconds: testEpoch)
        let folder = try MiniflareFolder(state: tmp.file(".wrangler/state"), namespaceID: "SESSIONS")
        try folder.put("live", Array("v".utf8))
        try folder.put("expired", Array("x".utf8), expirationMs: clock.nowMilliseconds() - 1)
        let database = try Data(contentsOf: URL(fileURLWithPath: folder.database))
        let blobs = folder.blobFiles

        let wrangler = try await MiniflareKVNamespace(
            stateDirectory: folder.state, namespaceID: "SESSIONS", clock: clock, readOnly: true)
        #expect(try await wrangler.readEntry("live")?.value == Array("v".utf8))
        #expect(try await wrangler.readEntry("expired") == nil)
        await #expect(throws: MiniflareStateError.self) { try await wrangler.writeEntry("new", KVWrite(value: [1])) }
        await #expect(throws: MiniflareStateError.self) { try await wrangler.deleteEntry("live") }

        // The expired row and its blob are still there: a reader does not tidy up someone else's state.
        #expect(try folder.rows("SELECT key FROM _mf_entries ORDER BY key") == [["expired"], ["live"]])
        #expect(folder.blobFiles == blobs)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.database)) == database)
    }

    @Test func keysWithNULStayDistinct() async throws {
        let tmp = try TemporaryDirectory()
        let wrangler = try await MiniflareKVNamespace(stateDirectory: tmp.file("state"), namespaceID: "NS")
        try await wrangler.writeEntries([
            ("a", KVWrite(value: Array("plain".utf8))), ("a\u{0}b", KVWrite(value: Array("with NUL".utf8))),
        ])
        #expect(try await wrangler.readEntry("a")?.value == Array("plain".utf8))
        #expect(try await wrangler.readEntry("a\u{0}b")?.value == Array("with NUL".utf8))
        #expect(try await wrangler.listEntries(KVListRequest()).keys.map(\.name) == ["a", "a\u{0}b"])
        // A prefix with a NUL is matched whole as well.
        #expect(try await wrangler.listEntries(KVListRequest(prefix: "a\u{0}")).keys.map(\.name) == ["a\u{0}b"])
    }
}
