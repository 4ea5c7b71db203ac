import EdgeKVTestSupport
import EdgeSpawn
import Foundation
import Testing

@Suite("edgekv kv bulk")
struct BulkCommandTests {
    @Test("bulk put writes text values, base64 values, expiration_ttl, expiration and metadata")
    func bulkPut() async throws {
        let box = try Sandbox()
        let expiration = unixNow() + 5000
        let before = unixNow()
        let items: JSON = [
            ["key": "text", "value": "hello\n"],
            ["key": "binary", "value": "AP8BAv4=", "base64": true],
            ["key": "literal", "value": "AP8=", "base64": false],
            ["key": "ttl", "value": "t", "expiration_ttl": 600],
            ["key": "expires", "value": "e", "expiration": .number(Double(expiration))],
            ["key": "meta", "value": "m", "metadata": ["v": 1, "tags": ["a", "b"]]],
            ["key": "unicode-ключ", "value": "значение"],
        ]
        let file = try box.file("put.json", items.serialized)
        let put = try await box.kv("bulk", "put", file, "--namespace-id", "ns")
        #expect(put.status == 0, "\(put)")
        let after = unixNow()

        for (key, bytes) in [
            ("text", Array("hello\n".utf8)), ("binary", [0x00, 0xFF, 0x01, 0x02, 0xFE]),
            ("literal", Array("AP8=".utf8)),
            ("ttl", Array("t".utf8)), ("expires", Array("e".utf8)), ("meta", Array("m".utf8)),
            ("unicode-ключ", Array("значение".utf8)),
        ] as [(String, [UInt8])] {
            let got = try await box.kv("key", "get", key, "--namespace-id", "ns")
            #expect(got.status == 0 && got.stdout == bytes, "\(got)")
        }

        let list = try #require(try await box.ok("key", "list", "--namespace-id", "ns").json().arrayValue)
        let byName = Dictionary(list.map { ($0["name"]?.stringValue ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName.count == 7)
        #expect(byName["text"] == ["name": "text"])
        #expect(byName["binary"] == ["name": "binary"])
        #expect(byName["expires"] == ["name": "expires", "expiration": .number(Double(expiration))])
        #expect(byName["meta"] == ["name": "meta", "metadata": ["v": 1, "tags": ["a", "b"]]])
        let ttl = try #require(byName["ttl"]?.objectValue)
        #expect(ttl.keys.sorted() == ["expiration", "name"])
        #expect(Double(before + 600)...Double(after + 601) ~= (ttl["expiration"]?.numberValue ?? 0), "\(ttl)")
    }

    struct BadItem: Sendable, CustomTestStringConvertible {
        let label: String
        let item: JSON
        let index: Int
        /// A text stderr must contain besides the item's index.
        let expected: String?
        var testDescription: String { "\(label) at [\(index)]" }
    }

    static let badItems: [BadItem] = [
        BadItem(label: "empty key", item: ["key": "", "value": "v"], index: 0, expected: nil),
        BadItem(
            label: "513-byte key", item: ["key": .string(String(repeating: "k", count: 513)), "value": "v"], index: 2,
            expected: "513"),
        BadItem(label: "key not a string", item: ["key": 5, "value": "v"], index: 3, expected: nil),
        BadItem(label: "missing key", item: ["value": "v"], index: 1, expected: nil),
        BadItem(label: "non-string value", item: ["key": "bad", "value": 5], index: 2, expected: "value"),
        BadItem(label: "missing value", item: ["key": "bad"], index: 4, expected: "value"),
        BadItem(
            label: "unknown field", item: ["key": "bad", "value": "v", "colour": "red"], index: 2, expected: "colour"),
        BadItem(
            label: "expiration_ttl 30", item: ["key": "bad", "value": "v", "expiration_ttl": 30], index: 4,
            expected: "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."),
        BadItem(
            label: "expiration in the past", item: ["key": "bad", "value": "v", "expiration": 1000], index: 1,
            expected: "Invalid expiration of 1000."),
        BadItem(
            label: "bad base64", item: ["key": "bad", "value": "%%% not base64", "base64": true], index: 2,
            expected: "base64"),
        BadItem(
            label: "metadata over 1024 bytes",
            item: ["key": "bad", "value": "v", "metadata": ["a": .string(String(repeating: "x", count: 1100))]],
            index: 3, expected: "Metadata length of 1108 exceeds limit of 1024."),
        BadItem(label: "item not an object", item: "just a string", index: 0, expected: nil),
    ]

    @Test("one invalid item anywhere: non-zero exit, the item's index named, nothing written", arguments: badItems)
    func invalidItem(_ bad: BadItem) async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "existing", "before", "--namespace-id", "ns")
        var items: [JSON] = (0..<5).map { ["key": .string("good\($0)"), "value": .string("v\($0)")] }
        items.insert(bad.item, at: bad.index)
        let file = try box.file("put.json", JSON.array(items).serialized)
        let result = try await box.kv("bulk", "put", file, "--namespace-id", "ns")
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains("[\(bad.index)]"), "the message must name item [\(bad.index)]: \(result)")
        if let expected = bad.expected { #expect(result.stderr.contains(expected), "\(result)") }
        // Nothing written: only the key from before is there, unchanged.
        #expect(try await box.keyNames("ns") == ["existing"])
        let keys = try box.file("get.json", JSON.array((0..<5).map { .string("good\($0)") } + ["existing"]).serialized)
        let values = try await box.ok("bulk", "get", keys, "--namespace-id", "ns").json()
        #expect(values == ["good0": nil, "good1": nil, "good2": nil, "good3": nil, "good4": nil, "existing": "before"])
    }

    @Test("bulk put of a file that is not a JSON array fails, names the file, writes nothing")
    func notAnArray() async throws {
        let box = try Sandbox()
        for (name, text) in [
            ("broken.json", "[{\"key\": \"a\", \"value\": \"1\"},"),
            ("object.json", "{\"key\": \"a\", \"value\": \"1\"}"),
        ] {
            let file = try box.file(name, text)
            let result = try await box.kv("bulk", "put", file, "--namespace-id", "ns")
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains(name), "\(result)")
        }
        let missing = try await box.kv("bulk", "put", box.scratch + "/does-not-exist.json", "--namespace-id", "ns")
        #expect(missing.status != 0 && missing.stderr.contains("does-not-exist.json"), "\(missing)")
        #expect(try await box.keyNames("ns") == [])
    }

    @Test("bulk put - reads the file from stdin")
    func bulkPutStdin() async throws {
        let box = try Sandbox()
        let items: JSON = [["key": "a", "value": "1"], ["key": "b", "value": "2"]]
        try await box.ok("bulk", "put", "-", "--namespace-id", "ns", stdin: Array(items.serialized.utf8))
        #expect(try await box.keyNames("ns") == ["a", "b"])
    }

    @Test("bulk get prints key → value with null for a missing key, from both file formats")
    func bulkGet() async throws {
        let box = try Sandbox()
        let items: JSON = [["key": "a", "value": "1"], ["key": "b", "value": "two\n"], ["key": "ü", "value": "ö"]]
        try await box.ok("bulk", "put", try box.file("put.json", items.serialized), "--namespace-id", "ns")
        let expected: JSON = ["a": "1", "b": "two\n", "ü": "ö", "missing": nil]
        for (name, keys) in [
            ("strings.json", ["a", "b", "ü", "missing"] as JSON),
            ("names.json", [["name": "a"], ["name": "b"], ["name": "ü"], ["name": "missing"]] as JSON),
        ] {
            let result = try await box.kv("bulk", "get", try box.file(name, keys.serialized), "--namespace-id", "ns")
            #expect(result.status == 0, "\(result)")
            #expect(try result.json() == expected, "\(name): \(result)")
        }
    }

    @Test("bulk get --with-metadata prints key → {value, metadata?}, metadata left out when there is none")
    func bulkGetWithMetadata() async throws {
        let box = try Sandbox()
        let items: JSON = [
            ["key": "a", "value": "1", "metadata": ["m": 1, "s": "x"]],
            ["key": "b", "value": "2"],
        ]
        try await box.ok("bulk", "put", try box.file("put.json", items.serialized), "--namespace-id", "ns")
        let keys = try box.file("keys.json", (["a", "b", "missing"] as JSON).serialized)
        let result = try await box.ok("bulk", "get", keys, "--with-metadata", "--namespace-id", "ns").json()
        #expect(
            result == [
                "a": ["value": "1", "metadata": ["m": 1, "s": "x"]],
                "b": ["value": "2"],
                "missing": nil,
            ], "\(result)")
    }

    @Test("bulk get and delete refuse a malformed key file, naming the item")
    func badKeyFile() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "a", "1", "--namespace-id", "ns")
        let file = try box.file("keys.json", (["a", 5] as JSON).serialized)
        for command in ["get", "delete"] {
            let result = try await box.kv("bulk", command, file, "--namespace-id", "ns")
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("[1]"), "\(result)")
        }
        #expect(try await box.keyNames("ns") == ["a"])
    }

    @Test("bulk delete with stdin not a terminal deletes without prompting, both file formats")
    func bulkDelete() async throws {
        let box = try Sandbox()
        let items: JSON = .array(["a", "b", "c", "d", "e"].map { ["key": .string($0), "value": "v"] })
        try await box.ok("bulk", "put", try box.file("put.json", items.serialized), "--namespace-id", "ns")

        // stdin holds "n": a prompt would read it and refuse.
        let strings = try box.file("strings.json", (["a", "b", "never-existed"] as JSON).serialized)
        let first = try await box.kv("bulk", "delete", strings, "--namespace-id", "ns", stdin: Array("n\n".utf8))
        #expect(first.status == 0, "\(first)")
        #expect(!first.stderr.contains("[y/N]"), "\(first)")
        #expect(try await box.keyNames("ns") == ["c", "d", "e"])

        let names = try box.file("names.json", ([["name": "c"], ["name": "e"]] as JSON).serialized)
        let second = try await box.kv("bulk", "delete", names, "--namespace-id", "ns", stdin: Array("n\n".utf8))
        #expect(second.status == 0, "\(second)")
        #expect(try await box.keyNames("ns") == ["d"])

        let forced = try await box.kv("bulk", "delete", names, "--force", "--namespace-id", "ns")
        #expect(forced.status == 0, "\(forced)")
    }

    // MARK: what it says

    @Test("bulk put and delete count keys, not items, in good English")
    func counts() async throws {
        let box = try Sandbox()
        let repeated: JSON = [["key": "k", "value": "first"], ["key": "k", "value": "second"]]
        let put = try await box.ok(
            "bulk", "put", try box.file("repeated.json", repeated.serialized), "--namespace-id", "ns")
        #expect(put.stderr.hasSuffix("\nWrote 1 key (2 items; later items win for a repeated key)\n"), "\(put)")
        #expect(try await box.value("k", "--namespace-id", "ns") == "second")

        let three: JSON = .array(["a", "b", "c"].map { ["key": .string($0), "value": "v"] })
        let wrote = try await box.ok(
            "bulk", "put", try box.file("three.json", three.serialized), "--namespace-id", "ns")
        #expect(wrote.stderr == "Wrote 3 keys\n", "\(wrote)")

        let four = try box.file("four.json", (["a", "b", "c", "never"] as JSON).serialized)
        let deleted = try await box.ok("bulk", "delete", four, "--namespace-id", "ns")
        #expect(deleted.stderr == "Deleted 3 keys (1 did not exist)\n", "\(deleted)")
        let one = try box.file("one.json", (["k"] as JSON).serialized)
        let single = try await box.ok("bulk", "delete", one, "--namespace-id", "ns")
        #expect(single.stderr == "Deleted 1 key\n", "\(single)")
        #expect(try await box.keyNames("ns") == [])
    }

    @Test("bulk delete on a terminal asks about the keys in good English, and an empty answer deletes nothing")
    func deletePrompt() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "v", "--namespace-id", "ns")
        let file = try box.file("one.json", (["k", "k"] as JSON).serialized)
        // script(1) gives the command a terminal; its stdin ends at once, so the answer is empty.
        let command =
            [try ChildProcess.builtProduct("edgekv"), "kv", "bulk", "delete", file, "--namespace-id", "ns"]
            + ["--persist-to", box.state]
        let child = try ChildProcess(
            "/usr/bin/script", ["-qec", command.map { "'\($0)'" }.joined(separator: " "), "/dev/null"])
        try await child.waitForExit()
        let output = child.stdoutLines.joined(separator: "\n")
        #expect(output.contains("Delete 1 key? [y/N]"), "\(output)")
        #expect(output.contains("Not deleted."), "\(output)")
        #expect(try await box.keyNames("ns") == ["k"])
    }

    @Test("bulk get prints what key get --with-metadata prints, binary values in base64 and never lossy")
    func bulkGetShape() async throws {
        let box = try Sandbox()
        let expiration = unixNow() + 5000
        let items: JSON = [
            ["key": "bin", "value": "AP8A", "base64": true],
            ["key": "meta", "value": "m", "metadata": ["v": 1], "expiration": .number(Double(expiration))],
            ["key": "plain", "value": "p"],
        ]
        try await box.ok("bulk", "put", try box.file("put.json", items.serialized), "--namespace-id", "ns")
        let keys = try box.file("keys.json", (["bin", "meta", "plain"] as JSON).serialized)

        let bulk = try await box.ok("bulk", "get", keys, "--with-metadata", "--namespace-id", "ns").json()
        #expect(bulk["bin"] == ["value": "AP8A", "base64": true], "\(bulk)")
        for key in ["bin", "meta", "plain"] {
            let single = try await box.ok("key", "get", key, "--with-metadata", "--namespace-id", "ns").json()
            #expect(bulk[key] == single, "\(key): bulk \(String(describing: bulk[key])), key get \(single)")
        }

        let text = try await box.kv("bulk", "get", keys, "--namespace-id", "ns")
        #expect(text.status == 1, "\(text)")
        #expect(text.stdout.isEmpty, "\(text)")
        #expect(text.stderr.contains("\"bin\"") && text.stderr.contains("--with-metadata"), "\(text)")
    }

    // MARK: Workers KV (edgekv api as the remote)

    static let token = "bulk-remote-test-token"

    /// `edgekv api` on a free port over the sandbox's state; returns the child and its port.
    static func startAPI(_ box: Sandbox) async throws -> (ChildProcess, Int) {
        try await startAPIProcess(box, environment: ["EDGEKV_API_TOKEN=\(token)"])
    }

    /// `edgekv kv ARGS --remote` against the api on `port`.
    static func remote(_ port: Int, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(
            "/usr/bin/env",
            [
                "CLOUDFLARE_API_BASE_URL=http://127.0.0.1:\(port)/client/v4", "CLOUDFLARE_ACCOUNT_ID=acc",
                "CLOUDFLARE_API_TOKEN=\(token)", try ChildProcess.builtProduct("edgekv"), "kv",
            ] + arguments + ["--remote"],
            // The client retries a vanished API for up to its 60 s deadline; a loaded machine adds to that.
            timeout: .seconds(300))
    }

    static func manyItems(_ count: Int, valueBytes: Int = 1) -> String {
        let value = String(repeating: "v", count: valueBytes)
        return "[" + (0..<count).map { #"{"key":"k\#($0)","value":"\#(value)"}"# }.joined(separator: ",") + "]"
    }

    @Test("bulk put --remote sends 25,000 keys in 3 requests of at most 10,000")
    func remotePutChunks() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "seed", "v", "--namespace-id", "ns")
        let file = try box.file("many.json", Self.manyItems(25_000))
        let (api, port) = try await Self.startAPI(box)
        defer { if api.isRunning { api.signal(SIGKILL) } }
        let put = try Self.remote(port, ["bulk", "put", file, "--namespace-id", "ns"])
        #expect(try await put.waitForExit() == .exited(0), "\(put.stderr)")
        #expect(put.stderr.contains("Wrote 25000 keys"), "\(put.stderr)")
        api.signal(SIGINT)
        _ = try await api.waitForExit()
        let bulkRequests = api.stderr.split(separator: "\n").filter {
            $0.hasSuffix("PUT /client/v4/accounts/acc/storage/kv/namespaces/ns/bulk 200")
        }
        #expect(bulkRequests.count == 3, "\(api.stderr.suffix(1000))")
        #expect(try await box.keyNames("ns").count == 25_001)
    }

    @Test("bulk put --remote that fails part way says how many keys landed for certain")
    func remotePutFailsPartWay() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "seed", "v", "--namespace-id", "ns")
        // 1 KiB values: each request takes long enough that the api is stopped before the last one is answered.
        let file = try box.file("many.json", Self.manyItems(30_000, valueBytes: 1024))
        let (api, port) = try await Self.startAPI(box)
        defer { if api.isRunning { api.signal(SIGKILL) } }
        let put = try Self.remote(port, ["bulk", "put", file, "--namespace-id", "ns"])
        // Stop the api when it has answered the second bulk request (its log line comes as the answer is sent, so the
        // client may or may not get it): the first has certainly landed, the third is never answered.
        while api.stderr.components(separatedBy: "/bulk 200").count < 3 {
            try #require(put.isRunning, "\(put.stderr)")
            try await Task.sleep(for: .milliseconds(1))
        }
        api.signal(SIGSTOP)
        api.signal(SIGKILL)
        _ = try await api.waitForExit()
        #expect(try await put.waitForExit() == .exited(1), "\(put.stderr)")
        let landed = try await box.keyNames("ns").count - 1
        #expect(landed == 20_000, "\(landed)")
        let certain =
            put.stderr.contains("wrote 10000 of 30000 keys for certain; the other 20000 may not have landed")
            || put.stderr.contains("wrote 20000 of 30000 keys for certain; the other 10000 may not have landed")
        #expect(certain, "landed \(landed): \(put.stderr)")
    }
}
