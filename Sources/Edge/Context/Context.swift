import EdgeKV
import HTTPTypes
import Logging
import Synchronization

/// A key for a typed value that middleware leaves in ``Context/locals`` for later middleware and handlers.
public protocol ContextLocalKey {
    /// The stored value's type.
    associatedtype Value: Sendable
}

/// Everything a handler gets besides the request: the platform env, cookies, `waitUntil`, typed locals.
///
/// One per request; safe to share with child tasks.
public final class Context: Sendable {
    /// The platform and its env.
    public let platform: Platform
    /// The client's address (`CF-Connecting-IP` when a proxy sets it, else the peer, else `127.0.0.1`).
    public let clientIP: String
    /// The clock every expiry decision of this request reads (a manual clock under replay).
    public let clock: any KVClock
    /// The request's logger.
    public let logger: Logger
    /// The cookies the request carried (first occurrence of a name wins).
    public let cookies: [String: String]

    let background: BackgroundWork
    private let state = Mutex(State())

    struct State {
        var locals: [ObjectIdentifier: any Sendable] = [:]
        var outgoingCookies: [SetCookie] = []
    }

    /// Creates a context. Runtimes make these; tests may too.
    public init(
        platform: Platform, request: Request, clientIP: String = "127.0.0.1", clock: any KVClock = SystemClock(),
        logger: Logger = Logger(label: "edge"), background: BackgroundWork = BackgroundWork()
    ) {
        self.platform = platform
        self.clientIP = clientIP
        self.clock = clock
        self.logger = logger
        self.background = background
        var cookies: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for (name, value) in CookieParser.parse(header) where cookies[name] == nil { cookies[name] = value }
        }
        self.cookies = cookies
    }

    /// The env: KV namespaces and vars.
    public var env: Env { platform.env }

    /// Typed values left by middleware.
    public subscript<Key: ContextLocalKey>(local key: Key.Type) -> Key.Value? {
        get { state.withLock { $0.locals[ObjectIdentifier(key)] as? Key.Value } }
        set { state.withLock { $0.locals[ObjectIdentifier(key)] = newValue } }
    }

    /// Runs `work` after the response, like a Worker's `ctx.waitUntil`. The runtime awaits it before it shuts
    /// down (and, when asked, before the invocation returns).
    public func waitUntil(_ work: @escaping @Sendable () async -> Void) {
        background.add(work)
    }

    /// Queues a `Set-Cookie` that the runtime appends to the response after the handler returns.
    /// - Throws: ``CookieError`` for an invalid name, value or attribute.
    public func setCookie(_ name: String, _ value: String, options: CookieOptions = CookieOptions()) throws {
        let cookie = try SetCookie(name: name, value: value, options: options)
        state.withLock { $0.outgoingCookies.append(cookie) }
    }

    /// Queues a cookie that deletes `name` (empty value, `Max-Age=0`).
    /// - Throws: ``CookieError`` for an invalid name or attribute.
    public func deleteCookie(_ name: String, options: CookieOptions = CookieOptions()) throws {
        var options = options
        options.maxAge = 0
        options.expires = nil
        try setCookie(name, "", options: options)
    }

    /// The cookies queued so far.
    public var outgoingCookies: [SetCookie] { state.withLock { $0.outgoingCookies } }

    /// Drops every queued cookie (e.g. when the request failed).
    func clearOutgoingCookies() { state.withLock { $0.outgoingCookies.removeAll() } }
}
