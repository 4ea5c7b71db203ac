import EdgeKV
import Foundation
import Testing

extension KVConformance {
    /// `getEntry` and `listAll`: what callers that need a key's whole entry, or every key, use.
    static var entryCases: [KVConformanceCase] {
        [
            c("getEntry: value, metadata and expiration; nil when missing; validates key") { t async throws in
                try await t.kv.put(
                    "k", "v", options: KVPutOptions(expiration: KVConformance.startSeconds + 3600, metadata: ["m": 1]))
                let entry = try #require(try await t.kv.getEntry("k"))
                #expect(entry.value == Array("v".utf8))
                #expect(entry.metadata == ["m": 1])
                #expect(entry.expiration == KVConformance.startSeconds + 3600)
                let bare = try #require(try await t.kv.getEntry("k", metadata: false))
                #expect(bare.value == Array("v".utf8))
                #expect(bare.expiration == KVConformance.startSeconds + 3600)
                #expect(try await t.kv.getEntry("missing") == nil)
                await expectKVError("Key name cannot be empty.") { _ = try await t.kv.getEntry("") }
                await expectKVError("\"..\" is not allowed as a key name.") {
                    _ = try await t.kv.getEntry("..", metadata: false)
                }
            },
            c("listAll: follows cursors to the end, from a page's cursor when given") { t async throws in
                for i in 0..<1002 { try await t.kv.put(String(format: "k%04d", i), "") }
                try await t.kv.put("other", "")
                var all: [String] = []
                for try await key in t.kv.listAll(prefix: "k") { all.append(key.name) }
                #expect(all.count == 1002)
                #expect(all == all.sorted())
                let first = try await t.kv.list(prefix: "k", limit: 1000)
                let cursor = try #require(first.cursor)
                var rest: [String] = []
                for try await key in t.kv.listAll(prefix: "k", cursor: cursor) { rest.append(key.name) }
                #expect(rest == Array(all.dropFirst(1000)))
                #expect(rest == ["k1000", "k1001"])
                await expectKVError("KV GET failed: 400 Invalid cursor") {
                    for try await _ in t.kv.listAll(cursor: "%%%not-a-cursor%%%") {}
                }
            },
        ]
    }
}
