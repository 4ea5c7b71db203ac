import Edge
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// Serves an ``EdgeRuntime`` over HTTP/1.1 with Hummingbird: request and response bodies stream both ways,
/// every request is logged, and a graceful shutdown lets in-flight requests finish and awaits `waitUntil` work.
///
/// Every connection is bounded by ``Timeouts``: an idle keep-alive connection closes, a request head or body that
/// stalls is answered 408 and closed, a response that leaves the body unread (a 413 on a declared
/// `Content-Length`, a 401) closes the connection without reading the rest, and a shutdown waits a bounded time.
/// `HEAD` runs the `GET` route and sends its headers only.
public struct EdgeServer: Sendable {
    /// How long a connection may hold the server's attention without progress.
    public struct Timeouts: Sendable, Hashable {
        /// A keep-alive connection with no request in flight closes after this long (default 30 s).
        public var idle: Duration
        /// From the first byte of a request to the end of its head (default 10 s); past it, 408 and close.
        public var requestHead: Duration
        /// The longest pause while a request body streams in (default 30 s); past it, 408 and close.
        public var body: Duration
        /// On shutdown, how long requests in flight may take before their connections close (default 5 s).
        public var shutdown: Duration

        /// Creates timeouts; the defaults suit a dev server.
        public init(
            idle: Duration = .seconds(30), requestHead: Duration = .seconds(10), body: Duration = .seconds(30),
            shutdown: Duration = .seconds(5)
        ) {
            self.idle = idle
            self.requestHead = requestHead
            self.body = body
            self.shutdown = shutdown
        }
    }

    /// Where and how to listen.
    public struct Configuration: Sendable {
        /// The address to bind (default 127.0.0.1).
        public var host: String
        /// The port (0 picks a free one).
        public var port: Int
        /// The `Server` header, if any.
        public var serverName: String?
        /// The logger for the access log and server events.
        public var logger: Logger
        /// The connection timeouts.
        public var timeouts: Timeouts
        /// The largest request head (request line and headers) accepted, in bytes (default 64 KiB); a larger one is
        /// answered 400 and closed.
        public var maxHeadBytes: Int

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1", port: Int = 8787, serverName: String? = nil,
            logger: Logger = Logger(label: "edgekv.http"), timeouts: Timeouts = Timeouts(),
            maxHeadBytes: Int = 64 * 1024
        ) {
            self.host = host
            self.port = port
            self.serverName = serverName
            self.logger = logger
            self.timeouts = timeouts
            self.maxHeadBytes = maxHeadBytes
        }
    }

    /// The runtime requests go to.
    public let runtime: EdgeRuntime
    /// The configuration.
    public let configuration: Configuration

    /// Creates a server.
    public init(runtime: EdgeRuntime, configuration: Configuration = Configuration()) {
        self.runtime = runtime
        self.configuration = configuration
    }

    func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let timeouts = configuration.timeouts
        let maxHead = configuration.maxHeadBytes
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: maxHead, maxHeaderListSize: maxHead, maxHeaderFieldCount: 500)
        return Application(
            responder: EdgeResponder(runtime: runtime, logger: configuration.logger),
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(responder: responder, timeouts: timeouts, decoder: decoder)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serverName),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: configuration.logger)
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, lets in-flight requests finish and awaits every
    /// `waitUntil` work item.
    /// - Parameter onRunning: called with the bound port once the server listens.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = application(onRunning: onRunning)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: configuration.logger
            )
            .boundedShutdown(configuration.timeouts))
        do {
            try await group.run()
        } catch {
            throw mapStartError(error)
        }
        await runtime.shutdown()
    }

    /// Starts serving in the background and returns once the server listens — for tests: pass port 0 and read
    /// ``RunningEdgeServer/port``.
    public func start() async throws -> RunningEdgeServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = application { port in continuation.yield(port) }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [app], gracefulShutdownSignals: [], logger: configuration.logger
            )
            .boundedShutdown(configuration.timeouts))
        // A server that fails to bind never reports a port: ending the stream lets the wait below end too.
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        let port = await withTaskCancellationHandler {
            await iterator.next()
        } onCancel: {
            task.cancel()
        }
        continuation.finish()
        guard let port, port > 0 else {
            task.cancel()
            do {
                _ = try await task.value
            } catch {
                throw mapStartError(error)
            }
            throw EdgeServerError("the server did not start listening on \(configuration.host):\(configuration.port)")
        }
        return RunningEdgeServer(port: port, host: configuration.host, group: group, task: task, runtime: runtime)
    }
}

extension EdgeServer {
    /// A port another socket holds, as ``EdgeServerError/Code/addressInUse``; any other error as it came.
    func mapStartError(_ error: any Error) -> any Error {
        guard let io = error as? IOError, io.errnoCode == EADDRINUSE else { return error }
        return EdgeServerError(code: .addressInUse, "\(configuration.host):\(configuration.port) is already in use")
    }

    /// Starts the server, runs `body` with it, and stops it gracefully afterwards — also when `body` throws. For
    /// tests: pass port 0 and read ``RunningEdgeServer/port`` or ``RunningEdgeServer/baseURL``.
    public func withRunning<T>(_ body: (RunningEdgeServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }
}

/// A server started with ``EdgeServer/start()``.
public struct RunningEdgeServer: Sendable {
    /// The port it listens on.
    public let port: Int
    /// The host it listens on.
    public let host: String
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let runtime: EdgeRuntime

    /// `http://host:port`.
    public var baseURL: String { "http://\(host):\(port)" }

    /// Shuts down gracefully and awaits `waitUntil` work.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        await runtime.shutdown()
    }
}

extension ServiceGroupConfiguration {
    /// A backstop behind the per-connection shutdown grace: the group cancels the server if draining takes longer.
    func boundedShutdown(_ timeouts: EdgeServer.Timeouts) -> Self {
        var configuration = self
        configuration.maximumGracefulShutdownDuration = timeouts.shutdown + .seconds(2)
        // No `maximumCancellationDuration`: past it ServiceLifecycle stops the whole process with a fatal error.
        return configuration
    }
}

/// The server could not start.
public struct EdgeServerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is, for callers that word it for their own users.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        /// The server did not start listening.
        public static let notListening = Code(name: "notListening")
        /// Another socket already listens on the address and port (`EADDRINUSE`).
        public static let addressInUse = Code(name: "addressInUse")
        /// The code's name.
        public var description: String { name }
    }

    /// What kind of failure it is.
    public let code: Code
    /// What went wrong.
    public let description: String
    init(code: Code = .notListening, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// The request context: Hummingbird's core storage plus the peer address.
struct EdgeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// Hands each Hummingbird request to the runtime, streaming bodies both ways.
struct EdgeResponder: HTTPResponder {
    let runtime: EdgeRuntime
    let logger: Logger

    func respond(to request: Hummingbird.Request, context: EdgeRequestContext) async throws -> Hummingbird.Response {
        let start = ContinuousClock.now
        let body = request.body
        let chunks = ByteStream(RequestChunks(body: body))
        // HEAD is GET without the body (RFC 9110 §9.3.2): the handler sees GET, the client gets the headers.
        let isHead = request.head.method == .head
        var head = request.head
        if isHead { head.method = .get }
        let edgeRequest = Edge.Request(head: head, body: .stream(chunks))
        var response = await runtime.handle(edgeRequest, clientIP: context.remoteAddress)
        if isHead {
            if let bytes = response.body.bufferedBytes, response.headers[.contentLength] == nil {
                response.headers[.contentLength] = String(bytes.count)
            }
            response.body = .empty
        }
        let elapsed = ContinuousClock.now - start
        logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: [
                "status": "\(response.status.code)",
                "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            ])
        return Hummingbird.Response(status: response.status, headers: response.headers, body: Self.body(response.body))
    }

    static func body(_ body: Edge.Body) -> ResponseBody {
        if let bytes = body.bufferedBytes { return ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)) }
        let chunks = body.chunks
        return ResponseBody { writer in
            for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
    }
}

/// The request body as chunks of bytes.
struct RequestChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let body: RequestBody

    func makeAsyncIterator() -> Iterator { Iterator(base: body.makeAsyncIterator()) }

    struct Iterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        mutating func next() async throws -> [UInt8]? {
            guard let buffer = try await base.next() else { return nil }
            return Array(buffer: buffer)
        }
    }
}
