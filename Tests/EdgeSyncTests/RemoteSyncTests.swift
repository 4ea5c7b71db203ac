import Edge
import EdgeKV
import EdgeKVCloudflare
import EdgeKVSQLite
import EdgeSync
import Foundation
import Testing

/// local ↔ remote: the sync against the REST API app over a real socket.
@Suite struct RemoteSyncTests {
    static func sample(count: Int, now: Int64) -> [String: KVEntry] {
        var entries: [String: KVEntry] = [:]
        for i in 0..<count {
            let key = String(format: "user/%05d", i)
            switch i % 5 {
            case 0: entries[key] = KVEntry(value: Array("value \(i)".utf8))
            case 1: entries[key] = KVEntry(value: Array("{\"n\":\(i)}".utf8), metadata: ["n": .int(Int64(i))])
            case 2: entries[key] = KVEntry(value: binaryValue + [UInt8(i % 256)])
            case 3: entries[key] = KVEntry(value: Array("ttl \(i)".utf8), expiration: now + 3600)
            default: entries[key] = KVEntry(value: [], metadata: ["empty": true])
            }
        }
        entries["ключ ü/ä"] = KVEntry(value: Array("unicode".utf8), metadata: "text")
        return entries
    }

    @Test func localToRemoteCopiesEverythingAndRerunIsUnchanged() async throws {
        try await SyncServer.with { api in
            let local = try await SQLiteKVStore(inMemoryWithClock: SystemClock()).namespace(id: "SESSIONS")
            let now = SystemClock().nowSeconds()
            let entries = Self.sample(count: 2500, now: now)
            try await seed(local, entries)
            let remote = api.remote()

            let first = try await KVSync(from: local, to: remote).run()
            #expect(first.summary == "added 2501, changed 0, deleted 0, unchanged 0, skipped 0")
            #expect(first.failures.isEmpty)
            #expect(try await contents(api.namespace) == entries)
            // 2501 items fit one bulk write; one listing request per side's page.
            #expect(api.log.filter { $0 == "PUT /bulk" }.count == 1)

            let second = try await KVSync(from: local, to: remote).run()
            #expect(second.summary == "added 0, changed 0, deleted 0, unchanged 2501, skipped 0")
            #expect(api.log.filter { $0 == "PUT /bulk" }.count == 1)
        }
    }

    @Test func remoteToLocalReadsBinaryValuesSingly() async throws {
        try await SyncServer.with { api in
            let now = SystemClock().nowSeconds()
            let entries = Self.sample(count: 250, now: now)
            try await seed(api.namespace, entries)
            let local = try await SQLiteKVStore(inMemoryWithClock: SystemClock()).namespace(id: "SESSIONS")

            let report = try await KVSync(from: api.remote(), to: local).run()
            #expect(report.summary == "added 251, changed 0, deleted 0, unchanged 0, skipped 0")
            #expect(try await contents(local) == entries)
            let log = api.log
            // 251 keys: 3 bulk reads; the 50 binary values come back lossy as text and are read one by one.
            #expect(log.filter { $0 == "POST /bulk/get" }.count == 3)
            #expect(log.filter { $0 == "GET /values" }.count == 50)
        }
    }

    @Test func changesDeletesDryRunAndPrefix() async throws {
        try await SyncServer.with { api in
            let local = try await SQLiteKVStore(inMemoryWithClock: SystemClock()).namespace(id: "SESSIONS")
            let now = SystemClock().nowSeconds()
            var entries = Self.sample(count: 300, now: now)
            try await seed(local, entries)
            let remote = api.remote()
            _ = try await KVSync(from: local, to: remote).run()

            // Source changes: a value, metadata, an expiration; a key removed; the destination gains a stray key.
            entries["user/00000"]?.value = Array("new".utf8)
            entries["user/00001"]?.metadata = ["n": 0]
            entries["user/00003"]?.expiration = now + 7200
            entries["user/00010"] = nil
            try await seed(local, entries.filter { ["user/00000", "user/00001", "user/00003"].contains($0.key) })
            try await local.deleteEntry("user/00010")
            try await seed(
                api.namespace, ["user/zzz": KVEntry(value: Array("stray".utf8)), "other": KVEntry(value: [1])])
            let before = try await contents(api.namespace)

            let dry = try await KVSync(
                from: local, to: remote, configuration: .init(prefix: "user/", dryRun: true, delete: true)
            ).run()
            #expect(dry.summary == "added 0, changed 3, deleted 2, unchanged 296, skipped 0")
            #expect(dry.bytes == 3 + Array("{\"n\":1}".utf8).count + Array("ttl 3".utf8).count)
            #expect(try await contents(api.namespace) == before)

            let withoutDelete = try await KVSync(from: local, to: remote, configuration: .init(prefix: "user/0000"))
                .run()
            #expect(withoutDelete.summary == "added 0, changed 3, deleted 0, unchanged 7, skipped 0")

            let real = try await KVSync(from: local, to: remote, configuration: .init(prefix: "user/", delete: true))
                .run()
            #expect(real.summary == "added 0, changed 0, deleted 2, unchanged 299, skipped 0")
            var expected = entries
            expected["other"] = KVEntry(value: [1])  // outside the prefix: left alone
            #expect(try await contents(api.namespace) == expected)
        }
    }

    @Test func expirationIsAbsoluteAndNearExpiryIsSkipped() async throws {
        try await SyncServer.with { api in
            let clock = ManualClock(seconds: SystemClock().nowSeconds())
            let local = try await SQLiteKVStore(inMemoryWithClock: clock).namespace(id: "SESSIONS")
            let now = clock.nowSeconds()
            try await seed(
                local,
                [
                    "soon": KVEntry(value: [1], expiration: now + 30),
                    "edge": KVEntry(value: [2], expiration: now + 59),
                    "ok": KVEntry(value: [3], expiration: now + 120),
                    "never": KVEntry(value: [4]),
                    "gone": KVEntry(value: [5], expiration: now + 1),
                ])
            clock.advance(seconds: 2)  // "gone" has expired: invisible, not counted
            let report = try await KVSync(from: local, to: api.remote()).run()
            #expect(report.summary == "added 2, changed 0, deleted 0, unchanged 0, skipped 2")
            let copied = try await contents(api.namespace)
            #expect(copied["ok"] == KVEntry(value: [3], expiration: now + 120))  // the same absolute time
            #expect(copied["never"] == KVEntry(value: [4]))
            #expect(copied["soon"] == nil && copied["edge"] == nil)
        }
    }
}
