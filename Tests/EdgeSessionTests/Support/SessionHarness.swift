import Edge
import EdgeKV
import EdgeKVSQLite
import EdgeKVTestSupport
import EdgeSession
import EdgeSessionRedis
import Foundation
import HTTPTypes
import Synchronization
import Testing

/// The six stores, for parameterised tests.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case unsigned, signed, encrypted, memory, redis, kv

    var testDescription: String { rawValue }

    /// True for the stores that keep data behind an id.
    var isServerSide: Bool {
        switch self {
        case .memory, .redis, .kv: true
        case .unsigned, .signed, .encrypted: false
        }
    }

    /// True for the cookie stores that embed an expiry.
    var embedsExpiry: Bool { self == .signed || self == .encrypted }

    static let cookieStores: [StoreKind] = [.unsigned, .signed, .encrypted]
    static let serverStores: [StoreKind] = [.memory, .redis, .kv]
}

/// Fixed keys for the cookie stores (from the vectors' key material).
enum TestKeys {
    static let signing = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw"
    static let encryption = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"
}

/// One store behind the session middleware in an in-process ``EdgeRuntime`` on a manual clock.
final class SessionHarness: Sendable {
    let kind: StoreKind
    let clock: ManualClock
    let store: any SessionStore
    let runtime: EdgeRuntime
    let env: Env
    let kv: SQLiteKVStore?
    let namespace: (any KVNamespace)?
    let redis: RedisClient?
    /// A prefix of its own for the Redis keys; every key is written with `EX`, so none outlives its session.
    let redisPrefix: String
    private let recordedErrors = ErrorLog()

    /// Errors that reached the runtime's error handler.
    var errors: [any Error] { recordedErrors.errors }

    init(
        _ kind: StoreKind, maxAge: Int = 3600, rolling: RollingExpiry? = nil,
        defaultData: SessionDefaultData<AppData> = .value(AppData()),
        configure: (inout SessionOptions<AppData>) -> Void = { _ in }
    ) async throws {
        self.kind = kind
        let clock = ManualClock(seconds: testEpoch)
        self.clock = clock
        var kv: SQLiteKVStore?
        var namespace: (any KVNamespace)?
        var redis: RedisClient?
        redisPrefix = TestRedis.uniquePrefix()
        let store: any SessionStore
        switch kind {
        case .unsigned: store = UnsignedCookieStore()
        case .signed: store = try SignedCookieStore(base64Keys: [TestKeys.signing])
        case .encrypted: store = try EncryptedCookieStore(base64Keys: [TestKeys.encryption])
        case .memory: store = UnsafeMemoryStore()
        case .redis:
            let client = try RedisClient(url: try TestRedis.requireURL(), connections: 2)
            redis = client
            store = RedisSessionStore(client: client, keyPrefix: redisPrefix)
        case .kv:
            let sqlite = try await SQLiteKVStore(inMemoryWithClock: clock)
            kv = sqlite
            namespace = sqlite.namespace(id: "sessions")
            store = KvSessionStore { context in try context.env.kv("SESSIONS") }
        }
        self.store = store
        self.kv = kv
        self.namespace = namespace
        self.redis = redis
        env = try Env(kv: namespace.map { ["SESSIONS": $0] } ?? [:])

        var options = SessionOptions(store: .fixed(store), defaultData: defaultData)
        options.maxAge = maxAge
        options.rolling = rolling
        configure(&options)
        let recorded = recordedErrors
        runtime = EdgeRuntime(
            env: env, middleware: [try session(options)], clock: clock,
            errorHandler: { error, request, context in
                recorded.append(error)
                return await defaultErrorHandler(error, request, context)
            },
            handler: testApp)
    }

    /// Sends a request from `browser` and lets the browser take the response's cookies.
    @discardableResult
    func send(
        _ browser: inout Browser, _ method: HTTPRequest.Method, _ target: String, scheme: String = "http",
        headers: HTTPFields = [:]
    ) async -> Response {
        let response = await runtime.handle(browser.request(method, target, scheme: scheme, headers: headers))
        browser.receive(response)
        return response
    }

    /// Sends a GET.
    @discardableResult
    func send(
        _ browser: inout Browser, _ target: String, scheme: String = "http", headers: HTTPFields = [:]
    ) async -> Response {
        await send(&browser, .get, target, scheme: scheme, headers: headers)
    }

    /// A context for calling the store directly.
    func context() -> Context {
        Context(platform: Platform(env: env), request: Request("/"), clock: clock)
    }

    /// What the store holds for a cookie value (the wire form is percent-decoded first, as the runtime does).
    func load(_ wireValue: String) async throws -> StoredSession? {
        let value = wireValue.removingPercentEncoding ?? wireValue
        return try await store.load(value, context: context())
    }

    /// How many entries the backend holds; nil for cookie stores.
    func entryCount() async throws -> Int? {
        switch kind {
        case .unsigned, .signed, .encrypted: return nil
        case .memory: return (store as! UnsafeMemoryStore).count
        case .kv: return try await namespace!.list().keys.count
        case .redis:
            guard case .array(let keys) = try await redis!.command(["KEYS", redisPrefix + "*"]) else { return -1 }
            return keys.count
        }
    }
}

/// Errors collected from the runtime's error handler.
final class ErrorLog: Sendable {
    private let storage = Mutex<[any Error]>([])

    var errors: [any Error] { storage.withLock { $0 } }

    func append(_ error: any Error) { storage.withLock { $0.append(error) } }
}
