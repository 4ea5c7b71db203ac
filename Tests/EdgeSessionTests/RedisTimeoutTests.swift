import Edge
import EdgeKV
import EdgeSession
import EdgeSessionRedis
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that never accepts a connection and never answers. The kernel completes handshakes
/// into its backlog, so a client connects and then waits for a reply that never comes; once the backlog is full
/// (``fillBacklog()``), the kernel drops further connection attempts, so connecting itself hangs.
final class SilentListener: Sendable {
    let port: Int
    private let descriptors = Mutex<(listener: Int32, fillers: [Int32])?>(nil)

    init(backlog: Int32) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SilentListenerError("socket() failed: errno \(errno)") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            Glibc.close(fd)
            throw SilentListenerError("bind/listen failed: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        descriptors.withLock { $0 = (fd, []) }
    }

    deinit { close() }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Connects until an attempt gets no answer within a second: the backlog is then full. The connections stay
    /// open, unaccepted, until ``close()``.
    func fillBacklog() throws {
        for _ in 0..<64 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw SilentListenerError("socket() failed: errno \(errno)") }
            var address = Self.loopback(port: port)
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if rc != 0 && errno != EINPROGRESS {
                Glibc.close(fd)
                throw SilentListenerError("connect() failed: errno \(errno)")
            }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = rc == 0 ? 1 : poll(&poller, 1, 1000)
            descriptors.withLock { $0?.fillers.append(fd) }
            if ready == 0 { return }  // no answer: the kernel dropped the attempt
        }
        throw SilentListenerError("the backlog never filled")
    }

    /// Closes the listener and the connections waiting in its backlog (their clients then see a reset).
    func close() {
        guard
            let open = descriptors.withLock({ d in
                defer { d = nil }; return d
            })
        else { return }
        for fd in open.fillers { Glibc.close(fd) }
        Glibc.close(open.listener)
    }
}

struct SilentListenerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The Redis client's connect and command timeouts: against a listener that never answers they end the wait with
/// a connection error; against a real redis-server the same short timeouts leave normal use alone.
@Suite("Redis timeouts")
struct RedisTimeoutTests {
    static let context = Context(platform: Platform(env: Env()), request: Request("/"), clock: SystemClock())

    static func store(port: Int, connect: Int = 300, command: Int = 300) -> RedisSessionStore {
        RedisSessionStore(
            client: RedisClient(
                configuration: RedisConfiguration(
                    host: "127.0.0.1", port: port, connectTimeoutMilliseconds: connect,
                    commandTimeoutMilliseconds: command, connections: 1)),
            keyPrefix: TestRedis.uniquePrefix())
    }

    /// Runs `body`, which must fail with a ``RedisError``; returns it and how long it took. Should the client wait
    /// forever, the listener is closed after a minute, which ends the wait and fails the time bound.
    static func failure(
        _ listener: SilentListener, _ body: @escaping @Sendable () async throws -> Void
    ) async throws -> (RedisError, Duration) {
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            listener.close()
        }
        defer { watchdog.cancel() }
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await #require(throws: RedisError.self) { try await body() }
        return (error, clock.now - start)
    }

    // The lower bounds show the client waited for the timeout rather than failing at once for another reason; a
    // loaded machine can only make the wait longer. The upper bound is far below the two minutes the kernel tries
    // to connect for, and above any wait a 300 ms timeout can cause.
    @Test func aServerThatNeverAcceptsFailsTheConnectAfterTheConnectTimeout() async throws {
        let listener = try SilentListener(backlog: 0)
        try listener.fillBacklog()
        let store = Self.store(port: listener.port, command: 30_000)
        let (error, waited) = try await Self.failure(listener) {
            _ = try await store.save(nil, #"{"visits":1}"#, maxAge: 60, context: Self.context)
        }
        #expect(error.kind == .connection)
        #expect(error.description.contains("cannot connect to Redis at 127.0.0.1:\(listener.port)"), "\(error)")
        #expect(waited >= .milliseconds(250), "failed after \(waited), before the 300 ms connect timeout")
        #expect(waited < .seconds(60))
    }

    @Test func aServerThatNeverAnswersFailsTheCommandAfterTheCommandTimeout() async throws {
        let listener = try SilentListener(backlog: 16)
        let store = Self.store(port: listener.port, connect: 30_000)
        let (error, waited) = try await Self.failure(listener) {
            _ = try await store.load(SessionID.generate(), context: Self.context)
        }
        #expect(error.kind == .connection)
        #expect(error.description.contains("the connection to Redis at 127.0.0.1:\(listener.port) failed"), "\(error)")
        #expect(waited >= .milliseconds(250), "failed after \(waited), before the 300 ms command timeout")
        #expect(waited < .seconds(60))
    }

    @Test func shortTimeoutsLeaveARealServerWorking() async throws {
        let url = try TestRedis.requireURL()
        let configuration = try RedisConfiguration(url: url)
        let store = Self.store(port: configuration.port, connect: 300, command: 300)
        let id = try await store.save(nil, #"{"visits":1}"#, maxAge: 60, context: Self.context)
        // Idle for longer than the command timeout: the timeout bounds a command, not the connection's life.
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await store.load(id, context: Self.context)?.data == #"{"visits":1}"#)
        _ = try await store.save(id, #"{"visits":2}"#, maxAge: 60, context: Self.context)
        #expect(try await store.load(id, context: Self.context)?.data == #"{"visits":2}"#)
        try await store.destroy(id, context: Self.context)
        #expect(try await store.load(id, context: Self.context) == nil)
    }
}
