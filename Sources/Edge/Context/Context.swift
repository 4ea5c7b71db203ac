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
    /// The cookies the request carried (first occurrence of a name wins), parsed when first asked for.
    public var cookies: [String: String] {
        state.withLock { state in
            if let cookies = state.cookies { return cookies }
            var cookies: [String: String] = [:]
            for field in headers where field.name == .cookie {
                CookieParser.parseFirstWins(field.value, into: &cookies)
            }
            state.cookies = cookies
            return cookies
        }
    }

    /// The request's cookie `name` (its first occurrence): ``cookies``[name] without parsing the other cookies.
    public func cookie(_ name: String) -> String? {
        if let cookies = state.withLock({ $0.cookies }) { return cookies[name] }
        for field in headers where field.name == .cookie {
            if let value = CookieParser.firstValue(named: name, in: field.value) { return value }
        }
        return nil
    }

    /// The request's header fields, for its cookies.
    private let headers: HTTPFields

    /// The runtime's tracker, parent of the one this request's `waitUntil` work goes to, which is made on first use.
    private let backgroundParent: BackgroundWork?
    @usableFromInline let state = Mutex(State())

    @usableFromInline
    struct State {
        /// Typed locals: a request has a handful, so a list (the first inline) rather than a dictionary. Each
        /// value sits in a ``LocalBox`` of its key's value type, so reading it back needs no dynamic cast.
        @usableFromInline var firstLocal: Local?
        @usableFromInline var moreLocals: [Local] = []
        /// Queued cookies: the first (usually the only one) inline, the rest in order after it.
        var firstCookie: SetCookie?
        var moreCookies: [SetCookie] = []
        /// The request's cookies once parsed.
        var cookies: [String: String]?
        /// Where `waitUntil` work goes: given at creation, or made on first use.
        var background: BackgroundWork?
        /// Whether work may start as soon as it is added (else it waits for ``Context/releaseBackgroundWork()``).
        var backgroundReleased = true

        @usableFromInline init() {}

        @inlinable
        func local(_ key: ObjectIdentifier) -> AnyObject? {
            if let firstLocal, firstLocal.key == key { return firstLocal.box }
            for entry in moreLocals where entry.key == key { return entry.box }
            return nil
        }

        @inlinable
        mutating func setLocal(_ key: ObjectIdentifier, _ box: AnyObject?) {
            if firstLocal?.key == key {
                if let box {
                    firstLocal?.box = box
                } else {
                    firstLocal = moreLocals.isEmpty ? nil : moreLocals.removeFirst()
                }
            } else if let index = moreLocals.firstIndex(where: { $0.key == key }) {
                if let box { moreLocals[index].box = box } else { moreLocals.remove(at: index) }
            } else if let box {
                if firstLocal == nil {
                    firstLocal = Local(key: key, box: box)
                } else {
                    moreLocals.append(Local(key: key, box: box))
                }
            }
        }
    }

    /// A typed local under its key.
    @usableFromInline
    struct Local {
        @usableFromInline let key: ObjectIdentifier
        @usableFromInline var box: AnyObject

        @inlinable
        init(key: ObjectIdentifier, box: AnyObject) {
            self.key = key
            self.box = box
        }
    }

    @usableFromInline
    final class LocalBox<Value: Sendable>: Sendable {
        @usableFromInline let value: Value
        @inlinable init(_ value: Value) { self.value = value }
    }

    /// Creates a context. Runtimes make these; tests may too.
    public convenience init(
        platform: Platform, request: Request, clientIP: String = "127.0.0.1", clock: any KVClock = SystemClock(),
        logger: Logger = Logger(label: "edge"), background: BackgroundWork = BackgroundWork()
    ) {
        self.init(
            platform: platform, request: request, clientIP: clientIP, clock: clock, logger: logger,
            backgroundParent: nil, background: background)
    }

    /// A runtime's context: `waitUntil` work is tracked under `backgroundParent` and held back until
    /// ``releaseBackgroundWork()``; the tracker is only made when a handler calls `waitUntil`.
    convenience init(
        platform: Platform, request: Request, clientIP: String, clock: any KVClock, logger: Logger,
        backgroundParent: BackgroundWork
    ) {
        self.init(
            platform: platform, request: request, clientIP: clientIP, clock: clock, logger: logger,
            backgroundParent: backgroundParent, background: nil)
    }

    private init(
        platform: Platform, request: Request, clientIP: String, clock: any KVClock, logger: Logger,
        backgroundParent: BackgroundWork?, background: BackgroundWork?
    ) {
        self.platform = platform
        self.clientIP = clientIP
        self.clock = clock
        self.logger = logger
        self.backgroundParent = backgroundParent
        headers = request.headers
        state.withLock { state in
            state.background = background
            // A tracker given at creation starts work at once; one made on first use holds it back.
            state.backgroundReleased = background != nil
        }
    }

    /// The env: KV namespaces and vars.
    public var env: Env { platform.env }

    /// Typed values left by middleware.
    @inlinable
    public subscript<Key: ContextLocalKey>(local key: Key.Type) -> Key.Value? {
        get {
            // Only this subscript stores under the key, always a box of `Key.Value`.
            state.withLock { $0.local(ObjectIdentifier(key)) }.map {
                unsafeDowncast($0, to: LocalBox<Key.Value>.self).value
            }
        }
        set {
            let box = newValue.map { LocalBox($0) }
            state.withLock { $0.setLocal(ObjectIdentifier(key), box) }
        }
    }

    /// Runs `work` after the response, like a Worker's `ctx.waitUntil`. The runtime awaits it before it shuts
    /// down (and, when asked, before the invocation returns).
    public func waitUntil(_ work: @escaping @Sendable () async -> Void) {
        let tracker = state.withLock { state in
            if let background = state.background { return background }
            let background = BackgroundWork(parent: backgroundParent, holding: !state.backgroundReleased)
            state.background = background
            return background
        }
        tracker.add(work)
    }

    /// Queues a `Set-Cookie` that the runtime appends to the response after the handler returns.
    /// - Throws: ``CookieError`` for an invalid name, value or attribute.
    public func setCookie(_ name: String, _ value: String, options: CookieOptions = CookieOptions()) throws {
        setCookie(try SetCookie(name: name, value: value, options: options))
    }

    /// Queues a validated `Set-Cookie` that the runtime appends to the response after the handler returns.
    public func setCookie(_ cookie: SetCookie) {
        state.withLock { state in
            if state.firstCookie == nil { state.firstCookie = cookie } else { state.moreCookies.append(cookie) }
        }
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
    public var outgoingCookies: [SetCookie] {
        state.withLock { state in (state.firstCookie.map { [$0] } ?? []) + state.moreCookies }
    }

    /// The queued cookies, in order, without gathering them into one array.
    func forEachOutgoingCookie(_ body: (SetCookie) -> Void) {
        let (first, more) = state.withLock { ($0.firstCookie, $0.moreCookies) }
        if let first { body(first) }
        more.forEach(body)
    }

    /// Starts the `waitUntil` work held back so far; work added from now on starts at once.
    func releaseBackgroundWork() {
        state.withLock { state in
            state.backgroundReleased = true
            return state.background
        }?.release()
    }

    /// Waits for this request's `waitUntil` work.
    func waitForBackgroundWork() async {
        await state.withLock { $0.background }?.wait()
    }

    /// Drops every queued cookie (e.g. when the request failed).
    func clearOutgoingCookies() {
        state.withLock { state in
            state.firstCookie = nil
            state.moreCookies.removeAll()
        }
    }
}
