import Edge
import EdgeKV
import EdgeSession
import EdgeSessionRedis
import Foundation
import HTTPTypes
import Logging
import Synchronization

/// The session demo that `edgekv serve`, `edgekv replay` and the bundled fixtures use.
///
/// The session store is chosen per request from the platform env: `SESSION_STORE` = `kv` (default; binding
/// `SESSIONS`) | `signed` | `encrypted` | `unsigned` | `memory` | `redis` (`REDIS_URL`); cookie stores take
/// `SESSION_KEYS` (comma-separated keys in base64 or unpadded base64url, the first one signs or encrypts);
/// `SESSION_MAX_AGE` in seconds (default 3600); `SESSION_ROLLING` in seconds turns on rolling expiry.
///
/// | route | behaviour |
/// |---|---|
/// | `GET /` | counts visits: `{"visits": N}` |
/// | `POST /login` `{"user": "alice"}` | sets the user, regenerates the id: `{"user": "alice"}` |
/// | `GET /me` | `{"user", "visits"}` when logged in, else 401 `{"user": null}`; never writes |
/// | `POST /logout` | destroys the session, clears the cookie: `{"user": null}` |
///
/// Every error is JSON `{"error": "…"}`: another method on a route is 405 with `Allow`, a login body without a
/// string `user` is 400 naming the field, an env the demo cannot use is 500 with the `variable` to fix.
public final class DemoApp: Sendable {
    /// What the demo keeps in a session.
    public struct SessionData: Codable, Sendable, Equatable {
        /// Requests to `/` so far.
        public var visits: Int
        /// The logged-in user.
        public var user: String?

        /// An empty session.
        public init(visits: Int = 0, user: String? = nil) {
            self.visits = visits
            self.user = user
        }
    }

    /// The demo's env is not usable: the message names the variable to fix.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        /// The variable.
        public let variable: String
        /// What is wrong with it.
        public let description: String
    }

    /// Stores that must live across requests (the memory store's entries, Redis connections, derived keys).
    private let stores = Mutex<[String: any SessionStore]>([:])

    /// Creates the app.
    public init() {}

    /// The KV bindings the demo expects (they exist empty unless seeded).
    public static let kvBindings = ["SESSIONS"]

    /// A runtime serving the demo; requests get `env` unless the call passes its own.
    public func runtime(
        env: Env = Env(), clock: any KVClock = SystemClock(), logger: Logger = Logger(label: "edgekv.demo"),
        middleware: [any Middleware] = []
    ) -> EdgeRuntime {
        EdgeRuntime(
            env: env, middleware: middleware + [SessionFromEnv(app: self)], clock: clock, logger: logger,
            errorHandler: Self.errorHandler, handler: Self.routes)
    }

    // MARK: Routes

    /// The demo's routes; any other method on these paths is 405 with `Allow`.
    static let router: Router<Handler> = {
        var router = Router<Handler>()
        router.add(.get, "/", visit)
        router.add(.head, "/", visit)
        router.add(.post, "/login", login)
        router.add(.get, "/me", me)
        router.add(.head, "/me", me)
        router.add(.post, "/logout", logout)
        return router
    }()

    static let routes: Handler = { request, context in
        switch router.match(request.method, path: request.path) {
        case .found(let handler, _):
            return try await handler(request, context)
        case .methodNotAllowed(let allowed):
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            throw EdgeError(
                .methodNotAllowed, "\(request.method.rawValue) \(request.path) is not allowed; use \(allow)",
                headers: [.allow: allow])
        case .notFound:
            return try Response.json(["error": "not found"], status: .notFound)
        }
    }

    static let visit: Handler = { _, context in
        let session = try context.session(SessionData.self)
        session.withData { $0.visits = $0.visits.incrementedSaturating }
        return try Response.json(["visits": session.data.visits])
    }

    static let login: Handler = { request, context in
        let session = try context.session(SessionData.self)
        let user = try await loginUser(request)
        session.withData { $0.user = user }
        session.regenerate()
        return try Response.json(["user": user])
    }

    static let me: Handler = { _, context in
        let data = try context.session(SessionData.self).data
        guard let user = data.user else { return try Response.json(UserOnly(user: nil), status: .unauthorized) }
        return try Response.json(Me(user: user, visits: data.visits))
    }

    static let logout: Handler = { _, context in
        try context.session(SessionData.self).destroy()
        return try Response.json(UserOnly(user: nil))
    }

    /// The `user` of a `POST /login` body, `{"user": "alice"}`.
    /// - Throws: ``EdgeError`` 400 naming what is wrong with the body or the field.
    static func loginUser(_ request: Request) async throws -> String {
        let body: JSONValue
        do {
            body = try JSONValue(parsing: try await request.bytes(limit: 64 * 1024))
        } catch is JSONValue.ParseError {
            throw EdgeError(.badRequest, "the request body is not valid JSON; send {\"user\": \"alice\"}")
        }
        guard let fields = body.objectValue else {
            throw EdgeError(.badRequest, "the request body must be a JSON object such as {\"user\": \"alice\"}")
        }
        guard let field = fields["user"], field != .null else { throw EdgeError(.badRequest, "\"user\" is required") }
        guard let user = field.stringValue else { throw EdgeError(.badRequest, "\"user\" must be a string") }
        guard !user.isEmpty else { throw EdgeError(.badRequest, "\"user\" must not be empty") }
        guard user.utf8.count <= DemoApp.maxUserBytes else {
            throw EdgeError(.badRequest, "\"user\" must be at most \(DemoApp.maxUserBytes) bytes")
        }
        return user
    }

    /// The longest user name: a session must still fit the 4096-byte cookie of the cookie stores.
    static let maxUserBytes = 256

    struct UserOnly: Encodable {
        var user: String?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(user, forKey: .user)  // `null`, not absent
        }
        enum CodingKeys: String, CodingKey { case user }
    }

    struct Me: Encodable {
        var user: String
        var visits: Int
    }

    static let errorHandler: ErrorHandler = { error, request, context in
        if let config = error as? ConfigurationError {
            context.logger.error("demo env is invalid", metadata: ["variable": "\(config.variable)"])
            return configurationResponse(config.description, variable: config.variable)
        }
        if let session = error as? SessionError {
            if session.code == .cookieTooLarge {
                return
                    (try? Response.json(
                        ["error": "the session is too large for a cookie store: \(session.message)"],
                        status: .contentTooLarge)) ?? .empty(status: .contentTooLarge)
            }
            if session.isRateLimited {
                return
                    (try? Response.json(
                        ["error": "too many writes to this session: KV allows one write per second per key"],
                        status: .tooManyRequests)) ?? .empty(status: .tooManyRequests)
            }
            if session.code == .invalidKey {
                return configurationResponse(session.message, variable: "SESSION_KEYS")
            }
            if session.code == .invalidConfiguration {
                return configurationResponse(session.message, variable: nil)
            }
        }
        return await defaultErrorHandler(error, request, context)
    }

    /// 500 `{"error": "invalid configuration: …", "variable": "SESSION_KEYS"}`: JSON like every other error, with the
    /// variable to fix when it is known.
    static func configurationResponse(_ message: String, variable: String?) -> Response {
        var body = ["error": "invalid configuration: \(message)"]
        if let variable { body["variable"] = variable }
        return (try? Response.json(body, status: .internalServerError)) ?? .empty(status: .internalServerError)
    }

    // MARK: Store selection

    /// Checks that `env` configures the demo (the store, its keys, the session durations) the way a request would.
    /// - Throws: ``ConfigurationError`` naming the variable to fix.
    public func validate(_ env: Env) throws {
        _ = try options(for: env)
    }

    /// The store and options the env asks for.
    func options(for env: Env) throws -> SessionOptions<SessionData> {
        let kind = env.string("SESSION_STORE") ?? "kv"
        let store: any SessionStore
        switch kind {
        case "kv":
            store = KVSessionStore(binding: "SESSIONS")
        case "memory":
            store = cached("memory") { UnsafeMemoryStore() }
        case "unsigned":
            store = UnsignedCookieStore()
        case "signed", "encrypted":
            guard let keys = env.string("SESSION_KEYS"), !keys.isEmpty else {
                throw ConfigurationError(
                    variable: "SESSION_KEYS",
                    description: "SESSION_KEYS is required for SESSION_STORE=\(kind): comma-separated base64 keys")
            }
            let list = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            do {
                store = try cached("\(kind):\(keys)") {
                    kind == "signed"
                        ? try SignedCookieStore(base64Keys: list) as any SessionStore
                        : try EncryptedCookieStore(base64Keys: list)
                }
            } catch {
                throw ConfigurationError(variable: "SESSION_KEYS", description: "SESSION_KEYS is not usable: \(error)")
            }
        case "redis":
            guard let url = env.string("REDIS_URL"), !url.isEmpty else {
                throw ConfigurationError(
                    variable: "REDIS_URL",
                    description: "REDIS_URL is required for SESSION_STORE=redis (redis://host:port)")
            }
            do {
                store = try cached("redis:\(url)") { try RedisSessionStore(url: url) }
            } catch {
                throw ConfigurationError(variable: "REDIS_URL", description: "REDIS_URL is not usable: \(error)")
            }
        default:
            throw ConfigurationError(
                variable: "SESSION_STORE",
                description:
                    "unknown SESSION_STORE \(String(reflecting: kind)); use kv, signed, encrypted, unsigned, memory or redis"
            )
        }
        var options = SessionOptions(store: store, defaultData: SessionData())
        options.maxAge = try seconds(env, "SESSION_MAX_AGE", in: 1...SessionOptions<SessionData>.maxAgeLimit) ?? 3600
        options.rolling = try seconds(env, "SESSION_ROLLING", in: 0...SessionOptions<SessionData>.maxAgeLimit)
            .map(RollingExpiry.init)
        return options
    }

    func seconds(_ env: Env, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = env.string(name), !text.isEmpty else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name,
                description:
                    "\(name) must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound) "
                    + "(400 days), got \(String(reflecting: text))")
        }
        return value
    }

    func cached(_ key: String, _ make: () throws -> any SessionStore) rethrows -> any SessionStore {
        if let store = stores.withLock({ $0[key] }) { return store }
        let store = try make()
        return stores.withLock { stores in
            if let existing = stores[key] { return existing }
            stores[key] = store
            return store
        }
    }
}

/// Runs the session middleware with the options this request's env asks for.
struct SessionFromEnv: Middleware {
    let app: DemoApp

    func handle(_ request: Request, context: Context, next: Handler) async throws -> Response {
        let middleware = try session(try app.options(for: context.env))
        return try await middleware.handle(request, context: context, next: next)
    }
}
