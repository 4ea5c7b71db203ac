import EdgeKV
import EdgeKVCloudflare
import EdgeKVTestSupport
import Foundation
import Testing

/// `deleteEntries` over more keys than one `/bulk/delete` takes, against the local REST API app, where one request
/// is refused for real: it carries a key longer than KV's 512 bytes, so the app rejects the whole request.
@Suite struct BulkDeleteTests {
    static let keys = (0..<25_000).map { String(format: "k%05d", $0) }
    static let tooLong = String(repeating: "x", count: 600)

    /// Seeds the test namespace with ``keys`` straight into the server's state.
    static func seed(_ server: FaultServer) async throws {
        let value = KVWrite(value: Array("v".utf8))
        for start in stride(from: 0, to: keys.count, by: 5_000) {
            try await server.namespace.writeEntries(keys[start..<start + 5_000].map { ($0, value) })
        }
    }

    /// Every key left in the test namespace, straight from the server's state.
    static func remaining(_ server: FaultServer) async throws -> [String] {
        var names: [String] = []
        var cursor: String?
        repeat {
            let page = try await server.namespace.listEntries(KVListRequest(prefix: "", limit: 1000, cursor: cursor))
            names += page.keys.map(\.name)
            cursor = page.listComplete ? nil : page.cursor
        } while cursor != nil
        return names
    }

    @Test func aRefusedChunkReportsItsKeysAndTheLaterOnesWhileEarlierChunksStayDeleted() async throws {
        try await FaultServer.with(Script.none) { server in
            try await Self.seed(server)
            var doomed = Self.keys
            doomed.insert(Self.tooLong, at: 15_000)  // in the second request of 10,000 keys

            let error = try await #require(throws: CloudflareBulkError.self) {
                try await server.remote(server.client()).deleteEntries(doomed)
            }
            #expect(error.unsuccessfulKeys == Array(doomed[10_000...]))
            let cause = try #require(error.underlying as? CloudflareAPIError)
            #expect(cause.status == 400)
            #expect(cause.code == 10400)
            #expect(cause.message.contains("[5000]: UTF-8 encoded length of 600 exceeds key length limit of 512."))
            #expect(error.description.hasPrefix("15001 keys did not land: k10000, k10001,"))
            #expect(error.description.contains("; stopped by: "))
            #expect(!"\(error)".contains(faultToken))

            // The first request landed; the refused one changed nothing and the third was not sent.
            #expect(try await Self.remaining(server) == Array(Self.keys[10_000...]))
            #expect(server.log.all.filter { $0.target.hasSuffix("/bulk/delete") }.count == 2)

            // What was reported can be retried as it is, less the key at fault.
            try await server.remote(server.client()).deleteEntries(error.unsuccessfulKeys.filter { $0 != Self.tooLong })
            #expect(try await Self.remaining(server) == [])
        }
    }

    @Test func aRefusedFirstChunkThrowsTheServicesErrorAndDeletesNothing() async throws {
        try await FaultServer.with(Script.none) { server in
            try await Self.seed(server)
            var doomed = Self.keys
            doomed.insert(Self.tooLong, at: 42)

            let error = try await #require(throws: KVError.self) {
                try await server.remote(server.client()).deleteEntries(doomed)
            }
            #expect(error.status == 400)
            #expect(error.code == 10400)
            #expect(error.message.contains("[42]: UTF-8 encoded length of 600 exceeds key length limit of 512."))
            #expect(try await Self.remaining(server).count == Self.keys.count)
            #expect(server.log.all.filter { $0.target.hasSuffix("/bulk/delete") }.count == 1)
        }
    }
}
