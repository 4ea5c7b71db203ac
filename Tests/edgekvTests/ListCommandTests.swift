import Foundation
import Testing

@Suite("edgekv kv key list")
struct ListCommandTests {
    /// Byte-wise (UTF-8) order, the order KV lists keys in.
    static func utf8Less(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    @Test("without --limit: one JSON array of every key across pages, in UTF-8 byte order")
    func listAllPages() async throws {
        let box = try Sandbox()
        // 1,500 keys (more than one 1,000-key page), written with one bulk put, plus keys whose UTF-8 order
        // differs from UTF-16 order and from Swift's String order (NFC and NFD spellings of é are distinct keys).
        var keys = (0..<1500).map { String(format: "key-%05d", ($0 * 7919) % 1500) }
        keys += ["\u{FF61}", "😀", "é", "e\u{301}", "Z", "a", "~", "\u{7F}", "\u{80}", "a b", "a%", "a_", "key-"]
        let items: JSON = .array(keys.map { ["key": .string($0), "value": "v"] })
        let file = try box.file("bulk.json", items.serialized)
        try await box.ok("bulk", "put", file, "--namespace-id", "ns")

        let list = try await box.ok("key", "list", "--namespace-id", "ns").json()
        let entries = try #require(list.arrayValue, "\(list)")
        #expect(entries.count == keys.count)
        let names = entries.compactMap { $0["name"]?.stringValue }
        let expected = keys.sorted(by: Self.utf8Less)
        #expect(names.map { Array($0.utf8) } == expected.map { Array($0.utf8) })
        // Keys with neither expiration nor metadata are listed as {"name"} only.
        #expect(entries.allSatisfy { $0.objectValue?.keys.sorted() == ["name"] })
        #expect(names.firstIndex(of: "\u{FF61}")! < names.firstIndex(of: "😀")!)
    }

    @Test("entries carry expiration (absolute seconds) and metadata only when set")
    func entryShape() async throws {
        let box = try Sandbox()
        let expiration = unixNow() + 7200
        let before = unixNow()
        try await box.ok("key", "put", "a-plain", "1", "--namespace-id", "ns")
        try await box.ok("key", "put", "b-ttl", "2", "--ttl", "600", "--namespace-id", "ns")
        try await box.ok("key", "put", "c-exp", "3", "--expiration", "\(expiration)", "--namespace-id", "ns")
        try await box.ok("key", "put", "d-meta", "4", "--metadata", "{\"x\":\"y\",\"n\":[1,2]}", "--namespace-id", "ns")
        try await box.ok(
            "key", "put", "e-both", "5", "--ttl", "120", "--metadata", "{\"z\":null}", "--namespace-id", "ns")
        let after = unixNow()

        let list = try await box.ok("key", "list", "--namespace-id", "ns").json()
        let entries = try #require(list.arrayValue, "\(list)")
        try #require(entries.count == 5, "\(list)")
        #expect(entries[0] == ["name": "a-plain"])
        let ttl = try #require(entries[1].objectValue, "\(list)")
        #expect(ttl.keys.sorted() == ["expiration", "name"] && ttl["name"] == "b-ttl", "\(list)")
        let ttlExpiration = try #require(ttl["expiration"]?.numberValue)
        #expect(
            Double(before + 600)...Double(after + 601) ~= ttlExpiration,
            "expiration must be now + ttl, got \(ttlExpiration)")
        #expect(entries[2] == ["name": "c-exp", "expiration": .number(Double(expiration))])
        #expect(entries[3] == ["name": "d-meta", "metadata": ["x": "y", "n": [1, 2]]])
        let both = try #require(entries[4].objectValue)
        #expect(both.keys.sorted() == ["expiration", "metadata", "name"], "\(list)")
        #expect(both["metadata"] == ["z": nil])
        #expect(Double(before + 120)...Double(after + 121) ~= (both["expiration"]?.numberValue ?? 0), "\(list)")
    }

    @Test("--limit N prints one page {keys, list_complete, cursor}; --cursor continues; the last page has no cursor")
    func pagesWithCursor() async throws {
        let box = try Sandbox()
        let file = try box.file(
            "bulk.json",
            JSON.array(["a0", "k1", "k2", "k3", "k4", "k5", "z9"].map { ["key": .string($0), "value": "v"] }).serialized
        )
        try await box.ok("bulk", "put", file, "--namespace-id", "ns")

        let first = try await box.ok("key", "list", "--prefix", "k", "--limit", "2", "--namespace-id", "ns").json()
        #expect(first.objectValue?.keys.sorted() == ["cursor", "keys", "list_complete"], "\(first)")
        #expect(first["keys"] == [["name": "k1"], ["name": "k2"]])
        #expect(first["list_complete"] == false)
        let cursor1 = try #require(first["cursor"]?.stringValue, "\(first)")
        #expect(!cursor1.isEmpty)

        let second = try await box.ok(
            "key", "list", "--prefix", "k", "--limit", "2", "--cursor", cursor1, "--namespace-id", "ns"
        ).json()
        #expect(second["keys"] == [["name": "k3"], ["name": "k4"]], "\(second)")
        #expect(second["list_complete"] == false)
        let cursor2 = try #require(second["cursor"]?.stringValue, "\(second)")

        let last = try await box.ok(
            "key", "list", "--prefix", "k", "--limit", "2", "--cursor", cursor2, "--namespace-id", "ns"
        ).json()
        #expect(last == ["keys": [["name": "k5"]], "list_complete": true], "the last page has no cursor: \(last)")

        // A cursor without --limit: the rest, as one array.
        let rest = try await box.ok("key", "list", "--prefix", "k", "--cursor", cursor1, "--namespace-id", "ns").json()
        #expect(rest == [["name": "k3"], ["name": "k4"], ["name": "k5"]], "\(rest)")

        // One page holding everything is complete and has no cursor.
        let whole = try await box.ok("key", "list", "--limit", "1000", "--namespace-id", "ns").json()
        #expect(whole["list_complete"] == true && whole["cursor"] == nil, "\(whole)")
        #expect(whole["keys"]?.arrayValue?.count == 7)
    }

    @Test("--prefix is literal: % and _ are not wildcards")
    func literalPrefix() async throws {
        let box = try Sandbox()
        let keys = ["a%b", "a%c", "axb", "a_b", "aXc", "a\\b", "ab", "b%", "A%b"]
        let file = try box.file("bulk.json", JSON.array(keys.map { ["key": .string($0), "value": "v"] }).serialized)
        try await box.ok("bulk", "put", file, "--namespace-id", "ns")
        for (prefix, expected) in [
            ("a%", ["a%b", "a%c"]), ("a_", ["a_b"]), ("a\\", ["a\\b"]), ("%", []), ("_", []),
            ("a", ["a%b", "a%c", "a\\b", "a_b", "ab", "aXc", "axb"].sorted(by: Self.utf8Less)), ("zz", []),
        ] {
            let list = try await box.ok("key", "list", "--prefix", prefix, "--namespace-id", "ns").json()
            #expect(list == .array(expected.map { ["name": .string($0)] }), "prefix \(prefix): \(list)")
        }
    }

    @Test("an empty or unknown namespace lists as []")
    func emptyList() async throws {
        let box = try Sandbox()
        let result = try await box.ok("key", "list", "--namespace-id", "nothing-here")
        #expect(try result.json() == [])
        let page = try await box.ok("key", "list", "--limit", "10", "--namespace-id", "nothing-here").json()
        #expect(page == ["keys": [], "list_complete": true], "\(page)")
    }
}
