import Edge
import EdgeHTTP
import EdgeKVTestSupport
import HTTPTypes
import Synchronization
import Testing

/// Large bodies stream both ways without being collected in memory first.
@Suite struct StreamingTests {
    static let size = 20 * 1024 * 1024

    /// What the echo handler saw of the request body.
    final class ChunkStats: Sendable {
        private let stats = Mutex<(count: Int, largest: Int, total: Int)>((0, 0, 0))

        func record(_ chunk: [UInt8]) {
            stats.withLock {
                $0.count += 1
                $0.largest = max($0.largest, chunk.count)
                $0.total += chunk.count
            }
        }

        var snapshot: (count: Int, largest: Int, total: Int) { stats.withLock { $0 } }
    }

    /// Echoes the request body as a stream, chunk by chunk, as it arrives.
    static func echoRuntime(_ stats: ChunkStats) -> EdgeRuntime {
        EdgeRuntime(logger: quietLogger) { request, _ in
            let chunks = request.body.chunks
            let echoed = AsyncThrowingStream<[UInt8], any Error> { continuation in
                let task = Task {
                    do {
                        for try await chunk in chunks {
                            stats.record(chunk)
                            continuation.yield(chunk)
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
            return Response(headers: [.contentType: "application/octet-stream"], body: .stream(echoed))
        }
    }

    @Test(arguments: [nil, 1024 * 1024] as [Int?])
    func largeBodyEchoedOverHTTP(uploadChunkSize: Int?) async throws {
        let payload = pseudoRandomBytes(count: Self.size)
        let stats = ChunkStats()
        let response = try await withServer(Self.echoRuntime(stats)) { server in
            try await HTTPTestClient(port: server.port, timeout: .seconds(120)).request(
                "POST", "/echo", body: payload, chunkSize: uploadChunkSize)
        }
        #expect(response.status == 200)
        #expect(response.body.count == payload.count)
        #expect(response.body == payload, "the echoed body differs from what was sent")
        // Streamed, not buffered: the response has no length up front, and the handler saw many small chunks.
        #expect(response.header("Transfer-Encoding") == "chunked")
        #expect(response.header("Content-Length") == nil)
        let seen = stats.snapshot
        #expect(seen.total == payload.count)
        #expect(seen.count > 10)
        #expect(seen.largest < payload.count / 4)
    }

    @Test func largeBodyEchoedInProcess() async throws {
        let payload = pseudoRandomBytes(count: Self.size)
        let chunkSize = 64 * 1024
        let upload = AsyncStream<[UInt8]> { continuation in
            var start = 0
            while start < payload.count {
                continuation.yield(Array(payload[start..<min(start + chunkSize, payload.count)]))
                start += chunkSize
            }
            continuation.finish()
        }
        let stats = ChunkStats()
        let response = await Self.echoRuntime(stats).handle(Request(method: .post, "/echo", body: .stream(upload)))
        #expect(response.status == .ok)
        #expect(response.body.bufferedBytes == nil)
        var received: [UInt8] = []
        received.reserveCapacity(payload.count)
        for try await chunk in response.body.chunks { received += chunk }
        #expect(received == payload)
        #expect(stats.snapshot.count == payload.count / chunkSize)
    }

    /// A handler that stops reading a large body early still answers at once; the client is not left waiting.
    @Test(.timeLimit(.minutes(3)), arguments: [nil, 256 * 1024] as [Int?])
    func largeBodyRefusedEarlyAnswers413(uploadChunkSize: Int?) async throws {
        let runtime = EdgeRuntime(logger: quietLogger) { request, _ in
            .text("read \(try await request.bytes(limit: 1024).count)")
        }
        try await withServer(runtime) { server in
            let client = HTTPTestClient(port: server.port, timeout: .seconds(10))
            let response = try await client.request(
                "POST", "/", body: pseudoRandomBytes(count: Self.size), chunkSize: uploadChunkSize)
            #expect(response.status == 413)
            #expect(response.text == #"{"error":"request body too large"}"#)
            // The server still serves new connections.
            #expect(try await client.request("POST", "/", body: [1, 2, 3]).text == "read 3")
        }
    }

    @Test func bodyLimitAnswers413() async throws {
        let runtime = EdgeRuntime(logger: quietLogger) { request, _ in
            .text("read \(try await request.bytes(limit: 1024).count)")
        }
        try await withServer(runtime) { server in
            let client = HTTPTestClient(port: server.port)
            let small = try await client.request("POST", "/", body: [UInt8](repeating: 1, count: 1024))
            #expect(small.text == "read 1024")
            let large = try await client.request("POST", "/", body: [UInt8](repeating: 1, count: 1025), chunkSize: 100)
            #expect(large.status == 413)
            #expect(large.text == #"{"error":"request body too large"}"#)
        }
    }
}
