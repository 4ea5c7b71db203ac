import EdgeKV
import Foundation
import Testing

/// What a conformance case gets: a fresh, empty namespace and the manual clock it runs on.
public struct KVTestContext: Sendable {
    /// The namespace under test.
    public let kv: any KVNamespace
    /// The clock the namespace decides expiry against; starts at ``KVConformance/startSeconds``.
    public let clock: ManualClock
}

/// Makes a fresh namespace on the given clock.
public typealias KVBackendFactory = @Sendable (ManualClock) async throws -> any KVNamespace

/// One behaviour of the Workers KV contract, runnable against any backend.
public struct KVConformanceCase: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    /// The behaviour, e.g. `list: paginates keys matching prefix`.
    public let name: String
    let body: @Sendable (KVTestContext) async throws -> Void

    /// The name, as the test report shows it.
    public var testDescription: String { name }
    /// The name.
    public var description: String { name }

    /// Runs the case on a fresh namespace from `factory`.
    public func run(on factory: KVBackendFactory) async throws {
        let clock = ManualClock(seconds: KVConformance.startSeconds)
        let kv = try await factory(clock)
        try await body(KVTestContext(kv: kv, clock: clock))
    }
}

/// Checks that `body` throws a ``KVError`` whose text is exactly `text`.
public func expectKVError(
    _ text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected the error \"\(text)\", but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as KVError {
        #expect(error.description == text, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected the KV error \"\(text)\", got \(error)", sourceLocation: sourceLocation)
    }
}

/// The KV conformance suite: every case of Miniflare's KV test list and more, written once against
/// `any KVNamespace`. Each backend's tests run `KVConformance.cases` on their own factory.
public enum KVConformance {
    /// Where the manual clock starts (the value Miniflare's KV tests use, so error texts match theirs).
    public static let startSeconds: Int64 = 1000

    static func c(_ name: String, _ body: @escaping @Sendable (KVTestContext) async throws -> Void) -> KVConformanceCase
    {
        KVConformanceCase(name: name, body: body)
    }

    /// Every case.
    public static let cases: [KVConformanceCase] =
        getCases + bulkCases + putCases + deleteCases + listCases + entryCases

    static let longKey = String(repeating: "x", count: 513)

    static var getCases: [KVConformanceCase] {
        [
            c("get: validates key") { t async throws in
                await expectKVError("Key name cannot be empty.") { _ = try await t.kv.get("") }
                await expectKVError("\".\" is not allowed as a key name.") { _ = try await t.kv.get(".") }
                await expectKVError("\"..\" is not allowed as a key name.") { _ = try await t.kv.get("..") }
                await expectKVError("KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.") {
                    _ = try await t.kv.get(longKey)
                }
                // Multi-byte characters count in bytes: 171 × 3 bytes = 513.
                await expectKVError("KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.") {
                    _ = try await t.kv.get(String(repeating: "€", count: 171))
                }
                #expect(try await t.kv.get(String(repeating: "x", count: 512)) == nil)
                #expect(try await t.kv.get("...") == nil)
            },
            c("get: returns value") { t async throws in
                try await t.kv.put("key", "value")
                #expect(try await t.kv.get("key") == "value")
            },
            c("get: returns ArrayBuffer values") { t async throws in
                let bytes: [UInt8] = [0, 1, 2, 0, 255, 0x0A, 0x0D, 0]
                try await t.kv.put("bin", bytes: bytes)
                #expect(try await t.kv.getBytes("bin") == bytes)
            },
            c("get: returns JSON values") { t async throws in
                struct User: Codable, Equatable { var name: String; var age: Int }
                try await t.kv.put("user", json: User(name: "alice", age: 30))
                #expect(try await t.kv.get("user", as: User.self) == User(name: "alice", age: 30))
                #expect(try await t.kv.get("user", as: JSONValue.self) == ["name": "alice", "age": 30])
                try await t.kv.put("text", "not json")
                await #expect(throws: (any Error).self) { _ = try await t.kv.get("text", as: JSONValue.self) }
            },
            c("get: returns stream values") { t async throws in
                let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                try await t.kv.put("big", bytes: bytes)
                let stream = try #require(try await t.kv.getStream("big", chunkSize: 65_536))
                var collected: [UInt8] = []
                var chunks = 0
                for try await chunk in stream {
                    collected += chunk
                    chunks += 1
                }
                #expect(collected == bytes)
                #expect(chunks == 4)
                #expect(try await t.kv.getStream("missing") == nil)
            },
            c("get: returns null for non-existent keys") { t async throws in
                #expect(try await t.kv.get("missing") == nil)
                #expect(try await t.kv.getBytes("missing") == nil)
                #expect(try await t.kv.getWithMetadata("missing") == nil)
            },
            c("get: returns null for expired keys") { t async throws in
                try await t.kv.put("ttl", "v", options: KVPutOptions(expirationTtl: 60))
                try await t.kv.put("abs", "v", options: KVPutOptions(expiration: 1100))
                #expect(try await t.kv.get("ttl") == "v")
                t.clock.advance(seconds: 59)
                #expect(try await t.kv.get("ttl") == "v")
                t.clock.advance(seconds: 1)  // exactly at expiry: gone
                #expect(try await t.kv.get("ttl") == nil)
                #expect(try await t.kv.get("abs") == "v")
                t.clock.advance(seconds: 40)
                #expect(try await t.kv.get("abs") == nil)
                #expect(try await t.kv.getWithMetadata("abs") == nil)
            },
            c("get: validates but ignores cache ttl") { t async throws in
                try await t.kv.put("key", "value")
                await expectKVError("KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30.") {
                    _ = try await t.kv.get("key", cacheTtl: 10)
                }
                #expect(try await t.kv.get("key", cacheTtl: 30) == "value")
                #expect(try await t.kv.get("key", cacheTtl: 3600) == "value")
            },
            c("getWithMetadata: returns value and metadata") { t async throws in
                try await t.kv.put("a", "1", options: KVPutOptions(metadata: ["owner": "alice", "n": 2]))
                try await t.kv.put("b", "2")
                let a = try #require(try await t.kv.getWithMetadata("a"))
                #expect(a.value == "1")
                #expect(a.metadata == ["owner": "alice", "n": 2])
                let b = try #require(try await t.kv.getWithMetadata("b"))
                #expect(b.value == "2")
                #expect(b.metadata == nil)
                let bytes = try #require(try await t.kv.getBytesWithMetadata("a"))
                #expect(bytes.value == Array("1".utf8))
            },
        ]
    }

    static var bulkCases: [KVConformanceCase] {
        [
            c("bulk get: returns value") { t async throws in
                try await t.kv.put("key1", "value1")
                try await t.kv.put("key2", "value2")
                let result = try await t.kv.get(["key1", "key2", "key3"])
                #expect(result.count == 3)
                #expect(result["key1"] == .some("value1"))
                #expect(result["key2"] == .some("value2"))
                #expect(result["key3"] == .some(nil))
            },
            c("bulk get: check max keys") { t async throws in
                let keys = (0...100).map { "key\($0)" }
                await expectKVError("KV GET_BULK failed: 400 You can request a maximum of 100 keys") {
                    _ = try await t.kv.get(keys)
                }
                let result = try await t.kv.get(Array(keys.prefix(100)))
                #expect(result.count == 100)
            },
            c("bulk get: check minimum keys") { t async throws in
                await expectKVError("KV GET_BULK failed: 400 You must request a minimum of 1 key") {
                    _ = try await t.kv.get([])
                }
            },
            c("bulk get: invalid type") { t async throws in
                // The type comes by name, as in a Worker's `get(keys, "invalid")`; only "text" and "json" read.
                try await t.kv.put("obj", "{\"x\": [1, 2]}", options: KVPutOptions(metadata: ["m": 1]))
                try await t.kv.put("plain", "not json")
                await expectKVError("KV GET_BULK failed: 400 \"invalid\" is not a valid type. Use \"json\" or \"text\"")
                {
                    _ = try await t.kv.getWithMetadata(["obj", "plain"], type: try KVValidation.bulkType("invalid"))
                }
                let text = try await t.kv.getWithMetadata(
                    ["obj", "plain", "missing"], type: KVValidation.bulkType("text"))
                #expect(text["obj"] == .some(KVValueWithMetadata(value: "{\"x\": [1, 2]}", metadata: ["m": 1])))
                #expect(text["plain"] == .some(KVValueWithMetadata(value: "not json", metadata: nil)))
                #expect(text.count == 3 && text["missing"] == .some(nil))
                let json = try await t.kv.getWithMetadata(["obj", "missing"], type: KVValidation.bulkType("json"))
                #expect(json["obj"] == .some(KVValueWithMetadata(value: ["x": [1, 2]], metadata: ["m": 1])))
                #expect(json.count == 2 && json["missing"] == .some(nil))
                await expectKVError(
                    "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value"
                ) { _ = try await t.kv.getWithMetadata(["obj", "plain"], type: KVValidation.bulkType("json")) }
            },
            c("bulk get: request json type") { t async throws in
                try await t.kv.put("a", "{\"x\": [1, 2]}")
                try await t.kv.put("b", "\"str\"")
                let result = try await t.kv.get(["a", "b", "c"], as: JSONValue.self)
                #expect(result["a"] == .some(["x": [1, 2]]))
                #expect(result["b"] == .some("str"))
                #expect(result["c"] == .some(nil))
                try await t.kv.put("bad", "not json")
                await expectKVError(
                    "KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value"
                ) { _ = try await t.kv.get(["a", "bad"], as: JSONValue.self) }
            },
            c("bulk get: check metadata") { t async throws in
                try await t.kv.put("a", "1", options: KVPutOptions(metadata: ["k": "v"]))
                try await t.kv.put("b", "2")
                let result = try await t.kv.getWithMetadata(["a", "b"])
                #expect(result["a"] == .some(KVValueWithMetadata(value: "1", metadata: ["k": "v"])))
                #expect(result["b"] == .some(KVValueWithMetadata(value: "2", metadata: nil)))
            },
            c("bulk get: check metadata with int") { t async throws in
                try await t.kv.put("a", "1", options: KVPutOptions(metadata: 42))
                let result = try await t.kv.getWithMetadata(["a"])
                #expect(result["a"]??.metadata == .int(42))
                #expect(try await t.kv.getWithMetadata("a")?.metadata == .int(42))
            },
            c("bulk get: check metadata as string") { t async throws in
                try await t.kv.put("a", "1", options: KVPutOptions(metadata: "meta"))
                let result = try await t.kv.getWithMetadata(["a"])
                #expect(result["a"]??.metadata == .string("meta"))
            },
            c("bulk get: get with metadata for 404") { t async throws in
                let result = try await t.kv.getWithMetadata(["missing"])
                #expect(result.count == 1)
                #expect(result["missing"] == .some(nil))
            },
            c("bulk get: get over size limit") { t async throws in
                let half = [UInt8](repeating: 0x61, count: 13_200_000)
                try await t.kv.put("a", bytes: half)
                try await t.kv.put("b", bytes: half)
                #expect(try await t.kv.get(["a"])["a"]??.utf8.count == 13_200_000)
                await expectKVError("KV GET_BULK failed: 413 Total size of request exceeds the limit of 25MB") {
                    _ = try await t.kv.get(["a", "b"])
                }
            },
            c("bulk get: check metadata for falsy values") { t async throws in
                try await t.kv.put("zero", "0", options: KVPutOptions(metadata: 0))
                try await t.kv.put("false", "false", options: KVPutOptions(metadata: false))
                try await t.kv.put("empty", "", options: KVPutOptions(metadata: ""))
                let result = try await t.kv.getWithMetadata(["zero", "false", "empty"])
                #expect(result["zero"] == .some(KVValueWithMetadata(value: "0", metadata: 0)))
                #expect(result["false"] == .some(KVValueWithMetadata(value: "false", metadata: false)))
                #expect(result["empty"] == .some(KVValueWithMetadata(value: "", metadata: "")))
            },
            c("bulk get: check metadata for falsy json values") { t async throws in
                try await t.kv.put("zero", "0", options: KVPutOptions(metadata: 0))
                try await t.kv.put("false", "false", options: KVPutOptions(metadata: false))
                try await t.kv.put("empty", "\"\"", options: KVPutOptions(metadata: ""))
                let result = try await t.kv.getWithMetadata(["zero", "false", "empty"], type: .json)
                #expect(result["zero"] == .some(KVValueWithMetadata(value: 0, metadata: 0)))
                #expect(result["false"] == .some(KVValueWithMetadata(value: false, metadata: false)))
                #expect(result["empty"] == .some(KVValueWithMetadata(value: "", metadata: "")))
            },
            c("bulk get: hides expired keys") { t async throws in
                try await t.kv.put("a", "1", options: KVPutOptions(expirationTtl: 60))
                try await t.kv.put("b", "2")
                t.clock.advance(seconds: 60)
                let result = try await t.kv.get(["a", "b"])
                #expect(result["a"] == .some(nil))
                #expect(result["b"] == .some("2"))
            },
        ]
    }

    static var putCases: [KVConformanceCase] {
        [
            c("put: validates key") { t async throws in
                await expectKVError("Key name cannot be empty.") { try await t.kv.put("", "v") }
                await expectKVError("\".\" is not allowed as a key name.") { try await t.kv.put(".", "v") }
                await expectKVError("\"..\" is not allowed as a key name.") { try await t.kv.put("..", "v") }
                await expectKVError("KV PUT failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.") {
                    try await t.kv.put(longKey, "v")
                }
                #expect(try await t.kv.list().keys.isEmpty)
            },
            c("put: puts value") { t async throws in
                try await t.kv.put("key", "value")
                #expect(try await t.kv.get("key") == "value")
                #expect(try await t.kv.list().keys == [KVListKey(name: "key")])
            },
            c("put: puts empty value") { t async throws in
                try await t.kv.put("empty", "")
                #expect(try await t.kv.get("empty") == "")
                #expect(try await t.kv.getBytes("empty") == [])
            },
            c("put: overrides existing keys") { t async throws in
                try await t.kv.put("key", "value1", options: KVPutOptions(expirationTtl: 120, metadata: ["v": 1]))
                try await t.kv.put("key", "value2")
                let e = try #require(try await t.kv.getWithMetadata("key"))
                #expect(e.value == "value2")
                #expect(e.metadata == nil)
                #expect(try await t.kv.list().keys == [KVListKey(name: "key")])
            },
            c("put: keys are case-sensitive") { t async throws in
                try await t.kv.put("key", "lower")
                try await t.kv.put("KEY", "upper")
                #expect(try await t.kv.get("key") == "lower")
                #expect(try await t.kv.get("KEY") == "upper")
            },
            c("put: validates expiration ttl") { t async throws in
                await expectKVError(
                    "KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0."
                ) { try await t.kv.put("key", "v", options: KVPutOptions(expirationTtl: 0)) }
                await expectKVError(
                    "KV PUT failed: 400 Invalid expiration_ttl of -5. Please specify integer greater than 0."
                ) { try await t.kv.put("key", "v", options: KVPutOptions(expirationTtl: -5)) }
                await expectKVError(
                    "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
                ) { try await t.kv.put("key", "v", options: KVPutOptions(expirationTtl: 30)) }
                #expect(try await t.kv.get("key") == nil)
                try await t.kv.put("key", "v", options: KVPutOptions(expirationTtl: 60))
                #expect(try await t.kv.list().keys == [KVListKey(name: "key", expiration: 1060)])
            },
            c("put: validates expiration") { t async throws in
                await expectKVError(
                    "KV PUT failed: 400 Invalid expiration of 1000. Please specify integer greater than the current "
                        + "number of seconds since the UNIX epoch."
                ) { try await t.kv.put("key", "v", options: KVPutOptions(expiration: 1000)) }
                await expectKVError(
                    "KV PUT failed: 400 Invalid expiration of 1030. Expiration times must be at least 60 seconds in "
                        + "the future."
                ) { try await t.kv.put("key", "v", options: KVPutOptions(expiration: 1030)) }
                #expect(try await t.kv.get("key") == nil)
                try await t.kv.put("key", "v", options: KVPutOptions(expiration: 1060))
                #expect(try await t.kv.list().keys == [KVListKey(name: "key", expiration: 1060)])
            },
            c("put: expiration ttl wins over expiration") { t async throws in
                try await t.kv.put("key", "v", options: KVPutOptions(expiration: 5000, expirationTtl: 120))
                #expect(try await t.kv.list().keys == [KVListKey(name: "key", expiration: 1120)])
                // An invalid absolute expiry is not looked at when a TTL is given.
                try await t.kv.put("key2", "v", options: KVPutOptions(expiration: 10, expirationTtl: 60))
                #expect(try await t.kv.get("key2") == "v")
            },
            c("put: validates value size") { t async throws in
                let max = [UInt8](repeating: 0x41, count: KVLimits.maxValueBytes)
                await expectKVError("KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.") {
                    try await t.kv.put("big", bytes: max + [0x41])
                }
                #expect(try await t.kv.get("big") == nil)
                try await t.kv.put("big", bytes: max)
                let read = try #require(try await t.kv.getBytes("big"))
                #expect(read.count == KVLimits.maxValueBytes)
                #expect(read == max)
            },
            c("put: validates metadata size") { t async throws in
                // {"k":"…"} is 8 bytes of punctuation and key plus the string.
                let tooBig: JSONValue = ["k": .string(String(repeating: "a", count: 1017))]
                await expectKVError("KV PUT failed: 413 Metadata length of 1025 exceeds limit of 1024.") {
                    try await t.kv.put("key", "v", options: KVPutOptions(metadata: tooBig))
                }
                #expect(try await t.kv.get("key") == nil)
                let fits: JSONValue = ["k": .string(String(repeating: "a", count: 1016))]
                try await t.kv.put("key", "v", options: KVPutOptions(metadata: fits))
                #expect(try await t.kv.getWithMetadata("key")?.metadata == fits)
            },
            c("put: stores binary values with NUL bytes") { t async throws in
                var bytes = [UInt8](repeating: 0, count: 1024)
                for i in stride(from: 0, to: bytes.count, by: 3) { bytes[i] = UInt8(i % 256) }
                try await t.kv.put("nul", bytes: bytes)
                #expect(try await t.kv.getBytes("nul") == bytes)
                try await t.kv.put("only-nul", bytes: [0])
                #expect(try await t.kv.getBytes("only-nul") == [0])
            },
            c("put: puts stream values") { t async throws in
                let chunks: [[UInt8]] = [Array("hello ".utf8), [], Array("world".utf8)]
                try await t.kv.put(
                    "s",
                    stream: AsyncThrowingStream { c in
                        for chunk in chunks { c.yield(chunk) }
                        c.finish()
                    })
                #expect(try await t.kv.get("s") == "hello world")
                let big = [UInt8](repeating: 1, count: 1_048_576)
                await expectKVError("KV PUT failed: 413 Value length of 27262976 exceeds limit of 26214400.") {
                    try await t.kv.put(
                        "s2",
                        stream: AsyncThrowingStream { c in
                            for _ in 0..<26 { c.yield(big) }
                            c.finish()
                        })
                }
                #expect(try await t.kv.get("s2") == nil)
            },
            c("put: unicode keys") { t async throws in
                let keys = ["ключ", "鍵", "🔑/😀", "e\u{301}", "\u{E9}", "tab\there", "new\nline", "a b", "%2F", "+"]
                for (i, key) in keys.enumerated() { try await t.kv.put(key, "v\(i)") }
                for (i, key) in keys.enumerated() { #expect(try await t.kv.get(key) == "v\(i)") }
                // Canonically equivalent but different bytes: two keys.
                #expect(try await t.kv.get("e\u{301}") != (try await t.kv.get("\u{E9}")))
                let listed = try await t.kv.list().keys.map(\.name)
                #expect(listed == keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
                let longest = String(repeating: "鍵", count: 170) + "ab"  // 512 bytes
                try await t.kv.put(longest, "ok")
                #expect(try await t.kv.get(longest) == "ok")
            },
        ]
    }

    static var deleteCases: [KVConformanceCase] {
        [
            c("delete: validates key") { t async throws in
                await expectKVError("Key name cannot be empty.") { try await t.kv.delete("") }
                await expectKVError("\".\" is not allowed as a key name.") { try await t.kv.delete(".") }
                await expectKVError("\"..\" is not allowed as a key name.") { try await t.kv.delete("..") }
                await expectKVError(
                    "KV DELETE failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512."
                ) {
                    try await t.kv.delete(longKey)
                }
            },
            c("delete: deletes existing keys") { t async throws in
                try await t.kv.put("key", "value")
                try await t.kv.put("other", "value")
                try await t.kv.delete("key")
                #expect(try await t.kv.get("key") == nil)
                #expect(try await t.kv.list().keys.map(\.name) == ["other"])
            },
            c("delete: does nothing for non-existent keys") { t async throws in
                try await t.kv.delete("missing")
                try await t.kv.delete("missing")
                #expect(try await t.kv.list().keys.isEmpty)
            },
        ]
    }

    static func names(_ r: KVListResult) -> [String] { r.keys.map(\.name) }

    static var listCases: [KVConformanceCase] {
        [
            c("list: lists keys in sorted order") { t async throws in
                for k in ["key3", "key1", "key2", "a", "b10", "b2"] { try await t.kv.put(k, "v") }
                let r = try await t.kv.list()
                #expect(names(r) == ["a", "b10", "b2", "key1", "key2", "key3"])
                #expect(r.listComplete)
                #expect(r.cursor == nil)
            },
            c("list: lists keys matching prefix") { t async throws in
                for k in ["section1key1", "section1key2", "section2key1", "section"] { try await t.kv.put(k, "v") }
                #expect(names(try await t.kv.list(prefix: "section1")) == ["section1key1", "section1key2"])
                #expect(names(try await t.kv.list(prefix: "section")).count == 4)
            },
            c("list: prefix is case-sensitive") { t async throws in
                for k in ["key1", "KEY2", "Key3"] { try await t.kv.put(k, "v") }
                #expect(names(try await t.kv.list(prefix: "key")) == ["key1"])
                #expect(names(try await t.kv.list(prefix: "KEY")) == ["KEY2"])
            },
            c("list: prefix permits special characters") { t async throws in
                for k in ["abc", "a%c", "a_c", "a\\c", "a%", "ab", "a\\", "a_"] { try await t.kv.put(k, "v") }
                #expect(names(try await t.kv.list(prefix: "a%")) == ["a%", "a%c"])
                #expect(names(try await t.kv.list(prefix: "a_")) == ["a_", "a_c"])
                #expect(names(try await t.kv.list(prefix: "a\\")) == ["a\\", "a\\c"])
            },
            c("list: lists keys with expiration") { t async throws in
                try await t.kv.put("key1", "v", options: KVPutOptions(expiration: 2000))
                try await t.kv.put("key2", "v", options: KVPutOptions(expirationTtl: 90))
                try await t.kv.put("key3", "v")
                #expect(
                    try await t.kv.list().keys == [
                        KVListKey(name: "key1", expiration: 2000), KVListKey(name: "key2", expiration: 1090),
                        KVListKey(name: "key3"),
                    ])
            },
            c("list: lists keys with metadata") { t async throws in
                try await t.kv.put("key1", "v", options: KVPutOptions(metadata: ["testing": true]))
                try await t.kv.put("key2", "v", options: KVPutOptions(metadata: [1, "two", .null, 3.5]))
                try await t.kv.put("key3", "v")
                #expect(
                    try await t.kv.list().keys == [
                        KVListKey(name: "key1", metadata: ["testing": true]),
                        KVListKey(name: "key2", metadata: [1, "two", .null, 3.5]), KVListKey(name: "key3"),
                    ])
            },
            c("list: lists keys with expiration and metadata") { t async throws in
                try await t.kv.put("key", "v", options: KVPutOptions(expirationTtl: 120, metadata: ["m": 1]))
                #expect(try await t.kv.list().keys == [KVListKey(name: "key", expiration: 1120, metadata: ["m": 1])])
            },
            c("list: returns an empty list with no keys") { t async throws in
                let r = try await t.kv.list()
                #expect(r.keys.isEmpty)
                #expect(r.listComplete)
                #expect(r.cursor == nil)
            },
            c("list: returns an empty list with no matching keys") { t async throws in
                try await t.kv.put("key", "v")
                let r = try await t.kv.list(prefix: "none")
                #expect(r.keys.isEmpty)
                #expect(r.listComplete)
            },
            c("list: paginates keys") { t async throws in
                // Page sizes of 10 and more: the REST API's smallest page is 10 keys.
                let all = (0..<25).map { String(format: "key%02d", $0) }
                for k in all.shuffled() { try await t.kv.put(k, "v") }
                let p1 = try await t.kv.list(limit: 10)
                #expect(names(p1) == Array(all[0..<10]))
                #expect(!p1.listComplete)
                let cursor = try #require(p1.cursor)
                #expect(!cursor.isEmpty)
                let p2 = try await t.kv.list(limit: 10, cursor: cursor)
                #expect(names(p2) == Array(all[10..<20]))
                #expect(!p2.listComplete)
                let p3 = try await t.kv.list(limit: 10, cursor: p2.cursor)
                #expect(names(p3) == Array(all[20..<25]))
                #expect(p3.listComplete)
                #expect(p3.cursor == nil)
            },
            c("list: paginates keys matching prefix") { t async throws in
                let section1 = (0..<12).map { String(format: "section1key%02d", $0) }
                for k in section1 + ["section2key1", "section0", "section"] { try await t.kv.put(k, "v") }
                let p1 = try await t.kv.list(prefix: "section1", limit: 10)
                #expect(names(p1) == Array(section1[0..<10]))
                let p2 = try await t.kv.list(prefix: "section1", limit: 10, cursor: p1.cursor)
                #expect(names(p2) == Array(section1[10..<12]))
                #expect(p2.listComplete)
            },
            c("list: accepts long prefix") { t async throws in
                let prefix = String(repeating: "x", count: 512)
                try await t.kv.put(prefix, "v")
                #expect(names(try await t.kv.list(prefix: prefix)) == [prefix])
                await expectKVError("KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.") {
                    _ = try await t.kv.list(prefix: longKey)
                }
            },
            c("list: paginates with variable limit") { t async throws in
                let all = (0..<45).map { String(format: "key%02d", $0) }
                for k in all { try await t.kv.put(k, "v") }
                let p1 = try await t.kv.list(limit: 10)
                #expect(names(p1) == Array(all[0..<10]))
                let p2 = try await t.kv.list(limit: 30, cursor: p1.cursor)
                #expect(names(p2) == Array(all[10..<40]))
                let p3 = try await t.kv.list(limit: 20, cursor: p2.cursor)
                #expect(names(p3) == Array(all[40..<45]))
                #expect(p3.listComplete)
            },
            c("list: returns keys inserted whilst paginating") { t async throws in
                let odd = (0..<15).map { String(format: "key%02d", $0 * 2 + 1) }  // key01, key03, … key29
                for k in odd { try await t.kv.put(k, "v") }
                let p1 = try await t.kv.list(limit: 10)
                #expect(names(p1) == Array(odd[0..<10]))  // up to key19
                try await t.kv.put("key00", "v")  // behind the cursor: not seen
                try await t.kv.put("key20", "v")  // ahead of it: seen
                let p2 = try await t.kv.list(limit: 10, cursor: p1.cursor)
                #expect(names(p2) == ["key20"] + Array(odd[10..<15]))
                #expect(p2.listComplete)
            },
            c("list: cursor is stable when keys are deleted between pages") { t async throws in
                let all = (0..<30).map { String(format: "k%02d", $0) }
                for k in all { try await t.kv.put(k, "v") }
                let p1 = try await t.kv.list(limit: 10)
                #expect(names(p1) == Array(all[0..<10]))
                try await t.kv.delete("k09")  // the cursor's own key
                try await t.kv.delete("k10")
                try await t.kv.delete("k03")
                let p2 = try await t.kv.list(limit: 10, cursor: p1.cursor)
                #expect(names(p2) == Array(all[11..<21]))
                let p3 = try await t.kv.list(limit: 10, cursor: p2.cursor)
                #expect(names(p3) == Array(all[21..<30]))
                #expect(p3.listComplete)
            },
            c("list: ignores expired keys") { t async throws in
                try await t.kv.put("key1", "v", options: KVPutOptions(expirationTtl: 60))
                try await t.kv.put("key2", "v", options: KVPutOptions(expirationTtl: 120))
                try await t.kv.put("key3", "v")
                t.clock.advance(seconds: 60)
                #expect(names(try await t.kv.list()) == ["key2", "key3"])
                t.clock.advance(seconds: 60)
                #expect(names(try await t.kv.list()) == ["key3"])
            },
            c("list: sorts lexicographically by UTF-8 bytes") { t async throws in
                // ", " (2C 20) sorts after "!" (21); U+FF61 (EF BD A1) before U+1F600 (F0 9F 98 80), the reverse
                // of UTF-16 order.
                for k in [", ", "!", "\u{1F600}", "\u{FF61}", "Z", "a", "é"] { try await t.kv.put(k, "v") }
                #expect(names(try await t.kv.list()) == ["!", ", ", "Z", "a", "é", "\u{FF61}", "\u{1F600}"])
            },
            c("list: validates limit") { t async throws in
                await expectKVError(
                    "KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000."
                ) { _ = try await t.kv.list(limit: 1001) }
                for i in 0..<3 { try await t.kv.put("k\(i)", "v") }
                #expect(try await t.kv.list(limit: 1000).keys.count == 3)
                #expect(try await t.kv.list(limit: 0).keys.count == 3)  // 0 means the default
            },
            c("list: default limit is 1000") { t async throws in
                for i in 0..<1001 { try await t.kv.put(String(format: "k%04d", i), "v") }
                let p1 = try await t.kv.list()
                #expect(p1.keys.count == 1000)
                #expect(!p1.listComplete)
                let p2 = try await t.kv.list(cursor: p1.cursor)
                #expect(names(p2) == ["k1000"])
                var all: [String] = []
                for try await key in t.kv.listAll() { all.append(key.name) }
                #expect(all.count == 1001)
            },
            c("list: rejects a foreign cursor") { t async throws in
                try await t.kv.put("k", "v")
                await expectKVError("KV GET failed: 400 Invalid cursor") {
                    _ = try await t.kv.list(cursor: "%%%not-a-cursor%%%")
                }
            },
        ]
    }
}
