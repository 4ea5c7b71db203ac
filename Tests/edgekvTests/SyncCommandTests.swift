import EdgeKVTestSupport
import Foundation
import Testing

/// `edgekv sync` between state folders and JSON files, and what it says.
@Suite struct SyncCommandTests {
    static func tree(_ root: String) -> [String] {
        (FileManager.default.subpaths(atPath: root) ?? []).sorted()
    }

    /// `sync ARGS --persist-to STATE`, requiring success.
    @discardableResult
    static func sync(_ box: Sandbox, _ arguments: String...) async throws -> CLIResult {
        let result = try await box.run(["sync"] + arguments + ["--persist-to", box.state])
        guard result.status == 0 else { throw CLIFailure("expected success: \(result)") }
        return result
    }

    // MARK: local:DIR:NS

    @Test("local:DIR:NS names a namespace of another state folder, as source and as destination")
    func localStateFolder() async throws {
        let box = try Sandbox()
        for key in ["a", "b"] { try await box.ok("key", "put", key, "v-\(key)", "--namespace-id", "SRC") }
        let stateB = box.root.file("stateB")

        let out = try await Self.sync(box, "local:SRC", "local:\(stateB):DST")
        #expect(out.stdoutText.contains("added 2,"), "\(out)")
        // Nothing named "stateB:DST" (or anything else new) in the --persist-to state.
        #expect(try await box.namespaceIDs() == ["SRC"])
        let listB = try await box.run(["kv", "key", "list", "--namespace-id", "DST", "--persist-to", stateB])
        #expect(listB.stdoutText.contains("\"a\"") && listB.stdoutText.contains("\"b\""), "\(listB)")

        // And back, reading from the other folder into the --persist-to state.
        try await Self.sync(box, "local:\(stateB):DST", "local:COPY")
        #expect(try await box.keyNames("COPY") == ["a", "b"])
        #expect(try await box.value("b", "--namespace-id", "COPY") == "v-b")
    }

    @Test("a local:DIR:NS source whose folder has no state fails and creates nothing")
    func localStateFolderMissing() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "v", "--namespace-id", "DST")
        let missing = box.root.file("nope")
        let result = try await box.run([
            "sync", "local:\(missing):SRC", "local:DST", "--delete", "--persist-to", box.state,
        ])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("does not exist") && result.stderr.contains(missing), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(try await box.keyNames("DST") == ["k"])
    }

    @Test("a local namespace with a colon is refused with a hint, creating nothing")
    func colonInLocalNamespace() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "v", "--namespace-id", "SRC")
        let before = Self.tree(box.state)
        // An empty DIR, and a binding whose dev namespace id holds a colon.
        try box.workFile("wrangler.toml", "[[kv_namespaces]]\nbinding = \"KV\"\nid = \"stateB:DST\"\n")
        for destination in ["local::DST", "local:KV"] {
            let result = try await box.run(["sync", "local:SRC", destination, "--persist-to", box.state])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("local:DIR:NS"), "\(result)")
        }
        #expect(Self.tree(box.state) == before)
        #expect(try await box.namespaceIDs() == ["SRC"])
    }

    // MARK: file:PATH

    @Test("file:PATH exports text, binary, metadata and expiration, and seeds them back the same")
    func exportAndSeed() async throws {
        let box = try Sandbox()
        let expiration = Int(Date().timeIntervalSince1970) + 3600
        try await box.ok("key", "put", "text", "héllo", "--namespace-id", "SRC", "--metadata", #"{"m":[1,"x"]}"#)
        let binary = try box.file("binary", [0, 0xFF, 0xFE, 0x41])
        try await box.ok("key", "put", "bin", "--path", binary, "--namespace-id", "SRC")
        try await box.ok("key", "put", "exp", "soon", "--namespace-id", "SRC", "--expiration", "\(expiration)")
        let backup = box.root.file("backup.json")

        let export = try await Self.sync(box, "local:SRC", "file:\(backup)")
        #expect(export.stdoutText.contains("added 3,"), "\(export)")
        let items = try JSONDecoder().decode(JSON.self, from: Data(contentsOf: URL(fileURLWithPath: backup)))
        let byKey = Dictionary(
            uniqueKeysWithValues: (items.arrayValue ?? []).map { ($0["key"]?.stringValue ?? "", $0) })
        #expect(items.arrayValue?.compactMap { $0["key"]?.stringValue } == ["bin", "exp", "text"])
        #expect(byKey["text"]?["value"]?.stringValue == "héllo")
        #expect(byKey["text"]?["base64"] == nil)
        #expect(byKey["text"]?["metadata"]?.serialized == #"{"m":[1,"x"]}"#)
        #expect(byKey["bin"]?["value"]?.stringValue == Data([0, 0xFF, 0xFE, 0x41]).base64EncodedString())
        #expect(byKey["bin"]?["base64"] == .bool(true))
        #expect(byKey["exp"]?["expiration"]?.numberValue == Double(expiration))
        #expect(Self.tree(box.root.path).filter { $0.contains("partial") } == [], "a temporary file was left")

        // The file is what `kv bulk put` reads.
        try await box.ok("bulk", "put", backup, "--namespace-id", "BULK")
        #expect(try await box.keyNames("BULK") == ["bin", "exp", "text"])

        let seed = try await Self.sync(box, "file:\(backup)", "local:SEEDED")
        #expect(seed.stdoutText.contains("added 3,"), "\(seed)")
        let again = try await Self.sync(box, "file:\(backup)", "local:SEEDED")
        #expect(again.stdoutText.contains("added 0, changed 0, deleted 0, unchanged 3,"), "\(again)")
        let raw = try await box.ok("key", "get", "bin", "--namespace-id", "SEEDED")
        #expect(raw.stdout == [0, 0xFF, 0xFE, 0x41])
        let meta = try await box.ok("key", "get", "text", "--namespace-id", "SEEDED", "--with-metadata").json()
        #expect(meta["metadata"]?.serialized == #"{"m":[1,"x"]}"#)
        let list = try await box.ok("key", "list", "--namespace-id", "SEEDED", "--prefix", "exp").json()
        #expect(list.arrayValue?.first?["expiration"]?.numberValue == Double(expiration))
    }

    @Test("a file destination that exists is replaced only with --delete, and then holds exactly the source")
    func fileDestinationDelete() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "a", "1", "--namespace-id", "SRC")
        let backup = try box.file("backup.json", #"[{"key":"old","value":"kept?"}]"#)
        let before = try Data(contentsOf: URL(fileURLWithPath: backup))

        let refused = try await box.run(["sync", "local:SRC", "file:\(backup)", "--persist-to", box.state])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("--delete"), "\(refused)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: backup)) == before)

        try await Self.sync(box, "local:SRC", "file:\(backup)", "--delete")
        let items = try JSONDecoder().decode(JSON.self, from: Data(contentsOf: URL(fileURLWithPath: backup)))
        #expect(items.arrayValue?.compactMap { $0["key"]?.stringValue } == ["a"])
        #expect(Self.tree(box.scratch) == ["backup.json"], "a temporary file was left")
    }

    @Test("seeding with --delete removes the destination's keys the file lacks")
    func seedDelete() async throws {
        let box = try Sandbox()
        for key in ["a", "stale"] { try await box.ok("key", "put", key, "old", "--namespace-id", "DST") }
        let seed = try box.file("seed.json", #"[{"key":"a","value":"new"},{"key":"b","value":"2"}]"#)
        let out = try await Self.sync(box, "file:\(seed)", "local:DST", "--delete")
        #expect(out.stdoutText.contains("added 1, changed 1, deleted 1, unchanged 0,"), "\(out)")
        #expect(try await box.keyNames("DST") == ["a", "b"])
        #expect(try await box.value("a", "--namespace-id", "DST") == "new")
    }

    @Test("a file source that is missing or invalid is an error and nothing is written")
    func badFileSource() async throws {
        let box = try Sandbox()
        let missing = box.root.file("missing.json")
        let result = try await box.run(["sync", "file:\(missing)", "local:DST", "--persist-to", box.state])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("does not exist"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: box.state), "state was created")

        try await box.ok("key", "put", "k", "v", "--namespace-id", "DST")
        let bad = try box.file("bad.json", #"[{"key":"a","value":"1"},{"key":"b"}]"#)
        let invalid = try await box.run(["sync", "file:\(bad)", "local:DST", "--persist-to", box.state])
        #expect(invalid.status == 1, "\(invalid)")
        #expect(invalid.stderr.contains("[1]") && invalid.stderr.contains("nothing written"), "\(invalid)")
        let broken = try box.file("broken.json", #"[{"key":"a","value":"1"},"#)
        let truncated = try await box.run(["sync", "file:\(broken)", "local:DST", "--persist-to", box.state])
        #expect(truncated.status == 1, "\(truncated)")
        #expect(try await box.keyNames("DST") == ["k"])
    }

    // MARK: what it says

    @Test("--dry-run says what would happen, --verbose lists keys in key order, a skip reason reads well")
    func wording() async throws {
        let box = try Sandbox()
        for key in ["a", "b", "d", "e"] { try await box.ok("key", "put", key, "v", "--namespace-id", "SRC") }
        try await box.ok("key", "put", "b", "v", "--namespace-id", "DST")
        try await box.ok("key", "put", "d", "other", "--namespace-id", "DST")
        try await box.ok("key", "put", "c", "only here", "--namespace-id", "DST")

        let dry = try await Self.sync(box, "local:SRC", "local:DST", "--delete", "--dry-run")
        #expect(
            dry.stdoutText.hasSuffix(
                "would add 2, would change 1, would delete 1, unchanged 1, skipped 0\n"), "\(dry)")

        let verbose = try await Self.sync(box, "local:SRC", "local:DST", "--delete", "--verbose")
        let lines = verbose.stdoutText.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "added: a", "unchanged: b", "deleted: c", "changed: d", "added: e",
                "added 2, changed 1, deleted 1, unchanged 1, skipped 0",
            ], "\(verbose)")

        let soon = Int(Date().timeIntervalSince1970) + 30
        let seed = try box.file("seed.json", #"[{"key":"s","value":"v","expiration":\#(soon)}]"#)
        let skipped = try await Self.sync(box, "file:\(seed)", "local:DST", "--verbose")
        let line = try #require(skipped.stdoutText.split(separator: "\n").first.map(String.init))
        #expect(line.hasPrefix("skipped: s (expires in "), "\(skipped)")
        #expect(line.hasSuffix(" s; KV needs at least 60 s)"), "\(skipped)")
        #expect(line.filter { $0 == "(" }.count == 1, "\(skipped)")
    }
}
