import EdgeKVTestSupport
import Foundation
import Testing

/// Commands that must not create, change or empty state: a sync from a source that does not exist, commands that
/// fail their checks, reads of a folder without state, and state that cannot be written or opened.
@Suite("edgekv state safety")
struct StateSafetyCommandTests {
    /// Every path under `root`, relative to it, sorted; [] when `root` does not exist.
    static func tree(_ root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).sorted()
    }

    // MARK: sync from a source that does not exist

    @Test("sync --delete from a misspelt local namespace fails, names it and leaves the destination as it was")
    func syncFromMissingLocalNamespace() async throws {
        let box = try Sandbox()
        for key in ["a", "b", "c"] { try await box.ok("key", "put", key, "v", "--namespace-id", "DST") }
        try await box.ok("key", "put", "k", "v", "--namespace-id", "SRC")
        let before = Self.tree(box.state)

        for flags in [["--delete"], ["--delete", "--dry-run"], []] {
            let result = try await box.run(["sync", "local:NOPE", "local:DST", "--persist-to", box.state] + flags)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("\"NOPE\"") && result.stderr.contains("does not exist"), "\(result)")
            #expect(!result.stdoutText.contains("deleted"), "\(result)")
        }
        #expect(try await box.keyNames("DST") == ["a", "b", "c"])
        #expect(Self.tree(box.state) == before)
    }

    @Test("sync from local state that does not exist fails and creates nothing, neither state nor destination")
    func syncFromMissingLocalState() async throws {
        let box = try Sandbox()
        let wrangler = box.root.file("wrangler-state")
        let result = try await box.run([
            "sync", "local:NOPE", "wrangler:\(wrangler):NS", "--delete", "--persist-to", box.state,
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("\"NOPE\""), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: box.state), "the source's state was created")
        #expect(!FileManager.default.fileExists(atPath: wrangler), "the destination was created")
    }

    @Test("sync from a wrangler namespace that does not exist fails, names it and creates nothing under DIR")
    func syncFromMissingWranglerNamespace() async throws {
        let box = try Sandbox()
        for key in ["a", "b"] { try await box.ok("key", "put", key, "v", "--namespace-id", "DST") }
        let wrangler = box.root.file("wrangler-state")
        for existing in [false, true] {
            if existing { try FileManager.default.createDirectory(atPath: wrangler, withIntermediateDirectories: true) }
            let result = try await box.run([
                "sync", "wrangler:\(wrangler):NOPE", "local:DST", "--delete", "--persist-to", box.state,
            ])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("\"NOPE\"") && result.stderr.contains(wrangler), "\(result)")
            #expect(!result.stdoutText.contains("deleted"), "\(result)")
            #expect(Self.tree(wrangler) == [], "reading the source created \(Self.tree(wrangler))")
        }
        #expect(try await box.keyNames("DST") == ["a", "b"])
    }

    @Test("sync --dry-run into a folder without state creates nothing")
    func dryRunCreatesNothing() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "v", "--namespace-id", "SRC")
        let wrangler = box.root.file("wrangler-state")
        let result = try await box.run([
            "sync", "local:SRC", "wrangler:\(wrangler):NS", "--dry-run", "--persist-to", box.state,
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText.contains("would add 1,"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: wrangler), "\(Self.tree(wrangler))")
    }

    // MARK: commands that fail their checks

    static let failing: [(String, [String])] = [
        ("put with a TTL under 60", ["key", "put", "k", "v", "--ttl", "30", "--namespace-id", "ns"]),
        (
            "put with an expiration in the past",
            ["key", "put", "k", "v", "--expiration", "1000", "--namespace-id", "ns"]
        ),
        (
            "put with metadata that is not JSON",
            ["key", "put", "k", "v", "--metadata", "{nope", "--namespace-id", "ns"]
        ),
        (
            "put of a key over 512 bytes",
            ["key", "put", String(repeating: "k", count: 513), "v", "--namespace-id", "ns"]
        ),
        ("put of the key ..", ["key", "put", "..", "v", "--namespace-id", "ns"]),
        (
            "put of a file that does not exist",
            ["key", "put", "k", "--path", "/nonexistent/file", "--namespace-id", "ns"]
        ),
        ("bulk put of a file with an invalid item", ["bulk", "put", "BAD_ITEM", "--namespace-id", "ns"]),
        ("bulk put of a file that is not JSON", ["bulk", "put", "NOT_JSON", "--namespace-id", "ns"]),
        ("namespace create with an empty title", ["namespace", "create", ""]),
    ]

    @Test("a command that fails its checks creates no state", arguments: failing.map(\.0))
    func failedCommandCreatesNothing(_ name: String) async throws {
        let box = try Sandbox()
        let badItem = try box.file(
            "bad-item.json", #"[{"key":"a","value":"1"},{"key":"b","value":"2","expiration_ttl":5}]"#)
        let notJSON = try box.file("not-json.json", "key,value\na,1\n")
        let arguments = try #require(Self.failing.first { $0.0 == name }?.1).map {
            $0 == "BAD_ITEM" ? badItem : $0 == "NOT_JSON" ? notJSON : $0
        }
        let result = try await box.run(["kv"] + arguments + ["--persist-to", box.state])
        #expect(result.status != 0, "\(result)")
        #expect(!FileManager.default.fileExists(atPath: box.state), "created \(Self.tree(box.state)): \(result)")
        #expect(Self.tree(box.work) == [])
    }

    // MARK: reads of a folder without state

    @Test("reads (and removals) in a folder without state behave as on empty state and create nothing")
    func readsOfMissingStateCreateNothing() async throws {
        let box = try Sandbox()
        let keys = try box.file("keys.json", #"["a","b"]"#)
        let get = try await box.kv("key", "get", "k", "--namespace-id", "ns")
        #expect(get.status == 1 && get.stderr.contains("Value not found"), "\(get)")
        #expect(try await box.ok("key", "list", "--namespace-id", "ns").json() == [])
        #expect(
            try await box.ok("key", "list", "--limit", "5", "--namespace-id", "ns").json()
                == ["keys": [], "list_complete": true])
        #expect(try await box.ok("bulk", "get", keys, "--namespace-id", "ns").json() == ["a": nil, "b": nil])
        #expect(try await box.ok("namespace", "list").json() == [])
        try await box.ok("key", "delete", "k", "--namespace-id", "ns")
        try await box.ok("bulk", "delete", keys, "--force", "--namespace-id", "ns")
        let rename = try await box.kv("namespace", "rename", "nope", "title")
        #expect(rename.status == 1 && rename.stderr.contains("nope"), "\(rename)")
        let delete = try await box.kv("namespace", "delete", "nope", "--force")
        #expect(delete.status == 1 && delete.stderr.contains("nope"), "\(delete)")
        #expect(!FileManager.default.fileExists(atPath: box.state), "created \(Self.tree(box.state))")
        #expect(Self.tree(box.work) == [])
    }

    // MARK: NUL in a namespace id from the config

    @Test("a config namespace id with a NUL is refused before anything is written")
    func namespaceIDWithNULFromConfig() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "original", "--namespace-id", "abc")
        try box.workFile("wrangler.json", #"{"kv_namespaces": [{"binding": "B", "id": "abc\u0000junk"}]}"#)
        for arguments in [["key", "put", "k", "overwritten"], ["key", "delete", "k"], ["key", "get", "k"]] {
            let result = try await box.run(["kv"] + arguments + ["--binding", "B", "--persist-to", box.state])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("NUL"), "\(result)")
        }
        #expect(try await box.value("k", "--namespace-id", "abc") == "original")
        #expect(try await box.namespaceIDs() == ["abc"])
    }

    // MARK: state that cannot be written or opened

    /// Runs `edgekv ARGS` as an unprivileged user when the tests run as root (for whom permissions do not stop
    /// reads or writes), else as the current user.
    static func runUnprivileged(_ box: Sandbox, _ arguments: [String]) async throws -> CLIResult {
        let edgekv = try ChildProcess.builtProduct("edgekv")
        let (executable, prefix) =
            getuid() == 0
            ? ("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", edgekv]) : (edgekv, [])
        return try await EdgeKVProcess.run(
            executable: executable, arguments: prefix + arguments, directory: box.work, stdin: .none,
            timeout: .seconds(30))
    }

    static let canDropPrivileges = getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")

    @Test(
        "read-only state (file and folder) can be read; a write says it is read-only and names the file",
        .enabled(if: canDropPrivileges))
    func readOnlyState() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "value", "--namespace-id", "ns")
        let file = (box.state as NSString).appendingPathComponent("edgekv.sqlite")
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: box.state)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: box.state) }
        let files = Self.tree(box.state)

        let get = try await Self.runUnprivileged(
            box, ["kv", "key", "get", "k", "--namespace-id", "ns", "--persist-to", box.state])
        #expect(get.status == 0 && get.stdoutText == "value", "\(get)")
        let list = try await Self.runUnprivileged(
            box, ["kv", "key", "list", "--namespace-id", "ns", "--persist-to", box.state])
        #expect(list.status == 0 && (try? list.json()) == [["name": "k"]], "\(list)")
        for write in [["key", "put", "k2", "v"], ["key", "delete", "k"]] {
            let result = try await Self.runUnprivileged(
                box, ["kv"] + write + ["--namespace-id", "ns", "--persist-to", box.state])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(file) && result.stderr.contains("read-only"), "\(result)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == before)
        #expect(Self.tree(box.state) == files)
    }

    @Test("state that cannot be opened is an error naming the file", .enabled(if: canDropPrivileges))
    func unopenableState() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "value", "--namespace-id", "ns")
        let file = (box.state as NSString).appendingPathComponent("edgekv.sqlite")
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: box.state)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: box.state) }
        for command in [["key", "put", "k2", "v"], ["key", "get", "k"], ["key", "list"]] {
            let result = try await Self.runUnprivileged(
                box, ["kv"] + command + ["--namespace-id", "ns", "--persist-to", box.state])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(file), "the error must name the file: \(result)")
            #expect(!result.stderr.contains("Value not found"), "\(result)")
        }
    }
}
