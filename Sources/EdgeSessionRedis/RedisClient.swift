import CHiredis
import Dispatch
import EdgeSession
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small Redis client on hiredis: a fixed set of connections, each owned by its own serial dispatch queue, so the
/// blocking hiredis calls never run on Swift's cooperative pool. Commands are spread over the connections in turn.
///
/// Each connection is opened on first use (with `AUTH` and `SELECT` as configured) and opened again when it broke:
/// a command that finds its connection dropped is retried once on a new one (the commands used here are
/// idempotent). Creating a client sets `SIGPIPE` to be ignored if it still has its default action, since hiredis
/// writes to sockets without `MSG_NOSIGNAL`.
public final class RedisClient: Sendable {
    /// The configuration.
    public let configuration: RedisConfiguration
    private let lanes: [RedisConnectionLane]
    private let nextLane = Atomic<Int>(0)

    /// Creates a client; no connection is made until the first command.
    public init(configuration: RedisConfiguration) {
        Self.ignoreSIGPIPE
        self.configuration = configuration
        lanes = (0..<max(1, configuration.connections)).map {
            RedisConnectionLane(configuration: configuration, index: $0)
        }
    }

    /// Creates a client from a `redis://` URL.
    /// - Throws: ``SessionError`` ``SessionError/Code/invalidConfiguration`` for a bad URL.
    public convenience init(url: String, connections: Int = 4) throws {
        var configuration = try RedisConfiguration(url: url)
        configuration.connections = connections
        self.init(configuration: configuration)
    }

    private static let ignoreSIGPIPE: Void = {
        var current = sigaction()
        guard sigaction(SIGPIPE, nil, &current) == 0 else { return }
        #if canImport(Darwin)
        let isDefault = current.__sigaction_u.__sa_handler == nil
        #else
        let isDefault = current.__sigaction_handler.sa_handler == nil
        #endif
        // An app that installed its own SIGPIPE handler keeps it.
        if isDefault { signal(SIGPIPE, SIG_IGN) }
    }()

    /// Sends one command (binary-safe arguments) and returns the reply; error replies are returned, not thrown.
    /// - Throws: ``RedisError`` ``RedisError/Kind/connection`` when the server cannot be reached.
    public func command(bytes arguments: [[UInt8]]) async throws -> RedisReply {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        let lane = lanes[nextLane.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count]
        return try await lane.run(arguments)
    }

    /// Sends one command of UTF-8 arguments.
    /// - Throws: ``RedisError`` ``RedisError/Kind/connection`` when the server cannot be reached.
    public func command(_ arguments: [String]) async throws -> RedisReply {
        try await command(bytes: arguments.map { Array($0.utf8) })
    }

    /// `GET key`: the value, or nil.
    /// - Throws: ``RedisError``.
    public func get(_ key: String) async throws -> [UInt8]? {
        switch try await command(bytes: [Array("GET".utf8), Array(key.utf8)]) {
        case .bulk(let value): return value
        case .null: return nil
        case let other: throw unexpected(other, for: "GET")
        }
    }

    /// `SET key value EX seconds`.
    /// - Throws: ``RedisError``; seconds must be at least 1.
    public func set(_ key: String, _ value: [UInt8], expiresInSeconds seconds: Int) async throws {
        let reply = try await command(bytes: [
            Array("SET".utf8), Array(key.utf8), value, Array("EX".utf8), Array(String(seconds).utf8),
        ])
        guard case .status("OK") = reply else { throw unexpected(reply, for: "SET") }
    }

    /// `DEL key`; deleting a missing key succeeds.
    /// - Throws: ``RedisError``.
    public func delete(_ key: String) async throws {
        let reply = try await command(bytes: [Array("DEL".utf8), Array(key.utf8)])
        guard case .integer = reply else { throw unexpected(reply, for: "DEL") }
    }

    private func unexpected(_ reply: RedisReply, for command: String) -> RedisError {
        if case .error(let message) = reply {
            return RedisError(.reply, "Redis at \(configuration.address) refused \(command): \(message)")
        }
        return RedisError(.protocolViolation, "Redis at \(configuration.address) answered \(command) with \(reply)")
    }
}

/// One connection and the serial queue that owns it.
final class RedisConnectionLane: @unchecked Sendable {
    // @unchecked: `context` is only read and written by blocks running on `queue` (serial), or in deinit, when no
    // block can be running since each holds a strong reference to the lane.
    private var context: UnsafeMutablePointer<redisContext>?
    private let queue: DispatchQueue
    private let configuration: RedisConfiguration

    init(configuration: RedisConfiguration, index: Int) {
        self.configuration = configuration
        queue = DispatchQueue(label: "edgekv.redis.\(index)")
    }

    deinit {
        if let context { redisFree(context) }
    }

    func run(_ arguments: [[UInt8]]) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.execute(arguments) })
            }
        }
    }

    private func execute(_ arguments: [[UInt8]]) throws -> RedisReply {
        var attempt = 0
        while true {
            attempt += 1
            let connection = try connected()
            if let reply = Self.send(connection, arguments) { return reply }
            // A NULL reply means the connection is broken (dropped by the server, timed out): open a new one.
            let reason = String(cString: chiredis_errstr(connection))
            disconnect()
            if attempt >= 2 {
                throw RedisError(.connection, "the connection to Redis at \(configuration.address) failed: \(reason)")
            }
        }
    }

    private func connected() throws -> UnsafeMutablePointer<redisContext> {
        if let context, chiredis_err(context) == 0 { return context }
        disconnect()
        guard
            let connection = chiredis_connect(
                configuration.host, Int32(configuration.port),
                configuration.connectTimeoutMilliseconds)
        else {
            throw RedisError(.connection, "cannot connect to Redis at \(configuration.address): out of memory")
        }
        if chiredis_err(connection) != 0 {
            let reason = String(cString: chiredis_errstr(connection))
            redisFree(connection)
            throw RedisError(.connection, "cannot connect to Redis at \(configuration.address): \(reason)")
        }
        _ = chiredis_set_timeout(connection, configuration.commandTimeoutMilliseconds)
        do {
            if let password = configuration.password {
                let auth =
                    [Array("AUTH".utf8)] + (configuration.username.map { [Array($0.utf8)] } ?? [])
                    + [Array(password.utf8)]
                try Self.expectOK(Self.send(connection, auth), connection, "AUTH", configuration)
            }
            if configuration.database != 0 {
                let select = [Array("SELECT".utf8), Array(String(configuration.database).utf8)]
                try Self.expectOK(Self.send(connection, select), connection, "SELECT", configuration)
            }
        } catch {
            redisFree(connection)
            throw error
        }
        context = connection
        return connection
    }

    private func disconnect() {
        if let context { redisFree(context) }
        context = nil
    }

    private static func expectOK(
        _ reply: RedisReply?, _ connection: UnsafeMutablePointer<redisContext>, _ command: String,
        _ configuration: RedisConfiguration
    ) throws {
        switch reply {
        case .status("OK")?: return
        case .error(let message)?:
            // The server's text names neither the password nor the user's secrets.
            throw RedisError(.reply, "Redis at \(configuration.address) refused \(command): \(message)")
        case nil:
            let reason = String(cString: chiredis_errstr(connection))
            throw RedisError(
                .connection, "Redis at \(configuration.address) dropped the connection on \(command): \(reason)")
        case let other?:
            throw RedisError(.protocolViolation, "Redis at \(configuration.address) answered \(command) with \(other)")
        }
    }

    /// Sends a command; nil when the connection broke.
    private static func send(_ connection: UnsafeMutablePointer<redisContext>, _ arguments: [[UInt8]]) -> RedisReply? {
        // One buffer for all arguments (plus a byte so that it is never empty), and pointers into it.
        var buffer: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(buffer.count)
            lengths.append(argument.count)
            buffer += argument
        }
        buffer.append(0)
        let raw: UnsafeMutableRawPointer? = buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                var pointers: [UnsafePointer<CChar>?] = offsets.map { chars.baseAddress! + $0 }
                return pointers.withUnsafeMutableBufferPointer { argv in
                    lengths.withUnsafeBufferPointer { argvlen in
                        UnsafeMutableRawPointer(
                            chiredis_command_argv(
                                connection, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress))
                    }
                }
            }
        }
        guard let raw else { return nil }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return convert(reply)
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> [UInt8] {
            guard let str = r.str, r.len > 0 else { return [] }
            return str.withMemoryRebound(to: UInt8.self, capacity: Int(r.len)) {
                Array(UnsafeBufferPointer(start: $0, count: Int(r.len)))
            }
        }
        switch r.type {
        case REDIS_REPLY_STRING: return .bulk(text())
        case REDIS_REPLY_STATUS: return .status(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL: return .null
        case REDIS_REPLY_ARRAY:
            guard let elements = r.element else { return .array([]) }
            return .array((0..<Int(r.elements)).compactMap { elements[$0].map(convert) })
        default: return .error("unknown reply type \(r.type)")
        }
    }
}
