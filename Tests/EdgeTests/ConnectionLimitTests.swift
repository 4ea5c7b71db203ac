import Edge
import EdgeHTTP
import EdgeKVTestSupport
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// A hostile or careless client cannot hold a connection, a body or a shutdown open: each case below is a real
/// socket against an ``EdgeServer`` with short timeouts.
@Suite("EdgeServer connection limits")
struct ConnectionLimitTests {
    /// Generous timeouts except the one a test is about, so that a loaded machine cannot trip the others.
    static func timeouts(
        idle: Duration = .seconds(60), requestHead: Duration = .seconds(60), body: Duration = .seconds(60),
        shutdown: Duration = .seconds(60)
    ) -> EdgeServer.Timeouts {
        EdgeServer.Timeouts(idle: idle, requestHead: requestHead, body: body, shutdown: shutdown)
    }

    /// Set once a request has reached the handler. A test that needs a request in flight waits for it: a loaded
    /// machine can take far longer than any fixed sleep to get a request head to the handler.
    final class Reached: Sendable {
        private let reached = Mutex(false)

        func mark() { reached.withLock { $0 = true } }

        /// Waits until a request reached the handler; 60 s without one is a hang.
        func wait() async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while !reached.withLock({ $0 }) {
                try #require(ContinuousClock.now < deadline, "no request reached the handler")
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    /// A runtime that echoes the body (read with a 1 KiB limit) and answers GET with a fixed text.
    static let runtime = runtime(reached: Reached())

    static func runtime(reached: Reached) -> EdgeRuntime {
        EdgeRuntime(logger: quietLogger) { request, _ in
            reached.mark()
            return try await handle(request)
        }
    }

    static func handle(_ request: Request) async throws -> Response {
        switch request.method {
        case .get where request.path == "/slow":
            try await Task.sleep(for: .milliseconds(500))
            return .text("slow")
        case .get: return .text("hello")
        default: return .bytes(try await request.bytes(limit: 1024))
        }
    }

    static func withServer<T>(
        _ timeouts: EdgeServer.Timeouts, _ body: (RunningEdgeServer) async throws -> T
    ) async throws -> T {
        try await EdgeKVTestSupport.withServer(runtime, timeouts: timeouts, body)
    }

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleConnectionCloses() async throws {
        // 15 s: a loaded machine has taken more than 5 s between opening `used` and its request reaching the server.
        try await Self.withServer(Self.timeouts(idle: .seconds(15))) { server in
            let idle = try await RawHTTPConnection(port: server.port, timeout: .seconds(60))
            let used = try await RawHTTPConnection(port: server.port, timeout: .seconds(60))
            try await used.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await used.readResponse().text == "hello")
            let start = ContinuousClock.now
            #expect(try await idle.readUntilClosed().isEmpty)
            #expect(try await used.readUntilClosed().isEmpty, "kept alive after a response, then idle")
            // A hang, not the 15 s idle timeout: both connections close at about 15 s, on a loaded machine too.
            #expect(ContinuousClock.now - start < .seconds(90))
        }
    }

    @Test("many sockets sending half a request head are answered 408 and closed")
    func halfHeadsAreClosed() async throws {
        try await Self.withServer(Self.timeouts(requestHead: .seconds(1))) { server in
            var connections: [RawHTTPConnection] = []
            for _ in 0..<50 {
                let c = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
                try await c.send("GET / HTTP/1.1\r\nHost: exam")
                connections.append(c)
            }
            for c in connections {
                let text = String(decoding: try await c.readUntilClosed(), as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 408 "), "got \(text.debugDescription)")
            }
            // The server still answers.
            let ok = try await HTTPTestClient(port: server.port, timeout: .seconds(10)).request("GET", "/")
            #expect(ok.status == 200)
        }
    }

    @Test("a head trickled byte by byte still meets the head deadline")
    func trickledHeadIsClosed() async throws {
        try await Self.withServer(Self.timeouts(requestHead: .milliseconds(600))) { server in
            let c = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
            let start = ContinuousClock.now
            var closedEarly = false
            for byte in Array("GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8) {
                do {
                    try await c.send([byte])
                } catch {
                    closedEarly = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
                if ContinuousClock.now - start > .seconds(3) { break }
            }
            let text = String(decoding: (try? await c.readUntilClosed()) ?? [], as: UTF8.self)
            #expect(closedEarly || text.hasPrefix("HTTP/1.1 408 "), "got \(text.debugDescription)")
        }
    }

    @Test(
        "a stalled body is answered 408 and closed",
        arguments: [
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        ])
    func stalledBody(request: String) async throws {
        try await Self.withServer(Self.timeouts(body: .seconds(1))) { server in
            let c = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
            try await c.send(request)
            let text = String(decoding: try await c.readUntilClosed(), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 408 "), "got \(text.debugDescription)")
        }
    }

    @Test("a Content-Length over the route's limit is refused before the body is read, and the connection closes")
    func earlyContentTooLarge() async throws {
        // Long timeouts: the 413 must come from the declared length, not from a stalled body.
        try await Self.withServer(Self.timeouts()) { server in
            let c = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
            try await c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\nabc")
            let response = try await c.readResponse()
            #expect(response.status == 413)
            #expect(response.header("connection")?.lowercased() == "close")
            // The rest of the body is never waited for: the server closes on its own.
            _ = try await c.readUntilClosed()
        }
    }

    @Test("a body that is sent while the server has already answered does not keep the connection")
    func unreadBodyAfterAnswerCloses() async throws {
        try await Self.withServer(Self.timeouts()) { server in
            let c = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
            // Chunked, so nothing is declared: the route reads past 1 KiB and answers 413 mid-body.
            try await c.send("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            try await c.send("800\r\n" + String(repeating: "a", count: 2048) + "\r\n")
            let response = try await c.readResponse()
            #expect(response.status == 413)
            for _ in 0..<20 { try? await c.send("800\r\n" + String(repeating: "b", count: 2048) + "\r\n") }
            _ = try await c.readUntilClosed()
        }
    }

    @Test("HEAD runs the GET route and sends no body")
    func headAnswersLikeGet() async throws {
        try await Self.withServer(Self.timeouts()) { server in
            let head = try await HTTPTestClient(port: server.port, timeout: .seconds(10)).request("HEAD", "/")
            #expect(head.status == 200)
            #expect(head.header("content-length") == "5")
            #expect(head.body.isEmpty)
        }
    }

    @Test("a graceful shutdown finishes within its grace period even with a stalled upload")
    func shutdownWithStalledClient() async throws {
        let timeouts = Self.timeouts(shutdown: .milliseconds(500))
        let reached = Reached()
        let server = try await EdgeServer(
            runtime: Self.runtime(reached: reached),
            configuration: EdgeServer.Configuration(port: 0, logger: quietLogger, timeouts: timeouts)
        ).start()
        let stalled = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
        try await stalled.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        let idle = try await RawHTTPConnection(port: server.port, timeout: .seconds(10))
        try await idle.send("GET / HTTP")
        try await reached.wait()
        let start = ContinuousClock.now
        try await server.stop()
        let elapsed = ContinuousClock.now - start
        // Bounded, not forever (35 s has been seen on a loaded machine for the 500 ms grace); the 503 below shows the
        // grace period (not the service group's backstop) ended it.
        #expect(elapsed < .seconds(90), "stop took \(elapsed)")
        let text = String(decoding: try await stalled.readUntilClosed(), as: UTF8.self)
        #expect(
            text.hasPrefix("HTTP/1.1 503 "), "the upload is told the server is going away: \(text.debugDescription)")
        _ = try await idle.readUntilClosed()
    }

    @Test("a request in flight at shutdown is answered, and its connection closes without waiting out the grace")
    func shutdownAnswersInFlightRequests() async throws {
        let reached = Reached()
        let server = try await EdgeServer(
            runtime: Self.runtime(reached: reached),
            configuration: EdgeServer.Configuration(
                port: 0, logger: quietLogger, timeouts: Self.timeouts(shutdown: .seconds(180)))
        ).start()
        let connection = try await RawHTTPConnection(port: server.port, timeout: .seconds(90))
        try await connection.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        try await reached.wait()
        let start = ContinuousClock.now
        async let stopped: Void = server.stop()
        let response = try await connection.readResponse()
        try await stopped
        #expect(response.status == 200 && response.text == "slow")
        // A grace far longer than a loaded machine needs (25 s has been seen with the suite on two cores), so waiting
        // it out cannot pass for being slow.
        #expect(ContinuousClock.now - start < .seconds(90), "the 180 s grace was waited out")
        _ = try await connection.readUntilClosed()
    }
}
