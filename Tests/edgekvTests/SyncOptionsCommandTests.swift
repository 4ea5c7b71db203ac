import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import Foundation
import Testing

/// `edgekv sync`'s options through the built binary: --dry-run, --delete, --prefix and --verbose on real local state,
/// bindings resolved through a wrangler config, and keys a remote side (an `edgekv api` child) refuses.
@Suite struct SyncOptionsCommandTests {
    static let token = "sync-command-test-token"

    /// Every file under `directory` with its bytes.
    static func files(_ directory: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for path in FileManager.default.subpaths(atPath: directory) ?? [] {
            var isDirectory: ObjCBool = false
            let full = (directory as NSString).appendingPathComponent(path)
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            result[path] = try Data(contentsOf: URL(fileURLWithPath: full))
        }
        return result
    }

    /// Writes entries straight into a state folder through the emulator's storage, below the binding's checks:
    /// rows the command line would refuse to write (expired ones, over-long keys). The store is closed on return.
    static func writeDirectly(_ state: String, _ namespace: String, _ writes: [(String, KVWrite)]) async throws {
        let store = try await SQLiteKVStore(directory: state)
        try await store.namespace(id: namespace).writeEntries(writes.map { (key: $0.0, write: $0.1) })
    }

    /// `edgekv sync ARGS --persist-to STATE` with the CLOUDFLARE_* variables pointing at a local `edgekv api`.
    static func syncRemote(
        _ box: Sandbox, port: Int, token: String = token, _ arguments: [String]
    ) async throws -> CLIResult {
        let environment = [
            "CLOUDFLARE_API_TOKEN=\(token)", "CLOUDFLARE_ACCOUNT_ID=edgekv-test-account",
            "CLOUDFLARE_API_BASE_URL=http://127.0.0.1:\(port)/client/v4",
        ]
        return try await EdgeKVProcess.run(
            executable: "/usr/bin/env",
            arguments: environment + [try ChildProcess.builtProduct("edgekv"), "sync"] + arguments + [
                "--persist-to", box.state,
            ],
            directory: box.work, stdin: .none, timeout: .seconds(120))
    }

    static func lines(_ result: CLIResult) -> [String] {
        result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    // MARK: --dry-run

    @Test("--dry-run lists and counts what would change and leaves the database file byte for byte")
    func dryRunChangesNothing() async throws {
        let box = try Sandbox()
        for (key, value) in [("a", "v-a"), ("b", "same"), ("d", "new-d"), ("e", "v-e")] {
            try await box.ok("key", "put", key, value, "--namespace-id", "SRC")
        }
        for (key, value) in [("b", "same"), ("c", "only"), ("d", "old-d")] {
            try await box.ok("key", "put", key, value, "--namespace-id", "DST")
        }
        // An expired row in the file: reading may tidy such rows away, which a dry run must not do either.
        try await Self.writeDirectly(
            box.state, "OLD", [("expired", KVWrite(value: Array("x".utf8), expiration: unixNow() - 3600))])
        let before = try Self.files(box.state)
        let fresh = box.root.file("fresh")

        let dry = try await box.run([
            "sync", "local:SRC", "local:DST", "--delete", "--dry-run", "--verbose", "--persist-to", box.state,
        ])
        #expect(dry.status == 0, "\(dry)")
        #expect(
            Self.lines(dry) == [
                "would be added: a", "unchanged: b", "would be deleted: c", "would be changed: d", "would be added: e",
                "would add 2, would change 1, would delete 1, unchanged 1, skipped 0", "",
            ], "\(dry)")
        #expect(dry.stderr.contains("dry run: 11 bytes would be copied; nothing was changed"), "\(dry)")

        let toNew = try await box.run([
            "sync", "local:SRC", "local:\(fresh):NEW", "--dry-run", "--persist-to", box.state,
        ])
        #expect(toNew.stdoutText == "would add 4, would change 0, would delete 0, unchanged 0, skipped 0\n", "\(toNew)")
        #expect(!FileManager.default.fileExists(atPath: fresh), "a dry run created the destination's state")
        // The database is unchanged. A reader that may not write leaves SQLite's WAL index and an empty WAL
        // behind (the next writer removes them); a WAL with frames in it would be a write.
        let after = try Self.files(box.state)
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
        #expect(changed.subtracting(["edgekv.sqlite-shm", "edgekv.sqlite-wal"]) == [], "a dry run changed \(changed)")
        #expect(after["edgekv.sqlite-wal"]?.isEmpty ?? true, "a dry run wrote to the WAL")

        // The same sync for real does what the dry run said.
        let real = try await box.run(["sync", "local:SRC", "local:DST", "--delete", "--persist-to", box.state])
        #expect(real.stdoutText == "added 2, changed 1, deleted 1, unchanged 1, skipped 0\n", "\(real)")
        #expect(try await box.keyNames("DST") == ["a", "b", "d", "e"])
        #expect(try await box.value("d", "--namespace-id", "DST") == "new-d")
    }

    // MARK: --prefix and --delete

    @Test("--prefix limits copying and --delete to the keys under it; --delete alone removes what the source lacks")
    func prefixAndDelete() async throws {
        let box = try Sandbox()
        for (key, value) in [("user:1", "n1"), ("user:2", "n2"), ("admin:1", "a1")] {
            try await box.ok("key", "put", key, value, "--namespace-id", "SRC")
        }
        for (key, value) in [("user:1", "o1"), ("user:9", "o9"), ("admin:9", "a9")] {
            try await box.ok("key", "put", key, value, "--namespace-id", "DST")
        }

        let copy = try await box.run(["sync", "local:SRC", "local:DST", "--prefix", "user:", "--persist-to", box.state])
        #expect(copy.stdoutText == "added 1, changed 1, deleted 0, unchanged 0, skipped 0\n", "\(copy)")
        #expect(try await box.keyNames("DST") == ["admin:9", "user:1", "user:2", "user:9"])
        #expect(try await box.value("user:1", "--namespace-id", "DST") == "n1")

        let prune = try await box.run([
            "sync", "local:SRC", "local:DST", "--prefix", "user:", "--delete", "--verbose", "--persist-to", box.state,
        ])
        #expect(
            Self.lines(prune) == [
                "unchanged: user:1", "unchanged: user:2", "deleted: user:9",
                "added 0, changed 0, deleted 1, unchanged 2, skipped 0", "",
            ], "\(prune)")
        #expect(try await box.keyNames("DST") == ["admin:9", "user:1", "user:2"], "admin:9 is outside the prefix")

        let all = try await box.run([
            "sync", "local:SRC", "local:DST", "--delete", "--verbose", "--persist-to", box.state,
        ])
        #expect(
            Self.lines(all) == [
                "added: admin:1", "deleted: admin:9", "unchanged: user:1", "unchanged: user:2",
                "added 1, changed 0, deleted 1, unchanged 2, skipped 0", "",
            ], "\(all)")
        #expect(try await box.keyNames("DST") == ["admin:1", "user:1", "user:2"])
    }

    // MARK: bindings

    @Test("binding names resolve through the wrangler config: preview_id ?? id locally, id on Workers KV")
    func bindingsThroughTheConfig() async throws {
        let box = try Sandbox()
        try box.workFile(
            "wrangler.toml",
            """
            name = "app"

            [[kv_namespaces]]
            binding = "SESSIONS"
            id = "prod-ns"
            preview_id = "dev-ns"

            [[kv_namespaces]]
            binding = "CACHE"
            id = "cache-id"

            [[kv_namespaces]]
            binding = "NOID"
            preview_id = "noid-dev"

            """)
        for key in ["a", "b"] { try await box.ok("key", "put", key, "v-\(key)", "--namespace-id", "dev-ns") }
        let remote = try Sandbox()
        try await remote.ok("key", "put", "seed", "s", "--namespace-id", "prod-ns")
        let (api, port) = try await startAPIProcess(remote, environment: ["EDGEKV_API_TOKEN=\(Self.token)"])
        defer { api.signal(SIGTERM) }

        let up = try await Self.syncRemote(box, port: port, ["local:SESSIONS", "remote:SESSIONS"])
        #expect(up.status == 0, "\(up)")
        #expect(up.stdoutText == "added 2, changed 0, deleted 0, unchanged 0, skipped 0\n", "\(up)")
        #expect(try await remote.keyNames("prod-ns") == ["a", "b", "seed"])

        let down = try await Self.syncRemote(box, port: port, ["remote:SESSIONS", "local:CACHE"])
        #expect(down.stdoutText == "added 3, changed 0, deleted 0, unchanged 0, skipped 0\n", "\(down)")
        #expect(try await box.keyNames("cache-id") == ["a", "b", "seed"])
        // No namespace was made under a binding's name or its remote id.
        #expect(Set(try await box.namespaceIDs()) == ["dev-ns", "cache-id"])

        let noID = try await Self.syncRemote(box, port: port, ["local:CACHE", "remote:NOID"])
        #expect(noID.status == 1, "\(noID)")
        #expect(noID.stderr.contains("the binding \"NOID\" has no id"), "\(noID)")
        #expect(try await remote.keyNames("prod-ns") == ["a", "b", "seed"])
        #expect(try await remote.namespaceIDs() == ["prod-ns"])

        // --config names another file, whose binding points elsewhere: that one is used.
        let other = try box.file(
            "other.toml", "[[kv_namespaces]]\nbinding = \"SESSIONS\"\nid = \"x\"\npreview_id = \"other-dev\"\n")
        let elsewhere = try await box.run([
            "sync", "local:SESSIONS", "local:COPY", "--config", other, "--persist-to", box.state,
        ])
        #expect(elsewhere.status == 1, "\(elsewhere)")
        #expect(elsewhere.stderr.contains("no namespace \"other-dev\""), "\(elsewhere)")
    }

    // MARK: failures

    @Test("keys the destination refuses are listed on stderr, the others land, and the exit status is 1")
    func refusedKeysExitOne() async throws {
        let box = try Sandbox()
        for key in ["a", "b"] { try await box.ok("key", "put", key, "v-\(key)", "--namespace-id", "SRC") }
        // Longer than KV's 512 bytes: the local storage holds it, Workers KV (here `edgekv api`) refuses it.
        let long = String(repeating: "k", count: 600)
        try await Self.writeDirectly(box.state, "SRC", [(long, KVWrite(value: Array("v-long".utf8)))])
        let remote = try Sandbox()
        try await remote.ok("key", "put", "x", "0", "--namespace-id", "DST")
        let (api, port) = try await startAPIProcess(remote, environment: ["EDGEKV_API_TOKEN=\(Self.token)"])
        defer { api.signal(SIGTERM) }

        let wrongToken = "not-the-sync-token"
        let refused = try await Self.syncRemote(box, port: port, token: wrongToken, ["local:SRC", "remote:DST"])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("Cloudflare API error 10000 (HTTP 403): Authentication error"), "\(refused)")
        #expect(!refused.stderr.contains(wrongToken) && !refused.stdoutText.contains(wrongToken), "\(refused)")
        #expect(try await remote.keyNames("DST") == ["x"])

        let first = try await Self.syncRemote(box, port: port, ["local:SRC", "remote:DST"])
        #expect(first.status == 1, "\(first)")
        #expect(first.stdoutText == "added 2, changed 0, deleted 0, unchanged 0, skipped 0\n", "\(first)")
        let failed = try #require(first.stderr.split(separator: "\n").first { $0.hasPrefix("failed: ") }, "\(first)")
        #expect(failed.hasPrefix("failed: \(long): "), "\(first)")
        #expect(failed.contains("exceeds key length limit of 512"), "\(first)")
        #expect(first.stderr.contains("1 key(s) failed; run the same sync again to retry them"), "\(first)")
        #expect(try await remote.keyNames("DST") == ["a", "b", "x"])
        #expect(try await remote.value("a", "--namespace-id", "DST") == "v-a")

        let again = try await Self.syncRemote(box, port: port, ["local:SRC", "remote:DST", "--verbose"])
        #expect(again.status == 1, "\(again)")
        let lines = Self.lines(again)
        #expect(lines.count == 5, "\(again)")
        #expect(Array(lines.prefix(2)) == ["unchanged: a", "unchanged: b"], "\(again)")
        #expect(lines.dropFirst(2).first?.hasPrefix("failed: \(long) (") == true, "\(again)")
        #expect(lines.suffix(2) == ["added 0, changed 0, deleted 0, unchanged 2, skipped 0", ""], "\(again)")
    }
}
