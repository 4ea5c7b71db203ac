import Edge
import EdgeHTTP
import EdgeKV
import EdgeKVAPI
import EdgeKVSQLite
import Foundation
import HTTPTypes
import Logging
import Synchronization

/// A logger that drops everything, so that access logs do not flood the test output.
public let quietLogger = Logger(label: "edgekv-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Where the tests' manual clocks start, and the fixtures' default `now`: 2026-01-01T00:00:00Z, in epoch seconds.
public let testEpoch: Int64 = 1_767_225_600

/// The account id in the KV API tests' paths (the API serves any account id unless one is pinned).
public let testAccount = "023e105f4ecef8ad9ca31a8372d0c353"

/// Serves `runtime` on 127.0.0.1 (an ephemeral port) with ``quietLogger`` for the duration of `body`, then stops
/// the server gracefully (awaiting `waitUntil` work), also when `body` throws.
public func withServer<T>(
    _ runtime: EdgeRuntime, timeouts: EdgeServer.Timeouts = EdgeServer.Timeouts(),
    _ body: (RunningEdgeServer) async throws -> T
) async throws -> T {
    try await EdgeServer(
        runtime: runtime,
        configuration: EdgeServer.Configuration(host: "127.0.0.1", port: 0, logger: quietLogger, timeouts: timeouts)
    ).withRunning(body)
}

/// One request as a test server saw it arrive.
public struct ReceivedRequest: Sendable {
    /// The method (`GET`, `PUT`, …).
    public let method: String
    /// The request target as sent (path and query).
    public let target: String
    /// The target's path, without the query.
    public let path: String
    /// When it reached the handler.
    public let arrival: ContinuousClock.Instant
}

/// The requests a test server received, in order.
public final class RequestLog: Sendable {
    private let requests = Mutex<[ReceivedRequest]>([])

    /// Creates an empty log.
    public init() {}

    /// Records a request and returns its number (from 0).
    public func record(_ request: Request) -> Int {
        let entry = ReceivedRequest(
            method: request.method.rawValue, target: request.target, path: request.path, arrival: .now)
        return requests.withLock { all in
            all.append(entry)
            return all.count - 1
        }
    }

    /// Every request so far.
    public var all: [ReceivedRequest] { requests.withLock { $0 } }

    /// How many requests arrived.
    public var count: Int { requests.withLock { $0.count } }

    /// The time between consecutive arrivals: what the client waited, plus a round trip.
    public var gaps: [Duration] {
        let arrivals = all.map(\.arrival)
        return zip(arrivals.dropFirst(), arrivals).map { $0 - $1 }
    }
}

/// The Cloudflare KV REST API (``KVAPI``) served over a real socket on 127.0.0.1 (an ephemeral port) from a SQLite
/// store, every request logged in ``requests`` and, when asked, passed through an interceptor that can answer in
/// the API's place (a fault, a stall). Requests sent through ``client`` are the bytes a client sends and sees.
public struct APIServer: Sendable {
    /// Decides the answer to request number `index` (from 0); `api` is the API's own handler.
    public typealias Intercept =
        @Sendable (
            _ index: Int, _ request: Request, _ context: Context, _ api: @escaping Handler
        ) async throws -> Response

    /// The state behind the API.
    public let store: SQLiteKVStore
    /// The clock the store and the runtime read.
    public let clock: any KVClock
    /// The running server.
    public let server: RunningEdgeServer
    /// A client for the server.
    public let client: HTTPTestClient
    /// What arrived.
    public let requests: RequestLog
    /// The directory holding the store's state file, kept for as long as the server is in use.
    let directory: TemporaryDirectory?
    /// The account id in ``root``.
    public var account = testAccount
    /// Header lines sent with every request (credentials, say).
    public var defaultHeaders: [(name: String, value: String)] = []

    /// `/client/v4/accounts/{account}/storage/kv/namespaces`.
    public var root: String { "/client/v4/accounts/\(account)/storage/kv/namespaces" }

    /// Serves the API over `store` on `clock`, runs `body`, and stops the server, even when `body` throws.
    public static func with<T>(
        store: SQLiteKVStore, clock: any KVClock, configuration: KVAPI.Configuration = KVAPI.Configuration(),
        intercept: Intercept? = nil, _ body: (APIServer) async throws -> T
    ) async throws -> T {
        try await with(
            store: store, clock: clock, directory: nil, configuration: configuration, intercept: intercept, body)
    }

    /// Serves the API for `configuration` from a fresh SQLite state file on a ``ManualClock`` standing at
    /// ``testEpoch``, runs `body`, and stops the server, even when `body` throws.
    public static func with<T>(
        _ configuration: KVAPI.Configuration = KVAPI.Configuration(), _ body: (APIServer) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        let clock = ManualClock(seconds: testEpoch)
        let store = try await SQLiteKVStore(directory: directory.path, clock: clock)
        return try await with(
            store: store, clock: clock, directory: directory, configuration: configuration, intercept: nil, body)
    }

    private static func with<T>(
        store: SQLiteKVStore, clock: any KVClock, directory: TemporaryDirectory?, configuration: KVAPI.Configuration,
        intercept: Intercept?, _ body: (APIServer) async throws -> T
    ) async throws -> T {
        let api = KVAPI(namespaces: store, configuration: configuration).handler
        let requests = RequestLog()
        let handler: Handler = { request, context in
            let index = requests.record(request)
            guard let intercept else { return try await api(request, context) }
            return try await intercept(index, request, context, api)
        }
        return try await withServer(EdgeRuntime(clock: clock, logger: quietLogger, handler: handler)) { server in
            try await body(
                APIServer(
                    store: store, clock: clock, server: server, client: HTTPTestClient(port: server.port),
                    requests: requests, directory: directory))
        }
    }

    /// Moves the server's clock forward by `seconds`.
    /// - Precondition: the server runs on a ``ManualClock`` (as ``with(_:_:)`` makes it).
    public func advance(seconds: Int64) {
        guard let manual = clock as? ManualClock else {
            preconditionFailure("the server does not run on a ManualClock")
        }
        manual.advance(seconds: seconds)
    }

    /// The same server, with `headers` (credentials, say) sent on every request.
    public func sending(_ headers: [(name: String, value: String)]) -> APIServer {
        var copy = self
        copy.defaultHeaders += headers
        return copy
    }

    /// Sends `method` to ``root`` + `path` (`""`, `"/NS/keys?limit=10"`, …) with ``defaultHeaders`` first.
    public func send(
        _ method: String, _ path: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPTestResponse {
        try await client.request(method, root + path, headers: defaultHeaders + headers, body: body)
    }

    /// Sends a JSON body (`Content-Type: application/json`).
    public func send(_ method: String, _ path: String, json: String) async throws -> HTTPTestResponse {
        try await send(method, path, headers: [("Content-Type", "application/json")], body: Array(json.utf8))
    }

    /// Sends `target` as is (no ``root`` in front).
    public func sendRaw(
        _ method: String, _ target: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil
    ) async throws -> HTTPTestResponse {
        try await client.request(method, target, headers: defaultHeaders + headers, body: body)
    }

    /// Sends the head of a request that declares a JSON body of `declaredLength` bytes, then only `sent` of it, and
    /// reads the answer: one the server can give only if it answers before the body is complete (else the read
    /// times out and this throws).
    public func sendPartial(
        _ method: String, _ path: String, declaredLength: Int, sent: [UInt8]
    ) async throws -> HTTPTestResponse {
        var head = "\(method) \(root)\(path) HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nConnection: close\r\n"
        for (name, value) in defaultHeaders { head += "\(name): \(value)\r\n" }
        head += "Content-Type: application/json\r\nContent-Length: \(declaredLength)\r\n\r\n"
        return try await HTTPTestClient(port: server.port, timeout: .seconds(20)).send(raw: Array(head.utf8) + sent)
    }

    /// The namespace `id` straight from the store, to check what a request changed (or did not).
    public func kv(_ id: String) -> any KVNamespace { store.namespace(id: id) }

    /// Every key, value, metadata and expiration of namespace `id`, straight from the store.
    public func snapshot(_ id: String) async throws -> [String: KVEntry] {
        var names: [String] = []
        for try await key in kv(id).listAll() { names.append(key.name) }
        return try await kv(id).readEntries(names)
    }
}
