import Edge
import EdgeKV
import EdgeKVSQLite
import EdgeSync
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// Interrupted and faulty syncs: a wrapping Edge handler in front of the REST API app fails bulk requests.
@Suite struct FaultSyncTests {
    static func source(_ count: Int) async throws -> (any KVNamespace, [String: KVEntry]) {
        let local = try await SQLiteKVStore(inMemoryWithClock: SystemClock()).namespace(id: "SESSIONS")
        var entries: [String: KVEntry] = [:]
        for i in 0..<count {
            entries[String(format: "k%04d", i)] = KVEntry(
                value: i % 7 == 0 ? binaryValue : Array("v\(i)".utf8),
                metadata: i % 3 == 0 ? ["i": .int(Int64(i))] : nil)
        }
        try await seed(local, entries)
        return (local, entries)
    }

    static let small = KVSync.Configuration(maxChunkItems: 100, attempts: 3, retryDelay: .milliseconds(10))

    @Test func keysReportedUnsuccessfulAreRetried() async throws {
        // The first two bulk writes land only partly: the server drops five items and lists them as unsuccessful.
        try await SyncServer.with(faults: Self.partialWrites(times: 2, drop: 5)) { api in
            let (local, entries) = try await Self.source(450)
            let report = try await KVSync(from: local, to: api.remote(), configuration: Self.small).run()
            #expect(report.failures.isEmpty)
            #expect(report.summary == "added 450, changed 0, deleted 0, unchanged 0, skipped 0")
            #expect(try await contents(api.namespace) == entries)
            // 5 chunks of ≤100, plus one retry request for each of the two partial ones.
            #expect(api.log.filter { $0 == "PUT /bulk" }.count == 7)
        }
    }

    @Test func interruptedSyncResumesAndConverges() async throws {
        let (local, entries) = try await Self.source(1000)
        // Bulk writes 3 and 4 fail with 500 on every attempt (client and sync retries included), and one key is
        // always reported unsuccessful: the first run ends with failures listed and a partial copy.
        let failing = Mutex(0)
        let broken: FaultRule = { _, request, bytes, store in
            guard request.method == .put, request.path.hasSuffix("/bulk") else { return nil }
            let items = try JSONValue(parsing: bytes).arrayValue ?? []
            let first = items.first?["key"]?.stringValue ?? ""
            if first == "k0300" || first == "k0400" {
                failing.withLock { $0 += 1 }
                return errorAnswer(500, code: 10001, "internal failure (injected)")
            }
            if items.contains(where: { $0["key"]?.stringValue == "k0777" }) {
                let kept = items.filter { $0["key"]?.stringValue != "k0777" }
                return try await Self.forward(kept, request, store, dropped: ["k0777"])
            }
            return nil
        }
        let remoteContents = try await SyncServer.with(faults: broken) { api in
            let report = try await KVSync(from: local, to: api.remote(attempts: 2), configuration: Self.small).run()
            #expect(report.failures.count == 201)
            #expect(report.failures.contains { $0.key == "k0777" && $0.reason.contains("unsuccessful") })
            #expect(report.failures.contains { $0.key == "k0300" && $0.reason.contains("10001") })
            #expect(report.added == 799)
            #expect(failing.withLock { $0 } == 2 * 2 * 3)  // 2 chunks × 2 client attempts × 3 sync attempts
            return try await contents(api.namespace)
        }
        #expect(remoteContents.count == 799)

        // Resume against a healthy server holding what the interrupted run wrote.
        try await SyncServer.with { api in
            try await seed(api.namespace, remoteContents)
            let report = try await KVSync(from: local, to: api.remote(), configuration: Self.small).run()
            #expect(report.failures.isEmpty)
            #expect(report.summary == "added 201, changed 0, deleted 0, unchanged 799, skipped 0")
            #expect(try await contents(api.namespace) == entries)
            let again = try await KVSync(from: local, to: api.remote(), configuration: Self.small).run()
            #expect(again.summary == "added 0, changed 0, deleted 0, unchanged 1000, skipped 0")
        }
    }

    @Test func aRejectedChunkIsSplitToFindTheBadKey() async throws {
        // The server refuses any bulk write containing "k0042" with a 400: only that key fails.
        let rejecting: FaultRule = { _, request, bytes, _ in
            guard request.method == .put, request.path.hasSuffix("/bulk") else { return nil }
            let items = try JSONValue(parsing: bytes).arrayValue ?? []
            if items.contains(where: { $0["key"]?.stringValue == "k0042" }) {
                return errorAnswer(400, code: 10400, "[0]: Invalid value (injected)")
            }
            return nil
        }
        try await SyncServer.with(faults: rejecting) { api in
            let (local, entries) = try await Self.source(100)
            let report = try await KVSync(from: local, to: api.remote(), configuration: Self.small).run()
            #expect(report.failures.map(\.key) == ["k0042"])
            #expect(report.failures.first?.reason.contains("Invalid value (injected)") == true)
            #expect(report.added == 99)
            var expected = entries
            expected["k0042"] = nil
            #expect(try await contents(api.namespace) == expected)
        }
    }

    /// A rule that, for the first `times` bulk writes, writes all items but the last `drop` and reports those
    /// as unsuccessful.
    static func partialWrites(times: Int, drop: Int) -> FaultRule {
        let count = Mutex(0)
        return { _, request, bytes, store in
            guard request.method == .put, request.path.hasSuffix("/bulk") else { return nil }
            guard
                count.withLock({ n in
                    n += 1
                    return n <= times
                })
            else { return nil }
            var items = try JSONValue(parsing: bytes).arrayValue ?? []
            let dropped = items.suffix(drop).compactMap { $0["key"]?.stringValue }
            items.removeLast(min(drop, items.count))
            return try await forward(items, request, store, dropped: dropped)
        }
    }

    /// Writes `items` straight into the test store's namespace (as the API would) and answers that `dropped`
    /// were unsuccessful.
    static func forward(
        _ items: [JSONValue], _ request: Request, _ store: SQLiteKVStore, dropped: [String]
    ) async throws -> Response {
        let namespaceID =
            request.path.components(separatedBy: "/namespaces/").last?
            .components(separatedBy: "/").first ?? ""
        try await store.namespace(id: namespaceID).writeEntries(
            items.map { item in
                let value = item["value"]?.stringValue ?? ""
                let bytes =
                    item["base64"] == .bool(true) ? Array(Data(base64Encoded: value) ?? Data()) : Array(value.utf8)
                return (
                    item["key"]?.stringValue ?? "",
                    KVWrite(value: bytes, metadata: item["metadata"].flatMap { $0 == .null ? nil : $0 })
                )
            })
        let result: JSONValue = [
            "successful_key_count": .int(Int64(items.count)), "unsuccessful_keys": .array(dropped.map { .string($0) }),
        ]
        let body: JSONValue = ["success": true, "errors": [], "messages": [], "result": result]
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        return Response(status: .ok, headers: fields, body: .text(body.serialized))
    }
}
