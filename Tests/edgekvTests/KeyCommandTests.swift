import Foundation
import Testing

@Suite("edgekv kv key")
struct KeyCommandTests {
    @Test("put then get prints exactly the value's bytes, no trailing newline")
    func putThenGet() async throws {
        let box = try Sandbox()
        for (key, value) in [
            ("greeting", "hello, world"), ("newline", "line\n"), ("unicode", "héllo 🌍"), ("empty", ""),
        ] {
            try await box.ok("key", "put", key, value, "--namespace-id", "ns")
            let got = try await box.kv("key", "get", key, "--namespace-id", "ns")
            #expect(got.status == 0, "\(got)")
            #expect(got.stdout == Array(value.utf8), "\(got)")
            #expect(got.stderr == "", "\(got)")
        }
    }

    @Test("--path FILE round-trips binary bytes (NUL, 0xFF, every byte) exactly")
    func binaryFromPath() async throws {
        let box = try Sandbox()
        let bytes: [UInt8] =
            [0x00, 0xFF, 0x00, 0x0A, 0x0D, 0xFE, 0x80, 0xC3] + (0...255).map { UInt8($0) } + [0xFF, 0x00]
        let path = try box.file("value.bin", bytes)
        try await box.ok("key", "put", "bin", "--path", path, "--namespace-id", "ns")
        let got = try await box.kv("key", "get", "bin", "--namespace-id", "ns")
        #expect(got.status == 0, "\(got)")
        #expect(got.stdout == bytes)
    }

    @Test("--path - reads the value from stdin, byte-exact")
    func pathDashReadsStdin() async throws {
        let box = try Sandbox()
        let bytes: [UInt8] = [0x00, 0xFF, 0x68, 0x69, 0x00, 0x0A]
        try await box.ok("key", "put", "k", "--path", "-", "--namespace-id", "ns", stdin: bytes)
        let got = try await box.kv("key", "get", "k", "--namespace-id", "ns")
        #expect(got.status == 0, "\(got)")
        #expect(got.stdout == bytes)
    }

    @Test("--path reads a pipe: /dev/stdin when stdin is a pipe, and - from a pipe")
    func pathReadsPipes() async throws {
        let box = try Sandbox()
        let bytes: [UInt8] = [0x00, 0xFF, 0x70, 0x69, 0x70, 0x65]
        for (key, path) in [("dev-stdin", "/dev/stdin"), ("dash", "-")] {
            let put = try await box.run(
                ["kv", "key", "put", key, "--path", path, "--namespace-id", "ns", "--persist-to", box.state],
                stdin: bytes, pipe: true)
            #expect(put.status == 0, "\(put)")
            #expect(try await box.kv("key", "get", key, "--namespace-id", "ns").stdout == bytes)
        }
    }

    @Test("--path naming a missing file or a directory fails, names it, writes nothing")
    func pathUnreadable() async throws {
        let box = try Sandbox()
        for path in [box.scratch + "/missing.bin", box.scratch] {
            let put = try await box.kv("key", "put", "k", "--path", path, "--namespace-id", "ns")
            #expect(put.status != 0, "\(put)")
            #expect(put.stderr.contains(path), "\(put)")
        }
        #expect(try await box.namespaceIDs() == [])
    }

    @Test("VALUE and --path together, or neither, fail with a clear message and write nothing")
    func valueXorPath() async throws {
        let box = try Sandbox()
        let path = try box.file("v.txt", "from file")
        for arguments in [["key", "put", "k", "inline", "--path", path], ["key", "put", "k"]] {
            let result = try await box.run(["kv"] + arguments + ["--namespace-id", "ns", "--persist-to", box.state])
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("VALUE") && result.stderr.contains("--path"), "\(result)")
            #expect(result.stdout.isEmpty, "\(result)")
        }
        #expect(try await box.keyNames("ns") == [])
    }

    @Test("a missing key prints Value not found to stderr, exits 1, prints nothing to stdout")
    func missingKey() async throws {
        let box = try Sandbox()
        // In a namespace that has other keys, and in one that does not exist.
        try await box.ok("key", "put", "other", "x", "--namespace-id", "ns")
        for namespace in ["ns", "never-written"] {
            let got = try await box.kv("key", "get", "absent", "--namespace-id", namespace)
            #expect(got.status == 1, "\(got)")
            #expect(got.stdout.isEmpty, "\(got)")
            #expect(got.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == "Value not found", "\(got)")
        }
    }

    struct InvalidPut: Sendable, CustomTestStringConvertible {
        let label: String
        let arguments: [String]
        /// Texts stderr must contain.
        let expected: [String]
        var testDescription: String { label }
    }

    static let invalidPuts: [InvalidPut] = [
        InvalidPut(
            label: "--ttl 30", arguments: ["k", "v", "--ttl", "30"],
            expected: ["KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."]),
        InvalidPut(
            label: "--ttl 0", arguments: ["k", "v", "--ttl", "0"],
            expected: ["KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."]),
        InvalidPut(
            label: "513-byte key", arguments: [String(repeating: "k", count: 513), "v"],
            expected: ["KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."]),
        InvalidPut(
            label: "513-byte key of 2-byte characters",
            arguments: [String(repeating: "é", count: 256) + "x", "v"],
            expected: ["KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."]),
        InvalidPut(
            label: "--metadata not JSON", arguments: ["k", "v", "--metadata", "{\"a\":"],
            expected: ["--metadata", "JSON"]),
        InvalidPut(
            label: "--metadata over 1024 bytes",
            arguments: ["k", "v", "--metadata", "{\"a\":\"" + String(repeating: "x", count: 1100) + "\"}"],
            expected: ["KV PUT failed: 413 Metadata length of 1108 exceeds limit of 1024."]),
        InvalidPut(
            label: "--expiration in the past", arguments: ["k", "v", "--expiration", "1000"],
            expected: [
                "KV PUT failed: 400 Invalid expiration of 1000. Please specify integer greater than the current number of seconds since the UNIX epoch."
            ]),
    ]

    @Test("an invalid put prints the KV error text and writes nothing", arguments: invalidPuts)
    func invalidPut(_ put: InvalidPut) async throws {
        let box = try Sandbox()
        let result = try await box.kv(["key", "put"] + put.arguments + ["--namespace-id", "ns"])
        #expect(result.status != 0, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        for text in put.expected {
            #expect(result.stderr.contains(text), "\(result)")
        }
        #expect(try await box.keyNames("ns") == [])
        #expect(try await box.namespaceIDs() == [], "a refused write must not create the namespace either")
    }

    @Test("--expiration less than 60 s ahead is refused with the KV text")
    func expirationTooSoon() async throws {
        let box = try Sandbox()
        let expiration = unixNow() + 30
        let result = try await box.kv("key", "put", "k", "v", "--expiration", "\(expiration)", "--namespace-id", "ns")
        #expect(result.status != 0, "\(result)")
        #expect(
            result.stderr.contains(
                "KV PUT failed: 400 Invalid expiration of \(expiration). Expiration times must be at least 60 seconds in the future."
            ), "\(result)")
        #expect(try await box.keyNames("ns") == [])
    }

    @Test("a refused overwrite keeps the old value")
    func refusedOverwriteKeepsOldValue() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "k", "old", "--metadata", "{\"v\":1}", "--namespace-id", "ns")
        let refused = try await box.kv("key", "put", "k", "new", "--ttl", "30", "--namespace-id", "ns")
        #expect(refused.status != 0, "\(refused)")
        let got = try await box.ok("key", "get", "k", "--with-metadata", "--namespace-id", "ns").json()
        #expect(got["value"] == "old")
        #expect(got["metadata"] == ["v": 1])
    }

    @Test("get --with-metadata prints {value, metadata, expiration} as JSON")
    func getWithMetadata() async throws {
        let box = try Sandbox()
        let expiration = unixNow() + 3600
        try await box.ok(
            "key", "put", "k", "v", "--metadata", "{\"a\":1,\"b\":[true,null,\"s\"]}", "--expiration", "\(expiration)",
            "--namespace-id", "ns")
        let got = try await box.ok("key", "get", "k", "--with-metadata", "--namespace-id", "ns").json()
        #expect(
            got == [
                "value": "v", "metadata": ["a": 1, "b": [true, nil, "s"]], "expiration": .number(Double(expiration)),
            ])

        // Without metadata or expiration, those are absent (or null); never invented.
        try await box.ok("key", "put", "plain", "text", "--namespace-id", "ns")
        let plain = try #require(
            try await box.ok("key", "get", "plain", "--with-metadata", "--namespace-id", "ns").json().objectValue)
        #expect(plain["value"] == "text")
        #expect((plain["metadata"] ?? .null) == .null)
        #expect((plain["expiration"] ?? .null) == .null)
        #expect(Set(plain.keys).isSubset(of: ["value", "metadata", "expiration"]), "\(plain)")

        // A value that is not UTF-8 comes back as base64 with "base64": true.
        let path = try box.file("bin", [0x00, 0xFF, 0xFE])
        try await box.ok("key", "put", "bin", "--path", path, "--namespace-id", "ns")
        let binary = try await box.ok("key", "get", "bin", "--with-metadata", "--namespace-id", "ns").json()
        #expect(binary["value"] == "AP/+")
        #expect(binary["base64"] == true)

        let missing = try await box.kv("key", "get", "absent", "--with-metadata", "--namespace-id", "ns")
        #expect(missing.status == 1 && missing.stdout.isEmpty, "\(missing)")
        #expect(missing.stderr.contains("Value not found"), "\(missing)")
    }

    @Test("delete removes a key; deleting a missing key exits 0")
    func delete() async throws {
        let box = try Sandbox()
        try await box.ok("key", "put", "a", "1", "--namespace-id", "ns")
        try await box.ok("key", "put", "b", "2", "--namespace-id", "ns")
        let deleted = try await box.kv("key", "delete", "a", "--namespace-id", "ns")
        #expect(deleted.status == 0, "\(deleted)")
        #expect(try await box.kv("key", "get", "a", "--namespace-id", "ns").status == 1)
        #expect(try await box.keyNames("ns") == ["b"])

        for namespace in ["ns", "no-such-namespace"] {
            let again = try await box.kv("key", "delete", "a", "--namespace-id", namespace)
            #expect(again.status == 0, "\(again)")
        }
        #expect(try await box.keyNames("ns") == ["b"])
    }

    @Test("a key command without --binding or --namespace-id fails and says how to name one")
    func namespaceRequired() async throws {
        let box = try Sandbox()
        let result = try await box.kv("key", "put", "k", "v")
        #expect(result.status != 0, "\(result)")
        #expect(result.stderr.contains("--binding") && result.stderr.contains("--namespace-id"), "\(result)")
        #expect(try await box.namespaceIDs() == [])
    }
}

extension Sandbox {
    /// `edgekv kv ARGS --persist-to STATE` with the arguments as an array.
    func kv(_ arguments: [String], stdin: [UInt8]? = nil) async throws -> CLIResult {
        try await run(["kv"] + arguments + ["--persist-to", state], stdin: stdin)
    }
}
